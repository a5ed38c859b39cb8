/**
 * ComS2T's prompt encoder and the prompt-conditioned Graph WaveNet forward (coms2t.md §2):
 * - temporal branch 13 → prompt_dim (ReLU) → 2, spatial branch 2 → prompt_dim (ReLU) → 2; the encoder's output
 *   is the element-wise product of the two 2-vectors, trained to predict [mean, population variance] of the
 *   node's next 12 readings (features.ts);
 * - the hidden activations are the temporal and spatial prompts; tanh(Linear_t(prompt_t)) + tanh(Linear_s(
 *   prompt_s)) (each prompt_dim → 13) is added to the value channel of the input, left-padded to 13 steps.
 * Our GWN reads 2 channels (value, time of day); the prompt enters the value channel, which is the only channel
 * of the ComS2T code's backbone input. With the prompt disabled the forward is plain `gwnForward`; with zero
 * projection weights and biases the prompt is tanh(0) + tanh(0) = 0 and the output equals plain GWN too.
 */
import { tf } from '../../train/tf.js';
import { matMul } from '../../train/matmul.js';
import { createRng } from '../../core/rng.js';
import { gwnForward, type GraphWaveNetConfig, type GwnWeights, type ParamLookup } from '../graph-wavenet.js';
import type { GwnForwardFn } from '../gwn-session.js';
import { INPUT_STEPS } from '../../tasks/traffic/windows.js';
import { SPATIAL_FEATURES, TEMPORAL_FEATURES, promptFeatures, type PromptFeatureContext } from './features.js';

export const DEFAULT_PROMPT_DIM = 32;
/** the prompt spans the 13-step receptive field of the paper's backbone (12 inputs left-padded by one) */
export const PROMPT_STEPS = INPUT_STEPS + 1;

export const ENCODER_PREFIX = 'prompt.encoder.';
export const PROJECTION_PREFIX = 'prompt.project.';

/** True for the prompt encoder's tensors (the only ones Stage 2 updates). */
export function isEncoderTensor(name: string): boolean {
  return name.startsWith(ENCODER_PREFIX);
}

/** True for every prompt tensor (encoder and projections). */
export function isPromptTensor(name: string): boolean {
  return name.startsWith(ENCODER_PREFIX) || name.startsWith(PROJECTION_PREFIX);
}

/** Seeded init, PyTorch's nn.Linear default U(±1/√fan_in) for weights and biases. */
export function initialPromptWeights(seed: number | string, promptDim = DEFAULT_PROMPT_DIM): GwnWeights {
  const layers: [string, number, number][] = [
    [`${ENCODER_PREFIX}temporal.hidden`, TEMPORAL_FEATURES, promptDim],
    [`${ENCODER_PREFIX}temporal.out`, promptDim, 2],
    [`${ENCODER_PREFIX}spatial.hidden`, SPATIAL_FEATURES, promptDim],
    [`${ENCODER_PREFIX}spatial.out`, promptDim, 2],
    [`${PROJECTION_PREFIX}temporal`, promptDim, PROMPT_STEPS],
    [`${PROJECTION_PREFIX}spatial`, promptDim, PROMPT_STEPS],
  ];
  const weights: GwnWeights = {};
  for (const [name, fanIn, out] of layers) {
    const bound = 1 / Math.sqrt(fanIn);
    const rng = createRng('coms2t-prompt-init', seed, name);
    const weight = new Float32Array(fanIn * out).map(() => (2 * rng.next() - 1) * bound);
    const bias = new Float32Array(out).map(() => (2 * rng.next() - 1) * bound);
    weights[`${name}.weight`] = { shape: [fanIn, out], data: weight };
    weights[`${name}.bias`] = { shape: [out], data: bias };
  }
  return weights;
}

function dense(x: tf.Tensor2D, param: ParamLookup, name: string): tf.Tensor2D {
  return tf.add(matMul(x, param(`${name}.weight`) as tf.Tensor2D), param(`${name}.bias`)) as tf.Tensor2D;
}

export interface EncodedPrompts {
  /** [rows, prompt_dim] */
  readonly temporal: tf.Tensor2D;
  readonly spatial: tf.Tensor2D;
  /** [rows, 2]: predicted [mean, variance] */
  readonly output: tf.Tensor2D;
}

/** The encoder on feature rows (temporal [rows, 13], spatial [rows, 2]). */
export function encodePrompts(param: ParamLookup, temporal: tf.Tensor2D, spatial: tf.Tensor2D): EncodedPrompts {
  const promptT = tf.relu(dense(temporal, param, `${ENCODER_PREFIX}temporal.hidden`)) as tf.Tensor2D;
  const promptS = tf.relu(dense(spatial, param, `${ENCODER_PREFIX}spatial.hidden`)) as tf.Tensor2D;
  const output = tf.mul(dense(promptT, param, `${ENCODER_PREFIX}temporal.out`), dense(promptS, param, `${ENCODER_PREFIX}spatial.out`)) as tf.Tensor2D;
  return { temporal: promptT, spatial: promptS, output };
}

/** Masked MAE of the encoder output against [mean, variance] targets (rows with mask 0 excluded). */
export function promptLoss(output: tf.Tensor2D, target: tf.Tensor2D, mask: tf.Tensor1D): tf.Scalar {
  const error = tf.mul(tf.abs(tf.sub(output, target)), tf.expandDims(mask, 1));
  return tf.div(tf.sum(error), tf.maximum(tf.mul(tf.sum(mask), 2), 1)) as tf.Scalar;
}

/** The additive prompt [N, B, 13] for inputs of `samples`. */
export function promptSignal(param: ParamLookup, context: PromptFeatureContext, samples: readonly number[]): tf.Tensor3D {
  const nodes = context.network.sensorIds.length;
  const features = promptFeatures(context, samples);
  const rows = nodes * samples.length;
  const encoded = encodePrompts(param, tf.tensor2d(features.temporal, [rows, TEMPORAL_FEATURES]), tf.tensor2d(features.spatial, [rows, SPATIAL_FEATURES]));
  const prompt = tf.add(tf.tanh(dense(encoded.temporal, param, `${PROJECTION_PREFIX}temporal`)), tf.tanh(dense(encoded.spatial, param, `${PROJECTION_PREFIX}spatial`)));
  return tf.reshape(prompt, [nodes, samples.length, PROMPT_STEPS]) as tf.Tensor3D;
}

export interface PromptForwardOptions {
  readonly config: GraphWaveNetConfig;
  /** the predefined supports (P_f, P_b), read at call time (the session creates them) */
  readonly supports: () => readonly tf.Tensor2D[];
  readonly context: PromptFeatureContext;
  /** false: plain GWN (ablation `pmt`) */
  readonly enabled: boolean;
  /** element-level freezing (split `element-variance`): tensors replaced by a masked mix (weight-split.ts) */
  readonly remap?: (param: ParamLookup) => ParamLookup;
}

/** A `GwnTrainingSession` forward: prompt added to the padded value channel, then Graph WaveNet. */
export function promptConditionedForward(options: PromptForwardOptions): GwnForwardFn {
  const { config } = options;
  return (rawParam, input, samples, forwardOptions) => {
    const param = options.remap ? options.remap(rawParam) : rawParam;
    if (!options.enabled) return gwnForward(config, param, options.supports(), input, forwardOptions);
    const [n, b, t, c] = input.shape;
    const steps = Math.max(PROMPT_STEPS, t);
    const padded = t < steps ? tf.pad(input, [[0, 0], [0, 0], [steps - t, 0], [0, 0]]) : input;
    let prompt = tf.expandDims(promptSignal(param, options.context, samples), 3) as tf.Tensor4D; // [N, B, 13, 1]
    if (steps > PROMPT_STEPS) prompt = tf.pad(prompt, [[0, 0], [0, 0], [steps - PROMPT_STEPS, 0], [0, 0]]);
    if (c > 1) prompt = tf.concat([prompt, tf.zeros([n, b, steps, c - 1])], 3);
    const conditioned = tf.add(padded, prompt) as tf.Tensor4D;
    // gwnForward pads again only if the receptive field exceeds 13 steps (zeros on the left, as the code does)
    return gwnForward(config, param, options.supports(), conditioned, forwardOptions);
  };
}
