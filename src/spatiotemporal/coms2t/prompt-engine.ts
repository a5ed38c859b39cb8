/**
 * ComS2T's prompt networks on the training engine (src/nn), as `branch_product` layers on rows of
 * [13 temporal features | 2 spatial features] (one row per node and window, node-major as promptFeatures):
 * - the encoder (product of the two branches' 2-vector outputs: predicted [mean, variance]; prompt-training.ts);
 * - the prompt signal tanh(Linear_t(h_t)) + tanh(Linear_s(h_s)) [rows, 13] on the same hidden layers (sum of the
 *   two tanh heads), whose gradient comes from the backbone's input gradient (`backwardFrom`).
 * Tensors keep the names and [in, out] layouts of `initialPromptWeights`; the engine stores W as [out, in].
 */
import { Model, type CompileOptions } from '../../nn/model.js';
import { ModelevoError } from '../../core/errors.js';
import type { GwnWeights } from '../gwn-config.js';
import { SPATIAL_FEATURES, TEMPORAL_FEATURES, promptFeatures, type PromptFeatureContext } from './features.js';
import { ENCODER_PREFIX, PROJECTION_PREFIX, PROMPT_STEPS } from './prompt-encoder.js';

export const ROW_FEATURES = TEMPORAL_FEATURES + SPATIAL_FEATURES;
/** the single layer's parameter prefix in a one-layer model */
const LAYER = '0.branch_product';

/** tensor name (without `.weight` / `.bias`) → engine parameter name */
export type BranchNames = readonly (readonly [string, string])[];

export const ENCODER_BRANCHES: BranchNames = [
  [`${ENCODER_PREFIX}temporal.hidden`, `${LAYER}.first.hidden`],
  [`${ENCODER_PREFIX}temporal.out`, `${LAYER}.first.out`],
  [`${ENCODER_PREFIX}spatial.hidden`, `${LAYER}.second.hidden`],
  [`${ENCODER_PREFIX}spatial.out`, `${LAYER}.second.out`],
];

export const SIGNAL_BRANCHES: BranchNames = [
  [`${ENCODER_PREFIX}temporal.hidden`, `${LAYER}.first.hidden`],
  [`${PROJECTION_PREFIX}temporal`, `${LAYER}.first.out`],
  [`${ENCODER_PREFIX}spatial.hidden`, `${LAYER}.second.hidden`],
  [`${PROJECTION_PREFIX}spatial`, `${LAYER}.second.out`],
];

/** Rows of [temporal | spatial] features for `samples`, node-major (row n·B + b). */
export function packRows(context: PromptFeatureContext, samples: readonly number[]): Float32Array {
  const rows = context.network.sensorIds.length * samples.length;
  const features = promptFeatures(context, samples);
  const inputs = new Float32Array(rows * ROW_FEATURES);
  for (let r = 0; r < rows; r++) {
    inputs.set(features.temporal.subarray(r * TEMPORAL_FEATURES, (r + 1) * TEMPORAL_FEATURES), r * ROW_FEATURES);
    inputs.set(features.spatial.subarray(r * SPATIAL_FEATURES, (r + 1) * SPATIAL_FEATURES), r * ROW_FEATURES + TEMPORAL_FEATURES);
  }
  return inputs;
}

export function promptDimOf(weights: GwnWeights): number {
  const hidden = weights[`${ENCODER_PREFIX}temporal.hidden.weight`];
  if (!hidden) throw missingTensor(`${ENCODER_PREFIX}temporal.hidden.weight`);
  return hidden.shape[1]!;
}

function missingTensor(name: string): ModelevoError {
  return new ModelevoError('TENSOR_NOT_FOUND', `ComS2T prompt networks: expected tensor '${name}', not in the given weights`, {
    hint: 'pass weights that include the prompt tensors (initialPromptWeights)',
    details: { name },
  });
}

/** Copies tensors of `weights` into the model (transposing [in, out] to [out, in]). */
export function loadBranches(model: Model, weights: GwnWeights, names: BranchNames): void {
  for (const [ours, engine] of names) {
    const w = weights[`${ours}.weight`];
    const b = weights[`${ours}.bias`];
    if (!w || !b) throw missingTensor(`${ours}.${w ? 'bias' : 'weight'}`);
    const [fanIn, out] = w.shape as [number, number];
    const target = model.param(`${engine}.weight`);
    for (let i = 0; i < fanIn; i++) for (let o = 0; o < out; o++) target[o * fanIn + i] = w.data[i * out + o]!;
    model.param(`${engine}.bias`).set(b.data);
  }
}

/** The model's tensors (or, with `region` 'grad', their gradients) in the [in, out] layout, by tensor name. */
export function readBranches(model: Model, names: BranchNames, region: 'param' | 'grad' = 'param'): GwnWeights {
  const out: GwnWeights = {};
  for (const [ours, engine] of names) {
    const read = (name: string): { shape: readonly number[]; values: Float32Array | Float64Array } => {
      const p = model.params.find((q) => q.name === name)!;
      return { shape: p.shape, values: model.view(region === 'param' ? p : p.grad) };
    };
    const w = read(`${engine}.weight`);
    const [width, fanIn] = w.shape as [number, number];
    const data = new Float32Array(fanIn * width);
    for (let i = 0; i < fanIn; i++) for (let o = 0; o < width; o++) data[i * width + o] = w.values[o * fanIn + i]!;
    out[`${ours}.weight`] = { shape: [fanIn, width], data };
    out[`${ours}.bias`] = { shape: [width], data: Float32Array.from(read(`${engine}.bias`).values) };
  }
  return out;
}

/**
 * The prompt signal [N·B rows, 13] of one batch size on the engine: `signal` runs it, `backward` takes
 * dLoss/dSignal (the value channel of the backbone's input gradient) and leaves the gradients of the encoder's
 * hidden layers and the projections in the model (`gradients`). With `optimizer` the model plans Adam state,
 * but the caller steps it (together with the backbone: one global clip norm).
 */
export class PromptSignalModel {
  readonly model: Model;

  constructor(readonly context: PromptFeatureContext, readonly batch: number, weights: GwnWeights, options: { optimizer?: boolean; kernels?: CompileOptions['kernels'] } = {}) {
    const rows = context.network.sensorIds.length * batch;
    this.model = Model.compile(
      { inputShape: [ROW_FEATURES], layers: [{ kind: 'branch_product', split: TEMPORAL_FEATURES, hidden: promptDimOf(weights), units: PROMPT_STEPS, combine: 'sum', outActivation: 'tanh' }], loss: { kind: 'mse' } },
      { batch: rows, kernels: options.kernels ?? 'wasm', ...(options.optimizer ? { optimizer: { kind: 'adam' as const } } : {}) },
    );
    this.load(weights);
  }

  load(weights: GwnWeights): void {
    loadBranches(this.model, weights, SIGNAL_BRANCHES);
  }

  /** [N·B, 13] node-major; a view valid until the next call */
  signal(samples: readonly number[]): Float32Array | Float64Array {
    const m = this.model;
    m.view(m.input).set(packRows(this.context, samples));
    m.forward(false);
    return m.view(m.output);
  }

  /** after `signal` on the same batch */
  backward(dSignal: ArrayLike<number>): void {
    this.model.backwardFrom(dSignal);
  }

  gradients(): GwnWeights {
    return readBranches(this.model, SIGNAL_BRANCHES, 'grad');
  }

  weights(): GwnWeights {
    return readBranches(this.model, SIGNAL_BRANCHES);
  }
}
