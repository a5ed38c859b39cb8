/**
 * The previous tfjs implementation of Graph WaveNet's forward (src/spatiotemporal/graph-wavenet.ts until issue #22
 * moved training onto the engine), kept only as a test reference for the engine's layers and session.
 *
 * Graph WaveNet (Wu, Pan, Long, Jiang, Zhang, IJCAI 2019, arXiv 1906.00121), spatiotemporal.md §1: a 1×1 start
 * convolution, gated dilated causal temporal convolutions (kernel 2), diffusion graph convolution of order K
 * over the forward/backward transition matrices and the adaptive adjacency softmax(ReLU(E₁E₂)), skip and
 * residual paths, BatchNorm, and a two-layer output head giving all horizons at once.
 *
 * tfjs-wasm has no conv weight gradients (engines.md §2), so every convolution here is a matMul: activations
 * are kept node-major [N, B, T, C], which makes 1×1 convolutions a matMul on the last axis, a kernel-2
 * dilated convolution two time slices concatenated on channels then a matMul, and the graph diffusion
 * `x₁_w = Σ_v x_v S_vw` one `Sᵀ·x` over the [N, B·T·C] view, without transposes.
 */
import { tf } from './tfjs/tf.js';
import { matMul } from './tfjs/matmul.js';
import { ModelevoError } from '../../src/core/errors.js';

export { defaultGwnConfig, receptiveField, parameterSpecs, isTrainable, initialGwnWeights, transitionMatrices } from '../../src/spatiotemporal/gwn-config.js';
export type { GraphWaveNetConfig, ParameterSpec, GwnWeights } from '../../src/spatiotemporal/gwn-config.js';
import type { GraphWaveNetConfig } from '../../src/spatiotemporal/gwn-config.js';
import { receptiveField } from '../../src/spatiotemporal/gwn-config.js';

export type ParamLookup = (name: string) => tf.Tensor;

export interface ForwardOptions {
  readonly training: boolean;
  /** seed for dropout masks (per step) */
  readonly dropoutSeed?: number;
  /** receives each BatchNorm's batch mean and biased variance while training */
  readonly onBatchStats?: (layer: number, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number) => void;
  /**
   * set on the extra pass that only records BatchNorm statistics after a masked training step: a custom forward
   * must then leave out its method-specific masks (e.g. SynEVO's per-group activation dropout)
   */
  readonly statisticsPass?: boolean;
}

/** Ã = softmax_row(ReLU(E₁E₂)). */
export function adaptiveAdjacency(param: ParamLookup): tf.Tensor2D {
  return tf.softmax(tf.relu(matMul(param('node_emb1') as tf.Tensor2D, param('node_emb2') as tf.Tensor2D)), 1) as tf.Tensor2D;
}

function linear(x: tf.Tensor, param: ParamLookup, name: string): tf.Tensor {
  const shape = x.shape;
  const inner = shape[shape.length - 1]!;
  const weight = param(`${name}.weight`) as tf.Tensor2D;
  const out = tf.add(matMul(tf.reshape(x, [-1, inner]) as tf.Tensor2D, weight), param(`${name}.bias`));
  return tf.reshape(out, [...shape.slice(0, -1), weight.shape[1]]);
}

/** Σ over K diffusion steps per support: [x, S₁ᵀx, (S₁ᵀ)²x, S₂ᵀx, …] concatenated on channels. x: [N, B, T, C]. The
 * plain layout of the features, kept as the reference for `graphConvolution` (which never materialises it). */
export function diffusionFeatures(x: tf.Tensor4D, supports: readonly tf.Tensor2D[], order: number): tf.Tensor4D {
  const [n, b, t, c] = x.shape;
  const flat = tf.reshape(x, [n, b * t * c]) as tf.Tensor2D;
  const parts: tf.Tensor2D[] = [flat];
  for (const support of supports) {
    // an explicit transpose: tfjs-wasm 4.22's matMul with transposeA is ~40× slower than a plain one (207 nodes)
    const transposed = tf.transpose(support);
    let current = flat;
    for (let k = 0; k < order; k++) {
      current = matMul(transposed, current);
      parts.push(current);
    }
  }
  const stacked = tf.stack(parts, 1); // [N, parts, B·T·C]
  const reshaped = tf.reshape(stacked, [n, parts.length, b, t, c]);
  return tf.reshape(tf.transpose(reshaped, [0, 2, 3, 1, 4]), [n, b, t, parts.length * c]) as tf.Tensor4D;
}

/**
 * Gated dilated causal convolution, kernel 2: tanh(W_f·[x_t, x_{t+d}]) ⊙ σ(W_g·[x_t, x_{t+d}]). x: [N, B, T, C].
 * The weight [2C, 2D] is split into its four [C, D] blocks (tap × filter/gate) so that the activations are never
 * concatenated or split: four small products on the two time slices (the activation concat + split and their
 * gradients were ~8% of a training step in the bench/st.ts profile).
 */
export function gatedTemporalConv(x: tf.Tensor4D, param: ParamLookup, name: string, dilation: number): tf.Tensor4D {
  const [n, b, t, c] = x.shape;
  const outLength = t - dilation;
  const rows = n * b * outLength;
  const early = tf.reshape(tf.slice(x, [0, 0, 0, 0], [n, b, outLength, c]), [rows, c]) as tf.Tensor2D;
  const late = tf.reshape(tf.slice(x, [0, 0, dilation, 0], [n, b, outLength, c]), [rows, c]) as tf.Tensor2D;
  const [earlyWeight, lateWeight] = tf.split(param(`${name}.weight`), 2, 0) as [tf.Tensor2D, tf.Tensor2D];
  const [earlyFilter, earlyGate] = tf.split(earlyWeight, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  const [lateFilter, lateGate] = tf.split(lateWeight, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  const [filterBias, gateBias] = tf.split(param(`${name}.bias`), 2, 0);
  const filter = tf.add(tf.add(matMul(early, earlyFilter), matMul(late, lateFilter)), filterBias!);
  const gate = tf.add(tf.add(matMul(early, earlyGate), matMul(late, lateGate)), gateBias!);
  return tf.reshape(tf.mul(tf.tanh(filter), tf.sigmoid(gate)), [n, b, outLength, earlyFilter.shape[1]]) as tf.Tensor4D;
}

/** One support of the diffusion convolution, prepared once per forward pass. */
export interface DiffusionSupport {
  /** x [N, M] → Sᵀ·x */
  readonly diffuse: (x: tf.Tensor2D) => tf.Tensor2D;
}

/**
 * A support that receives no gradient (the predefined P_f, P_b): Sᵀ·x forward and S·dy backward, both plain
 * products with no transposes at all, and no wasted product for dS (tfjs computes every input's gradient).
 */
export function constantSupport(support: tf.Tensor2D): DiffusionSupport {
  const transposed = tf.transpose(support);
  const diffuse = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    return { value: tf.matMul(transposed, x), gradFunc: (dy: tf.Tensor) => [tf.matMul(support, dy as tf.Tensor2D)] };
  });
  return { diffuse: (x) => diffuse(x) as tf.Tensor2D };
}

/** A support that is learned (the adaptive adjacency): gradients flow to S and x. */
export function learnedSupport(support: tf.Tensor2D): DiffusionSupport {
  // an explicit transpose: tfjs-wasm 4.22's matMul with transposeA is ~40× slower than a plain one (207 nodes)
  const transposed = tf.transpose(support);
  return { diffuse: (x) => matMul(transposed, x) };
}

/**
 * The diffusion graph convolution: the 1×1 mix of [x, S₁ᵀx, (S₁ᵀ)²x, S₂ᵀx, …] (`diffusionFeatures` then a
 * linear layer), computed as Σ_p part_p·W_p with W split into per-part row blocks. Each part stays in the
 * node-major [N, B·T·C] layout, whose [N·B·T, C] view is free, so nothing is stacked or transposed (the
 * stack + 5-D transpose and their gradients were ~15% of a training step in the bench/st.ts profile).
 */
export function graphConvolution(x: tf.Tensor4D, supports: readonly DiffusionSupport[], order: number, param: ParamLookup, name: string): tf.Tensor4D {
  const [n, b, t, c] = x.shape;
  const parts = 1 + order * supports.length;
  const blocks = tf.split(param(`${name}.weight`), parts, 0) as tf.Tensor2D[];
  const flat = tf.reshape(x, [n, b * t * c]) as tf.Tensor2D;
  const mix = (part: tf.Tensor2D, index: number): tf.Tensor2D => matMul(tf.reshape(part, [n * b * t, c]) as tf.Tensor2D, blocks[index]!);
  const terms = [mix(flat, 0)];
  for (const support of supports) {
    let current = flat;
    for (let k = 0; k < order; k++) {
      current = support.diffuse(current);
      terms.push(mix(current, terms.length));
    }
  }
  const out = tf.add(tf.addN(terms), param(`${name}.bias`));
  return tf.reshape(out, [n, b, t, blocks[0]!.shape[1]]) as tf.Tensor4D;
}

/**
 * x: [N, B, T, C_in] (scaled value and time of day) → forecasts [B, horizons, N] in scaled units.
 * `predefined` are the given supports (P_f, P_b), treated as constants; the adaptive one is added when the config
 * asks for it.
 */
export function gwnForward(
  config: GraphWaveNetConfig,
  param: ParamLookup,
  predefined: readonly tf.Tensor2D[],
  input: tf.Tensor4D,
  options: ForwardOptions,
): tf.Tensor3D {
  const field = receptiveField(config);
  let x: tf.Tensor4D = input;
  if (x.shape[2] < field) x = tf.pad(x, [[0, 0], [0, 0], [field - x.shape[2], 0], [0, 0]]);
  x = linear(x, param, 'start') as tf.Tensor4D;
  // the given supports are constants (no gradient flows to them); the adaptive one is learned
  const supports = [...predefined.map(constantSupport), ...(config.adaptive ? [learnedSupport(adaptiveAdjacency(param))] : [])];
  const [n, b] = [x.shape[0], x.shape[1]];
  let skip: tf.Tensor | undefined;
  config.dilations.forEach((dilation, i) => {
    const residual = x;
    const h = gatedTemporalConv(x, param, `layers.${i}.tcn`, dilation);
    const steps = h.shape[2];
    // only the last time step reaches the output (the final length is 1), so the skip conv runs on it alone
    const lastStep = tf.slice(h, [0, 0, steps - 1, 0], [n, b, 1, h.shape[3]]);
    const skipPart = linear(tf.reshape(lastStep, [n * b, h.shape[3]]), param, `layers.${i}.skip`);
    skip = skip ? tf.add(skip, skipPart) : skipPart;
    let g = graphConvolution(h, supports, config.order, param, `layers.${i}.gconv`);
    if (options.training && config.dropout > 0) g = (tf.dropout(g, config.dropout, undefined, options.dropoutSeed === undefined ? undefined : options.dropoutSeed + i) as tf.Tensor4D);
    const summed = tf.add(g, tf.slice(residual, [0, 0, residual.shape[2] - steps, 0], [n, b, steps, residual.shape[3]])) as tf.Tensor4D;
    x = batchNorm(summed, param, i, options);
  });
  if (!skip) throw new ModelevoError('CONFIG_INVALID', 'gwnForward: expected at least one block, got a config with no dilations', { hint: 'give config.dilations one entry per block' });
  const hidden = tf.relu(linear(tf.relu(skip), param, 'end1'));
  const out = linear(hidden, param, 'end2'); // [N·B, horizons]
  return tf.transpose(tf.reshape(out, [n, b, config.horizons]), [1, 2, 0]) as tf.Tensor3D;
}

function batchNorm(x: tf.Tensor4D, param: ParamLookup, layer: number, options: ForwardOptions): tf.Tensor4D {
  const prefix = `layers.${layer}.bn`;
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  if (options.training) {
    const moments = tf.moments(x, [0, 1, 2]);
    mean = moments.mean;
    variance = moments.variance;
    options.onBatchStats?.(layer, mean as tf.Tensor1D, variance as tf.Tensor1D, x.shape[0] * x.shape[1] * x.shape[2]);
  } else {
    mean = param(`${prefix}.running_mean`);
    variance = param(`${prefix}.running_var`);
  }
  const scale = tf.mul(param(`${prefix}.weight`), tf.rsqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(tf.sub(x, mean), scale), param(`${prefix}.bias`)) as tf.Tensor4D;
}
