/**
 * The prompt objective on its own (coms2t.md §3.3 Stage 1a and §3.5 Stage 2): Adam on the prompt encoder's
 * tensors only, masked MAE between the encoder output and the true [mean, population variance] of each node's
 * next 12 readings. The projections and every backbone tensor are left untouched (they are not inputs of the
 * objective).
 * One step as the authors' `engine.train_prompt` (hqh0728/ComS2T f818815, engine.py lines 104–121): the
 * gradient is clipped to `clipNorm` (5) by its global norm over the encoder's tensors (`clip_grad_norm_(
 * self.model.pemb.parameters(), self.clip)`, line 119), then Adam adds the L2 term λ·w once (PyTorch Adam's
 * `weight_decay`, set_opt line 103: λ = `--weight_decay` 1e-4) and updates at the stage's lr (set_opt keeps
 * `--learning_rate`, 1e-4). Both live in the engine: the Trainer's clip, then adamStep's `weightDecay`.
 *
 * Runs on the training engine (src/nn): the encoder is one `branch_product` layer on rows of [13 temporal
 * features | 2 spatial features]; the masked rows get a target no real row can have, which the engine's
 * masked MAE leaves out (its mean is then over 2·Σmask entries, as the objective defines).
 */
import { Model } from '../../nn/model.js';
import { Trainer } from '../../nn/trainer.js';
import { fitLoop } from '../../nn/fit.js';
import type { GwnWeights } from '../gwn-config.js';
import { TEMPORAL_FEATURES, promptTargets, type PromptFeatureContext } from './features.js';
import { ENCODER_BRANCHES, ROW_FEATURES, loadBranches, packRows, promptDimOf, readBranches } from './prompt-engine.js';

export interface PromptTrainingOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number | string;
  /** L2 term λ·w added to the clipped gradient by Adam (the authors' 1e-4; absent: 0) */
  readonly weightDecay?: number;
  /** global gradient-norm clip over the encoder's tensors (the authors' 5; absent: no clipping) */
  readonly clipNorm?: number;
}

export interface PromptTrainingResult {
  readonly weights: GwnWeights;
  /** mean training loss per epoch */
  readonly losses: readonly number[];
}

/** the target of a masked row: [mean, variance] of z-scores never reaches it (variance ≥ 0, means are finite) */
// exactly representable in float32, so the arena copy still equals the loss's null value
const MASKED_TARGET = -(2 ** 100);

function compileEncoder(rows: number, promptDim: number, training: boolean, weightDecay = 0): Model {
  return Model.compile(
    { inputShape: [ROW_FEATURES], layers: [{ kind: 'branch_product', split: TEMPORAL_FEATURES, hidden: promptDim, units: 2 }], loss: { kind: 'masked_mae', nullValue: MASKED_TARGET } },
    { batch: rows, kernels: 'wasm', ...(training ? { optimizer: { kind: 'adam' as const, weightDecay } } : {}) },
  );
}

/** rows of [temporal | spatial] features and [mean, variance] targets (masked rows: MASKED_TARGET) */
function batchRows(context: PromptFeatureContext, samples: readonly number[]): { inputs: Float32Array; targets: Float32Array; mask: Float32Array } {
  const { target, mask } = promptTargets(context, samples);
  const targets = new Float32Array(target.length);
  for (let r = 0; r < mask.length; r++) for (let j = 0; j < 2; j++) targets[r * 2 + j] = mask[r]! > 0 ? target[r * 2 + j]! : MASKED_TARGET;
  return { inputs: packRows(context, samples), targets, mask };
}

/** Trains the encoder tensors of `weights` (other tensors are returned unchanged) on `samples`. */
export async function trainPromptEncoder(weights: GwnWeights, context: PromptFeatureContext, samples: readonly number[], options: PromptTrainingOptions): Promise<PromptTrainingResult> {
  const batchSize = Math.min(options.batchSize, samples.length);
  const model = compileEncoder(context.network.sensorIds.length * batchSize, promptDimOf(weights), true, options.weightDecay ?? 0);
  loadBranches(model, weights, ENCODER_BRANCHES);
  const trainer = new Trainer(model, { lr: options.learningRate, ...(options.clipNorm === undefined ? {} : { clipNorm: options.clipNorm }) });
  const losses: number[] = [];
  // each epoch a fresh shuffle of the samples; the last partial batch is dropped (the model is compiled for one batch size)
  const trainOn = (rows: Int32Array): number => {
    const batch = batchRows(context, Array.from(rows, (r) => samples[r]!));
    return trainer.step(batch.inputs, batch.targets);
  };
  fitLoop(
    { trainOn },
    samples.length,
    { epochs: options.epochs, batch: batchSize, seed: options.seed, shuffleKey: 'coms2t-prompt-order', shuffleFrom: 'identity', lastBatch: 'drop', onEpoch: (e) => losses.push(e.meanLoss) },
  );
  return { weights: { ...weights, ...readBranches(model, ENCODER_BRANCHES) }, losses };
}

/** The prompt objective (masked MAE in z-score units) of `weights` on `samples`. */
export async function promptObjective(weights: GwnWeights, context: PromptFeatureContext, samples: readonly number[], chunk = 64): Promise<number> {
  const nodes = context.network.sensorIds.length;
  const models = new Map<number, Model>();
  let errorSum = 0;
  let count = 0;
  for (let start = 0; start < samples.length; start += chunk) {
    const slice = samples.slice(start, start + chunk);
    const rows = nodes * slice.length;
    let model = models.get(rows);
    if (!model) {
      model = compileEncoder(rows, promptDimOf(weights), false);
      loadBranches(model, weights, ENCODER_BRANCHES);
      models.set(rows, model);
    }
    const batch = batchRows(context, slice);
    model.kernels.data.set(batch.inputs, model.input.offset);
    model.forward(false);
    const output = model.view(model.output);
    // summed in float64 here (not the loss kernel): the objective is reported, not differentiated
    for (let r = 0; r < rows; r++) {
      if (!(batch.mask[r]! > 0)) continue;
      for (let j = 0; j < 2; j++) errorSum += Math.abs(output[r * 2 + j]! - batch.targets[r * 2 + j]!);
      count += 2;
    }
  }
  return count > 0 ? errorSum / count : Number.NaN;
}
