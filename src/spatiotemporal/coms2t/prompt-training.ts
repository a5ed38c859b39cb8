/**
 * The prompt objective on its own (coms2t.md §3.3 Stage 1a and §3.5 Stage 2): Adam on the prompt encoder's
 * tensors only, masked MAE between the encoder output and the true [mean, population variance] of each node's
 * next 12 readings. The projections and every backbone tensor are left untouched (they are not inputs of the
 * objective). No weight decay and no clipping: the encoder is tiny and the objective is bounded.
 *
 * Runs on the training engine (src/nn): the encoder is one `branch_product` layer on rows of [13 temporal
 * features | 2 spatial features]; the masked rows get a target no real row can have, which the engine's
 * masked MAE leaves out (its mean is then over 2·Σmask entries, as the objective defines).
 */
import { Model } from '../../nn/model.js';
import { Trainer } from '../../nn/trainer.js';
import { createRng } from '../../core/rng.js';
import type { GwnWeights } from '../graph-wavenet.js';
import { SPATIAL_FEATURES, TEMPORAL_FEATURES, promptFeatures, promptTargets, type PromptFeatureContext } from './features.js';
import { ENCODER_PREFIX } from './prompt-encoder.js';

export interface PromptTrainingOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number | string;
}

export interface PromptTrainingResult {
  readonly weights: GwnWeights;
  /** mean training loss per epoch */
  readonly losses: readonly number[];
}

const FEATURES = TEMPORAL_FEATURES + SPATIAL_FEATURES;
/** the target of a masked row: [mean, variance] of z-scores never reaches it (variance ≥ 0, means are finite) */
// exactly representable in float32, so the arena copy still equals the loss's null value
const MASKED_TARGET = -(2 ** 100);
const LAYER = '0.branch_product';
/** tfjs-era tensor name (weights [in, out]) → engine parameter name (weights [out, in]) */
const ENGINE_NAMES: readonly [string, string][] = [
  ['temporal.hidden', 'first.hidden'],
  ['temporal.out', 'first.out'],
  ['spatial.hidden', 'second.hidden'],
  ['spatial.out', 'second.out'],
];

function compileEncoder(rows: number, promptDim: number, training: boolean): Model {
  return Model.compile(
    { inputShape: [FEATURES], layers: [{ kind: 'branch_product', split: TEMPORAL_FEATURES, hidden: promptDim, units: 2 }], loss: { kind: 'masked_mae', nullValue: MASKED_TARGET } },
    { batch: rows, kernels: 'wasm', ...(training ? { optimizer: { kind: 'adam' as const } } : {}) },
  );
}

function promptDimOf(weights: GwnWeights): number {
  const hidden = weights[`${ENCODER_PREFIX}temporal.hidden.weight`];
  if (!hidden) throw new Error(`prompt encoder: missing tensor '${ENCODER_PREFIX}temporal.hidden.weight'`);
  return hidden.shape[1]!;
}

/** Copies the encoder tensors of `weights` into the model (transposing [in, out] to [out, in]). */
function loadEncoder(model: Model, weights: GwnWeights): void {
  for (const [ours, engine] of ENGINE_NAMES) {
    const w = weights[`${ENCODER_PREFIX}${ours}.weight`];
    const b = weights[`${ENCODER_PREFIX}${ours}.bias`];
    if (!w || !b) throw new Error(`prompt encoder: missing tensor '${ENCODER_PREFIX}${ours}'`);
    const [fanIn, out] = w.shape as [number, number];
    const target = model.param(`${LAYER}.${engine}.weight`);
    for (let i = 0; i < fanIn; i++) for (let o = 0; o < out; o++) target[o * fanIn + i] = w.data[i * out + o]!;
    model.param(`${LAYER}.${engine}.bias`).set(b.data);
  }
}

/** The encoder tensors of the model, in the [in, out] layout of `initialPromptWeights`. */
function readEncoder(model: Model, like: GwnWeights): GwnWeights {
  const out: GwnWeights = {};
  for (const [ours, engine] of ENGINE_NAMES) {
    const shape = like[`${ENCODER_PREFIX}${ours}.weight`]!.shape as [number, number];
    const [fanIn, width] = shape;
    const source = model.param(`${LAYER}.${engine}.weight`);
    const data = new Float32Array(fanIn * width);
    for (let i = 0; i < fanIn; i++) for (let o = 0; o < width; o++) data[i * width + o] = source[o * fanIn + i]!;
    out[`${ENCODER_PREFIX}${ours}.weight`] = { shape, data };
    out[`${ENCODER_PREFIX}${ours}.bias`] = { shape: [width], data: Float32Array.from(model.param(`${LAYER}.${engine}.bias`)) };
  }
  return out;
}

/** rows of [temporal | spatial] features and [mean, variance] targets (masked rows: MASKED_TARGET) */
function batchRows(context: PromptFeatureContext, samples: readonly number[]): { inputs: Float32Array; targets: Float32Array; mask: Float32Array } {
  const rows = context.network.sensorIds.length * samples.length;
  const features = promptFeatures(context, samples);
  const { target, mask } = promptTargets(context, samples);
  const inputs = new Float32Array(rows * FEATURES);
  const targets = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < TEMPORAL_FEATURES; f++) inputs[r * FEATURES + f] = features.temporal[r * TEMPORAL_FEATURES + f]!;
    for (let f = 0; f < SPATIAL_FEATURES; f++) inputs[r * FEATURES + TEMPORAL_FEATURES + f] = features.spatial[r * SPATIAL_FEATURES + f]!;
    for (let j = 0; j < 2; j++) targets[r * 2 + j] = mask[r]! > 0 ? target[r * 2 + j]! : MASKED_TARGET;
  }
  return { inputs, targets, mask };
}

/** Trains the encoder tensors of `weights` (other tensors are returned unchanged) on `samples`. */
export async function trainPromptEncoder(weights: GwnWeights, context: PromptFeatureContext, samples: readonly number[], options: PromptTrainingOptions): Promise<PromptTrainingResult> {
  const batchSize = Math.min(options.batchSize, samples.length);
  const model = compileEncoder(context.network.sensorIds.length * batchSize, promptDimOf(weights), true);
  loadEncoder(model, weights);
  const trainer = new Trainer(model, { lr: options.learningRate });
  const rng = createRng('coms2t-prompt-order', options.seed);
  const losses: number[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = [...samples];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let sum = 0;
    let steps = 0;
    // the last partial batch is dropped (the model is compiled for one batch size)
    for (let start = 0; start + batchSize <= order.length; start += batchSize) {
      const batch = batchRows(context, order.slice(start, start + batchSize));
      sum += trainer.step(batch.inputs, batch.targets);
      steps++;
    }
    losses.push(sum / Math.max(steps, 1));
  }
  return { weights: { ...weights, ...readEncoder(model, weights) }, losses };
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
      loadEncoder(model, weights);
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
