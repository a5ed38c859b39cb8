/**
 * The prompt objective on its own (coms2t.md §3.3 Stage 1a and §3.5 Stage 2): Adam on the prompt encoder's
 * tensors only, masked MAE between the encoder output and the true [mean, population variance] of each node's
 * next 12 readings. The projections and every backbone tensor are left untouched (they are not inputs of the
 * objective). No weight decay and no clipping: the encoder is tiny and the objective is bounded.
 */
import { tf } from '../../train/tf.js';
import { createRng } from '../../core/rng.js';
import type { GwnWeights } from '../graph-wavenet.js';
import { SPATIAL_FEATURES, TEMPORAL_FEATURES, promptFeatures, promptTargets, type PromptFeatureContext } from './features.js';
import { encodePrompts, isEncoderTensor, promptLoss } from './prompt-encoder.js';

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

function batchTensors(context: PromptFeatureContext, samples: readonly number[]) {
  const rows = context.network.sensorIds.length * samples.length;
  const features = promptFeatures(context, samples);
  const targets = promptTargets(context, samples);
  return {
    temporal: tf.tensor2d(features.temporal, [rows, TEMPORAL_FEATURES]),
    spatial: tf.tensor2d(features.spatial, [rows, SPATIAL_FEATURES]),
    target: tf.tensor2d(targets.target, [rows, 2]),
    mask: tf.tensor1d(targets.mask),
  };
}

/** Trains the encoder tensors of `weights` (other tensors are returned unchanged) on `samples`. */
export async function trainPromptEncoder(weights: GwnWeights, context: PromptFeatureContext, samples: readonly number[], options: PromptTrainingOptions): Promise<PromptTrainingResult> {
  const variables = new Map<string, tf.Variable>();
  for (const [name, w] of Object.entries(weights)) if (isEncoderTensor(name)) variables.set(name, tf.variable(tf.tensor(w.data, [...w.shape]), true));
  const param = (name: string): tf.Tensor => {
    const v = variables.get(name);
    if (!v) throw new Error(`prompt encoder: missing tensor '${name}'`);
    return v;
  };
  const optimizer = tf.train.adam(options.learningRate);
  const rng = createRng('coms2t-prompt-order', options.seed);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const order = [...samples];
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const batchSize = Math.min(options.batchSize, order.length);
      let sum = 0;
      let steps = 0;
      for (let start = 0; start + batchSize <= order.length; start += batchSize) {
        const batch = batchTensors(context, order.slice(start, start + batchSize));
        const loss = optimizer.minimize(() => promptLoss(encodePrompts(param, batch.temporal, batch.spatial).output, batch.target, batch.mask), true, [...variables.values()]);
        sum += (await loss!.data())[0]!;
        steps++;
        tf.dispose([loss!, batch.temporal, batch.spatial, batch.target, batch.mask]);
      }
      losses.push(sum / Math.max(steps, 1));
    }
    const out: GwnWeights = { ...weights };
    for (const [name, v] of variables) out[name] = { shape: v.shape, data: Float32Array.from(await v.data()) };
    return { weights: out, losses };
  } finally {
    optimizer.dispose();
    tf.dispose([...variables.values()]);
  }
}

/** The prompt objective (masked MAE in z-score units) of `weights` on `samples`. */
export async function promptObjective(weights: GwnWeights, context: PromptFeatureContext, samples: readonly number[], chunk = 64): Promise<number> {
  let errorSum = 0;
  let count = 0;
  for (let start = 0; start < samples.length; start += chunk) {
    const batch = batchTensors(context, samples.slice(start, start + chunk));
    const [sum, valid] = tf.tidy(() => {
      const lookup = (name: string): tf.Tensor => tf.tensor(weights[name]!.data, [...weights[name]!.shape]);
      const output = encodePrompts(lookup, batch.temporal, batch.spatial).output;
      return [tf.sum(tf.mul(tf.abs(tf.sub(output, batch.target)), tf.expandDims(batch.mask, 1))), tf.mul(tf.sum(batch.mask), 2)];
    });
    errorSum += (await sum.data())[0]!;
    count += (await valid.data())[0]!;
    tf.dispose([sum, valid, batch.temporal, batch.spatial, batch.target, batch.mask]);
  }
  return count > 0 ? errorSum / count : Number.NaN;
}
