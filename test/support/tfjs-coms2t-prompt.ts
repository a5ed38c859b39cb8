/**
 * ComS2T's prompt encoder and prompt signal as src/spatiotemporal/coms2t computed them with tfjs before the engine
 * port (issue #22): kept here only as the independent reference the engine versions are tested against
 * (prompt-engine.test.ts, prompted-gwn.test.ts). src/spatiotemporal/coms2t no longer imports tfjs.
 */
import { tf, useBackend } from './tfjs/tf.js';
import type { GwnWeights } from '../../src/spatiotemporal/gwn-config.js';
import { matMul } from './tfjs/matmul.js';
import { SPATIAL_FEATURES, TEMPORAL_FEATURES, promptFeatures, type PromptFeatureContext } from '../../src/spatiotemporal/coms2t/features.js';
import { ENCODER_PREFIX, PROJECTION_PREFIX, PROMPT_STEPS } from '../../src/spatiotemporal/coms2t/prompt-encoder.js';

export type TfParamLookup = (name: string) => tf.Tensor;

function dense(x: tf.Tensor2D, param: TfParamLookup, name: string): tf.Tensor2D {
  return tf.add(matMul(x, param(`${name}.weight`) as tf.Tensor2D), param(`${name}.bias`)) as tf.Tensor2D;
}

/** The encoder on feature rows (temporal [rows, 13], spatial [rows, 2]): hidden prompts and [mean, variance]. */
export function tfEncodePrompts(param: TfParamLookup, temporal: tf.Tensor2D, spatial: tf.Tensor2D): { temporal: tf.Tensor2D; spatial: tf.Tensor2D; output: tf.Tensor2D } {
  const promptT = tf.relu(dense(temporal, param, `${ENCODER_PREFIX}temporal.hidden`)) as tf.Tensor2D;
  const promptS = tf.relu(dense(spatial, param, `${ENCODER_PREFIX}spatial.hidden`)) as tf.Tensor2D;
  const output = tf.mul(dense(promptT, param, `${ENCODER_PREFIX}temporal.out`), dense(promptS, param, `${ENCODER_PREFIX}spatial.out`)) as tf.Tensor2D;
  return { temporal: promptT, spatial: promptS, output };
}

/** The additive prompt [N, B, 13] for inputs of `samples`: tanh(Linear_t(h_t)) + tanh(Linear_s(h_s)). */
export function tfPromptSignal(param: TfParamLookup, context: PromptFeatureContext, samples: readonly number[]): tf.Tensor3D {
  const nodes = context.network.sensorIds.length;
  const features = promptFeatures(context, samples);
  const rows = nodes * samples.length;
  const encoded = tfEncodePrompts(param, tf.tensor2d(features.temporal, [rows, TEMPORAL_FEATURES]), tf.tensor2d(features.spatial, [rows, SPATIAL_FEATURES]));
  const prompt = tf.add(tf.tanh(dense(encoded.temporal, param, `${PROJECTION_PREFIX}temporal`)), tf.tanh(dense(encoded.spatial, param, `${PROJECTION_PREFIX}spatial`)));
  return tf.reshape(prompt, [nodes, samples.length, PROMPT_STEPS]) as tf.Tensor3D;
}

/** tfjs tensors of `weights`, by name, on the cpu backend */
async function lookupOf(weights: GwnWeights): Promise<{ param: TfParamLookup; tensors: Map<string, tf.Tensor> }> {
  await useBackend('cpu');
  const tensors = new Map(Object.entries(weights).map(([name, w]) => [name, tf.tensor(w.data, [...w.shape])]));
  return { param: (name) => tensors.get(name)!, tensors };
}

/** The tfjs prompt signal [N, B, 13] (node-major rows) of `samples` as plain values. */
export async function tfPromptSignalValues(weights: GwnWeights, context: PromptFeatureContext, samples: readonly number[]): Promise<Float32Array> {
  const { param, tensors } = await lookupOf(weights);
  const signal = tfPromptSignal(param, context, samples);
  const values = (await signal.data()) as Float32Array;
  tf.dispose([...tensors.values(), signal]);
  return values;
}

/**
 * tf.grads of Σ upstream ⊙ signal with respect to the tensors `names` (the others held constant): the gradients
 * the engine's backwardFrom(upstream) must give.
 */
export async function tfPromptSignalGradients(weights: GwnWeights, context: PromptFeatureContext, samples: readonly number[], upstream: Float32Array, names: readonly string[]): Promise<Record<string, Float32Array>> {
  const { param, tensors } = await lookupOf(weights);
  const g = tf.tensor(upstream);
  const gradFn = tf.grads((...xs: tf.Tensor[]) => {
    const local = (name: string): tf.Tensor => (names.includes(name) ? xs[names.indexOf(name)]! : param(name));
    return tf.sum(tf.mul(tf.reshape(tfPromptSignal(local, context, samples), [-1]), g));
  });
  const grads = gradFn(names.map((n) => param(n)));
  const out: Record<string, Float32Array> = {};
  for (let k = 0; k < names.length; k++) out[names[k]!] = (await grads[k]!.data()) as Float32Array;
  tf.dispose([...tensors.values(), g, ...grads]);
  return out;
}
