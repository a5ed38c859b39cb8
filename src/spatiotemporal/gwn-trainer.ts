/**
 * Training and forecasting of Graph WaveNet under the 12-in/12-out protocol (spatiotemporal.md §1 "Training
 * defaults", §2): Adam with L2 weight decay, gradient-norm clip, loss = masked MAE on inverse-scaled
 * predictions, model selection on the validation masked MAE. The optimiser step lives in `GwnEngineSession`
 * (gwn-engine-session.ts, on the training engine); the epochs run in the one loop (src/nn/fit.ts through
 * gwn-fit.ts) on the standard chronological split (or given sample lists) with early stopping: `epochs` is a
 * maximum, training stops once the validation MAE has not improved for `patience` epochs (LargeST uses patience
 * 30 with up to 100 epochs), and the best-validation epoch's weights are returned (restore-best). Every epoch's
 * train and validation MAE is kept as the learning curve.
 *
 * A caller with a session of its own (ComS2T's prompt-conditioned Stage 1b, the tfjs reference of the
 * equivalence script) passes `sessionFactory`.
 */
import { ModelevoError } from '../core/errors.js';
import type { SampleRange } from '../tasks/traffic/windows.js';
import type { GraphWaveNetConfig, GwnWeights } from './gwn-config.js';
import { rangeIndices, type PreparedTraffic } from './gwn-data.js';
import { GwnEngineSession, type GwnEngineSessionOptions, type GwnSession, type GwnWorkers } from './gwn-engine-session.js';
import { fitSamples } from './gwn-fit.js';

export { buildInputs, prepareTraffic, type PreparedTraffic } from './gwn-data.js';

export interface GwnTrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  readonly seed: number | string;
  readonly config?: Partial<GraphWaveNetConfig>;
  /** optional cap on optimiser steps per epoch (reduced budgets) */
  readonly maxStepsPerEpoch?: number;
  /** stop starting new steps after this many seconds of training (reduced budgets); the epoch is then scored */
  readonly maxSeconds?: number;
  readonly onEpoch?: (record: EpochRecord) => void;
  /** training / validation samples (default: the chronological split's train and val ranges) */
  readonly trainSamples?: readonly number[];
  readonly valSamples?: readonly number[];
  /** DropConnect probability during training (0 = off) */
  readonly dropConnect?: number;
  /** session hooks: warm start, frozen tensors, a gradient hook */
  readonly session?: Omit<GwnEngineSessionOptions, 'seed' | 'learningRate' | 'clipNorm' | 'config' | 'workers'>;
  /** receives every epoch's weights (ComS2T's weight-fluctuation split uses the last epochs) */
  readonly onEpochWeights?: (epoch: number, weights: GwnWeights) => void;
  /** number of the first epoch run here (a resumed run continues its numbering; default 1) */
  readonly firstEpoch?: number;
  /**
   * early stopping: stop after this many consecutive epochs whose validation MAE does not beat the best by more
   * than `minDelta` (default: no early stopping, all `epochs` run)
   */
  readonly patience?: number;
  readonly minDelta?: number;
  /** return the best-validation epoch's weights (default) or the last epoch's */
  readonly restoreBest?: boolean;
  /**
   * also score this many evenly spaced training windows in inference mode after each epoch (`trainMae`, the
   * learning curve's train side without dropout; 0 = off). `trainLoss` is the mean loss while training.
   */
  readonly trainScoreWindows?: number;
  /** the best epoch of an earlier, interrupted part of the run: kept unless a new epoch beats it */
  readonly initialBest?: { readonly epoch: number; readonly valMae: number; readonly weights: GwnWeights };
  /** engine threads: 1, 2 (data-parallel) or 'auto' (default: 2 on ≥ 2 cores for batches worth it; gwn-engine-session.ts) */
  readonly workers?: GwnWorkers;
  /** a session of the caller's own (ComS2T's prompt-conditioned Stage 1b); `session` and `workers` are then unused */
  readonly sessionFactory?: () => Omit<GwnSession, 'forecast' | 'gradients'>;
}


export const DEFAULT_GWN_TRAINING: Omit<GwnTrainOptions, 'seed'> = { epochs: 100, batchSize: 64, learningRate: 1e-3, weightDecay: 1e-4, clipNorm: 5 };

export interface EpochRecord {
  readonly epoch: number;
  /** mean masked MAE of the epoch's training steps (training mode: dropout, batch statistics) */
  readonly trainLoss: number;
  /** masked MAE on `trainScoreWindows` training windows in inference mode, when asked for */
  readonly trainMae?: number;
  readonly valMae: number;
  readonly seconds: number;
}

/** Why training ended: the epoch maximum, early stopping on validation MAE, or the time cap. */
export type StopReason = 'max-epochs' | 'patience' | 'time';

export interface TrainedGwn {
  readonly config: GraphWaveNetConfig;
  readonly weights: GwnWeights;
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  readonly stopReason: StopReason;
}

/** Forecasts [samples, 12, N] in original units for the samples in `range` (or a list of samples). */
export async function forecastGwn(prepared: PreparedTraffic, model: Pick<TrainedGwn, 'config' | 'weights'>, range: SampleRange | readonly number[], batchSize = 64): Promise<Float64Array> {
  const session = new GwnEngineSession(prepared, { seed: 0, learningRate: 0, clipNorm: 1, config: model.config, initialWeights: model.weights, frozen: () => true });
  try {
    return await session.forecast(Array.isArray(range) ? range : rangeIndices(range as SampleRange), batchSize);
  } finally {
    await session.dispose();
  }
}

/** Trains for up to `epochs` epochs and returns the weights of the best validation epoch. */
export async function trainGwn(prepared: PreparedTraffic, options: GwnTrainOptions): Promise<TrainedGwn> {
  const session = options.sessionFactory?.() ?? new GwnEngineSession(prepared, { ...options.session, seed: options.seed, learningRate: options.learningRate, clipNorm: options.clipNorm, config: options.config, ...(options.workers === undefined ? {} : { workers: options.workers }) });
  const trainSamples = options.trainSamples ?? rangeIndices(prepared.splits.train);
  const valSamples = options.valSamples ?? rangeIndices(prepared.splits.val);
  const history: EpochRecord[] = [];
  const initialBest = options.initialBest;
  const restoreBest = options.restoreBest ?? true;
  const deadline = options.maxSeconds === undefined ? undefined : performance.now() + options.maxSeconds * 1000;
  const firstEpoch = options.firstEpoch ?? 1;
  const trainScored = options.trainScoreWindows ? evenlySpacedOf(trainSamples, options.trainScoreWindows) : [];
  // the loop counts epochs from 0: its epoch e is epoch e + 1 here
  const continueFrom = {
    epoch: firstEpoch - 1,
    // a resumed run counts the epochs it already spent without beating its best
    ...(initialBest ? { best: { metric: initialBest.valMae, epoch: initialBest.epoch - 1 }, sinceBest: Math.max(0, firstEpoch - 1 - initialBest.epoch) } : {}),
  };
  let scores: { valMae: number; trainMae: number | undefined } = { valMae: Number.NaN, trainMae: undefined };
  // a session without restorable views (the tfjs reference) keeps its best epoch as a snapshot
  let bestSnapshot: GwnWeights | undefined;
  let epochStarted = performance.now();
  try {
    const result = await fitSamples(session, trainSamples, {
      epochs: options.epochs,
      batchSize: options.batchSize,
      step: { weightDecay: options.weightDecay, ...(options.dropConnect === undefined ? {} : { dropConnect: options.dropConnect }) },
      ...(options.maxStepsPerEpoch === undefined ? {} : { maxStepsPerEpoch: options.maxStepsPerEpoch }),
      ...(deadline === undefined ? {} : { deadline }),
      continueFrom,
      validation: {
        objective: 'min',
        ...(options.patience === undefined ? {} : { patience: options.patience }),
        ...(options.minDelta === undefined ? {} : { minDelta: options.minDelta }),
        restoreBest,
        metric: async () => {
          const valMae = (await session.evaluate(valSamples)).mae;
          scores = { valMae, trainMae: trainScored.length > 0 ? (await session.evaluate(trainScored)).mae : undefined };
          return valMae;
        },
      },
      onEpoch: async (summary) => {
        const { valMae, trainMae } = scores;
        const record: EpochRecord = { epoch: summary.epoch + 1, trainLoss: summary.meanLoss, ...(trainMae === undefined ? {} : { trainMae }), valMae, seconds: (performance.now() - epochStarted) / 1000 };
        history.push(record);
        options.onEpoch?.(record);
        const keepBest = summary.improved && restoreBest && !session.restorable;
        if (options.onEpochWeights || keepBest) {
          const weights = await session.snapshot();
          options.onEpochWeights?.(record.epoch, weights);
          if (keepBest) bestSnapshot = weights;
        }
        epochStarted = performance.now();
      },
    });
    const best = result.best;
    if (!best) {
      throw new ModelevoError('CONFIG_INVALID', `graph wavenet ran no epoch: expected epochs ≥ first epoch ≥ 1, got epochs ${options.epochs}, first epoch ${firstEpoch}`, {
        hint: 'raise --epochs (a resumed run continues after its last recorded epoch)',
        details: { epochs: options.epochs, firstEpoch },
      });
    }
    const bestEpoch = best.epoch + 1;
    const timeUp = deadline !== undefined && performance.now() >= deadline;
    // a patience stop on the last epoch is the epoch maximum; the time cap is named before patience
    const stopReason: StopReason = result.stopped === 'deadline' || (result.stopped === 'patience' && timeUp) ? 'time' : result.stopped === 'patience' && result.epochs < options.epochs ? 'patience' : 'max-epochs';
    // the loop put the best epoch's parameters back (restore-best) or left the last epoch's
    const weights = history.length === 0 || (restoreBest && bestEpoch < firstEpoch) ? initialBest!.weights : restoreBest && !session.restorable ? bestSnapshot! : await session.snapshot();
    return { config: session.config, weights, history, bestEpoch, stopReason };
  } finally {
    await session.dispose();
  }
}

/** `count` evenly spaced entries of `samples` (all of them when there are fewer). */
function evenlySpacedOf(samples: readonly number[], count: number): number[] {
  if (samples.length <= count) return [...samples];
  return Array.from({ length: count }, (_, i) => samples[Math.floor((i * samples.length) / count)]!);
}
