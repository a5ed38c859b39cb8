/**
 * The ComS2T pipeline (coms2t.md §3) on a time-of-day OOD split:
 * 0. full Graph WaveNet training without prompts (train windows, best-validation selection, weights kept after
 *    every epoch) — its best-validation model is also the plain-GWN baseline;
 * split: the last ≤10 epoch checkpoints → stable / dynamic tensors (weight-split.ts);
 * 1a. prompt pre-training (encoder only, prompt objective on the training windows);
 * 1b. prompt-conditioned training of the dynamic tensors, BatchNorm, node embeddings, prompt projections and
 *     encoder (forecast loss), stable tensors frozen at their Stage-0 values (best-validation Stage-0 model;
 *     option `reinit`: at a fresh initialisation, as the code's `retrain = 1`); best-validation epoch kept;
 * 2. test-time adaptation: the prompt objective on the prompt windows (split.ts), encoder only; then test.
 * Optimiser at the stage transitions, as the authors' code does (hqh0728/ComS2T, commit f818815: `engine.py`
 * `set_opt` builds a new `optim.Adam(model.parameters(), lr, weight_decay)`; `train.py` calls it before the prompt
 * pre-training, before `finetune_instable` (Stage 1b, with `retrain` 0 or 1) and before the test-time prompt
 * fine-tuning): every stage starts a FRESH Adam (zero moments, step count 0), with no warm-up and no learning
 * rate schedule; Stage 1b uses the same lr as Stage 0 there (`--learning_rate`, 1e-4 in run_pm2_5.sh). Here
 * Stage 1b has its own `stage1LearningRate` (default the paper's 1e-4) because reduced budgets train Stage 0
 * at a larger lr; at 1e-4 a fresh Adam's first steps move each weight by at most ~1e-4, so restarting the
 * moments does not kick the Stage-0 weights (issue #14: at lr 0.003 every model trained on from Stage 0
 * lost validation accuracy).
 * Prompt stages (1a, 2) as the code: the same Adam settings as every stage (set_opt keeps `--learning_rate` 1e-4
 * and `--weight_decay` 1e-4, engine.py lines 98–103) and clip 5 over the encoder (`train_prompt`, line 119).
 * `reinit` (train.py `--retrain`, default 1, line 45): `finetune_instable` calls `engine.set_model()` (train.py
 * line 244, engine.py line 96), which builds a whole new gwnet — backbone AND prompt encoder and projections at a
 * fresh random init — so Stage 1a's result is discarded and the frozen stable tensors sit at that init. Here
 * `reinit` starts Stage 1b from initialGwnWeights / initialPromptWeights of the seed `<seed>-reinit` and skips
 * Stage 1a (its result would be thrown away); `keep` (default, coms2t.md §3: the paper's idea) is `--retrain 0`.
 * Ablations: `hip` no freezing, `ssl` no Stages 1a and 2, `pmt` no prompts, `ttf` no Stage 2.
 * Every stage runs on the training engine (src/nn): Stage 0 on GwnEngineSession (trainGwn), Stages 1a/2 in
 * prompt-training.ts, Stage 1b and the prompt-conditioned forecasts in stage-one.ts / prompted-gwn.ts.
 */
import { initialGwnWeights, type GraphWaveNetConfig, type GwnWeights } from '../gwn-config.js';
import { forecastGwn, trainGwn, type EpochRecord, type TrainedGwn } from '../gwn-trainer.js';
import { horizonMetrics, type ForecastMetrics } from '../metrics.js';
import { targetsOf, type PreparedTraffic } from '../gwn-data.js';
import { HORIZON_STEPS, STEPS_PER_DAY_5MIN, chronologicalSplit } from '../../tasks/traffic/windows.js';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import type { PromptFeatureContext } from './features.js';
import { fitScaler } from '../../tasks/traffic/scaler.js';
import { initialPromptWeights } from './prompt-encoder.js';
import { promptObjective, trainPromptEncoder } from './prompt-training.js';
import { spectralCoordinates } from './spectral.js';
import { timeOfDaySplit, type TimeOfDaySplit } from './split.js';
import { StageOneSession } from './stage-one.js';
import { DEFAULT_WEIGHT_SPLIT, MAX_SPLIT_CHECKPOINTS, splitWeights, type WeightSplit, type WeightSplitOptions } from './weight-split.js';

export const ABLATIONS = ['none', 'hip', 'ssl', 'pmt', 'ttf'] as const;
export type Ablation = (typeof ABLATIONS)[number];

export interface ComS2TOptions {
  readonly seed: number;
  readonly config: Partial<GraphWaveNetConfig>;
  readonly stage0Epochs: number;
  readonly stage1Epochs: number;
  readonly promptEpochs: number;
  readonly batchSize: number;
  /** Stage 0 */
  readonly learningRate: number;
  /** Stage 1b (a fresh Adam, as the authors' code; see the file comment) */
  readonly stage1LearningRate: number;
  readonly promptLearningRate: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  readonly promptDim: number;
  readonly split: WeightSplitOptions;
  /** Stage-1b start: Stage-0 values (default, `--retrain 0`) or a fresh init of every tensor (the code's `--retrain 1`) */
  readonly stage1Init: 'keep' | 'reinit';
  /** optimiser-step cap per GWN epoch (reduced budgets) */
  readonly maxStepsPerEpoch?: number;
  /** early stopping of Stages 0 and 1b on validation MAE (gwn-trainer.ts); epochs are then maxima */
  readonly patience?: number;
  readonly onEpoch?: (stage: string, record: EpochRecord) => void;
}

export const DEFAULT_COMS2T: Omit<ComS2TOptions, 'seed'> = {
  config: {},
  stage0Epochs: 20,
  stage1Epochs: 20,
  promptEpochs: 5,
  batchSize: 64,
  learningRate: 1e-4,
  stage1LearningRate: 1e-4,
  // the code has one lr for every stage (set_opt keeps it): 1e-4
  promptLearningRate: 1e-4,
  weightDecay: 1e-4,
  clipNorm: 5,
  promptDim: 32,
  split: DEFAULT_WEIGHT_SPLIT,
  stage1Init: 'keep',
};

export interface ComS2TSetup {
  readonly prepared: PreparedTraffic;
  readonly split: TimeOfDaySplit;
  readonly context: PromptFeatureContext;
}

/** The time-of-day split, a scaler fitted on the training windows' steps, and the spectral coordinates. */
export function setupComS2T(network: TrafficNetwork, stepsPerDay = STEPS_PER_DAY_5MIN): ComS2TSetup {
  const split = timeOfDaySplit(network.steps, stepsPerDay);
  const scaler = fitScaler(network, { windows: split.train });
  // `splits` is the chronological split PreparedTraffic carries; every call here passes its own sample lists
  const prepared: PreparedTraffic = { network, splits: chronologicalSplit(network.steps), scaler, stepsPerDay };
  const coordinates = spectralCoordinates(network.adjacency, network.sensorIds.length);
  return { prepared, split, context: { network, scaler, stepsPerDay, coordinates } };
}

export interface StageZeroResult {
  /** best-validation model (the plain-GWN baseline) */
  readonly trained: TrainedGwn;
  /** the last ≤10 epoch checkpoints */
  readonly checkpoints: readonly GwnWeights[];
}

export async function runStageZero(setup: ComS2TSetup, options: ComS2TOptions): Promise<StageZeroResult> {
  const checkpoints: GwnWeights[] = [];
  const trained = await trainGwn(setup.prepared, {
    epochs: options.stage0Epochs,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    seed: options.seed,
    config: options.config,
    trainSamples: setup.split.train,
    valSamples: setup.split.val,
    ...(options.maxStepsPerEpoch === undefined ? {} : { maxStepsPerEpoch: options.maxStepsPerEpoch }),
    ...(options.patience === undefined ? {} : { patience: options.patience }),
    onEpoch: (record) => options.onEpoch?.('stage 0', record),
    onEpochWeights: (_epoch, weights) => {
      checkpoints.push(weights);
      if (checkpoints.length > MAX_SPLIT_CHECKPOINTS) checkpoints.shift();
    },
  });
  return { trained, checkpoints };
}

export interface ComS2TModel {
  readonly config: GraphWaveNetConfig;
  /** GWN tensors and (unless `pmt`) prompt tensors */
  readonly weights: GwnWeights;
  readonly prompts: boolean;
}

export interface ComS2TResult {
  readonly ablation: Ablation;
  readonly weightSplit: WeightSplit;
  /** names of the tensors frozen in Stage 1b */
  readonly frozen: readonly string[];
  readonly promptPretrainLosses: readonly number[];
  readonly stage1: { readonly history: readonly EpochRecord[]; readonly bestEpoch: number };
  /** prompt objective on the prompt windows before and after Stage 2 (z-score units) */
  readonly promptObjective?: { readonly before: number; readonly after: number };
  /** the model after Stage 1b (before test-time adaptation) */
  readonly beforeAdaptation: ComS2TModel;
  /** the final model (after Stage 2 unless `ssl`/`ttf`/`pmt`) */
  readonly model: ComS2TModel;
}

/** Split, Stage 1a, 1b and 2 after a shared Stage 0. */
export async function runComS2TStages(setup: ComS2TSetup, stageZero: StageZeroResult, options: ComS2TOptions, ablation: Ablation): Promise<ComS2TResult> {
  const config = stageZero.trained.config;
  const weightSplit = splitWeights(stageZero.checkpoints, options.split);
  const prompts = ablation !== 'pmt';
  const reinit = options.stage1Init === 'reinit';
  const promptStep = { batchSize: options.batchSize, learningRate: options.promptLearningRate, weightDecay: options.weightDecay, clipNorm: options.clipNorm };
  // reinit: the code's set_model re-creates the prompt networks too, so Stage 1a's result would be discarded
  let promptWeights = initialPromptWeights(reinit ? `${options.seed}-reinit` : `${options.seed}`, options.promptDim);
  let promptPretrainLosses: readonly number[] = [];
  if (prompts && ablation !== 'ssl' && !reinit) {
    const pretrained = await trainPromptEncoder(promptWeights, setup.context, setup.split.train, { ...promptStep, epochs: options.promptEpochs, seed: `${options.seed}-1a` });
    promptWeights = pretrained.weights;
    promptPretrainLosses = pretrained.losses;
  }
  const stageZeroWeights = stageZero.trained.weights;
  const start = reinit ? initialGwnWeights(config, 2, `${options.seed}-reinit`) : stageZeroWeights;
  const frozen = new Set(ablation === 'hip' ? [] : weightSplit.stable);
  const stage1 = await trainGwn(setup.prepared, {
    epochs: options.stage1Epochs,
    batchSize: options.batchSize,
    learningRate: options.stage1LearningRate,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    seed: `${options.seed}-1b`,
    config,
    trainSamples: setup.split.train,
    valSamples: setup.split.val,
    ...(options.maxStepsPerEpoch === undefined ? {} : { maxStepsPerEpoch: options.maxStepsPerEpoch }),
    ...(options.patience === undefined ? {} : { patience: options.patience }),
    onEpoch: (record) => options.onEpoch?.(`stage 1b (${ablation})`, record),
    // a new session, hence a fresh Adam: the code's set_opt at the Stage 0 → 1b transition
    sessionFactory: () =>
      new StageOneSession(setup.prepared, setup.context, {
        seed: `${options.seed}-1b`,
        learningRate: options.stage1LearningRate,
        clipNorm: options.clipNorm,
        config,
        weights: prompts ? { ...start, ...promptWeights } : start,
        prompts,
        frozen: (name) => frozen.has(name),
        ...(ablation === 'hip' ? {} : { elementMasks: weightSplit.elementMasks }),
      }),
  });
  const beforeAdaptation: ComS2TModel = { config, weights: stage1.weights, prompts };
  let model = beforeAdaptation;
  let objective: ComS2TResult['promptObjective'];
  if (prompts && ablation !== 'ssl' && ablation !== 'ttf') {
    const before = await promptObjective(stage1.weights, setup.context, setup.split.prompt);
    // trainPromptEncoder builds a new Trainer, hence a fresh Adam again (set_opt before the test-time fine-tuning)
    const adapted = await trainPromptEncoder(stage1.weights, setup.context, setup.split.prompt, { ...promptStep, epochs: options.promptEpochs, seed: `${options.seed}-2` });
    objective = { before, after: await promptObjective(adapted.weights, setup.context, setup.split.prompt) };
    model = { config, weights: adapted.weights, prompts };
  }
  return { ablation, weightSplit, frozen: [...frozen].sort(), promptPretrainLosses, stage1: { history: stage1.history, bestEpoch: stage1.bestEpoch }, ...(objective ? { promptObjective: objective } : {}), beforeAdaptation, model };
}

/** Forecasts [samples, 12, N] in original units of a ComS2T (or plain GWN, `prompts: false`) model. */
export async function forecastComS2T(setup: ComS2TSetup, model: ComS2TModel, samples: readonly number[]): Promise<Float64Array> {
  if (!model.prompts) return forecastGwn(setup.prepared, model, samples);
  const session = new StageOneSession(setup.prepared, setup.context, { seed: 0, learningRate: 0, clipNorm: 1, config: model.config, weights: model.weights, prompts: true });
  try {
    return await session.forecast(samples);
  } finally {
    session.dispose();
  }
}

export interface HorizonReport {
  readonly all: ForecastMetrics;
  readonly h3: ForecastMetrics;
  readonly h6: ForecastMetrics;
  readonly h12: ForecastMetrics;
}

/** Masked metrics (12-step average and horizons 3/6/12) of a model on `samples`. */
export async function evaluateComS2T(setup: ComS2TSetup, model: ComS2TModel, samples: readonly number[]): Promise<HorizonReport> {
  const predicted = await forecastComS2T(setup, model, samples);
  const truth = targetsOf(setup.prepared, samples);
  const layout = { samples: samples.length, horizons: HORIZON_STEPS, nodes: setup.prepared.network.sensorIds.length };
  const at = (h: number | 'all') => horizonMetrics(predicted, truth, layout, h);
  return { all: at('all'), h3: at(3), h6: at(6), h12: at(12) };
}

export interface ComS2TRun {
  readonly stageZero: StageZeroResult;
  readonly result: ComS2TResult;
  readonly plainGwnTest: HorizonReport;
  readonly test: HorizonReport;
}

/** Stage 0 then the stages of one ablation, with test metrics of the plain GWN and of the final model. */
export async function runComS2T(setup: ComS2TSetup, options: ComS2TOptions, ablation: Ablation): Promise<ComS2TRun> {
  const stageZero = await runStageZero(setup, options);
  const result = await runComS2TStages(setup, stageZero, options, ablation);
  const plainGwnTest = await evaluateComS2T(setup, { config: stageZero.trained.config, weights: stageZero.trained.weights, prompts: false }, setup.split.test);
  const test = await evaluateComS2T(setup, result.model, setup.split.test);
  return { stageZero, result, plainGwnTest, test };
}
