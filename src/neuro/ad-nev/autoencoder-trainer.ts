/**
 * Forward pass, training and scoring of the conv autoencoder (ad-nev.md §1.2, §3.2) on whichever tfjs
 * backend is active. Everything random (initial weights, batch order) comes from keyed seeded streams, and
 * tfjs kernels are deterministic on one thread, so the same (genome, data, seed) gives bit-identical weights
 * and scores in any worker. BatchNorm keeps torch's conventions: batch statistics while training, running
 * averages (momentum 0.1, unbiased variance) when scoring.
 */
import { tf } from '../../train/tf.js';
import { batchNorm1dEval, batchNorm1dTrain, conv1d, convTranspose1d, dense } from '../../train/ops.js';
import { createRng } from '../../core/rng.js';
import {
  initialWeights,
  parameterSpecs,
  planAutoencoder,
  type AutoencoderPlan,
  type ConvAutoencoderGenome,
  type ModelWeights,
} from './conv-autoencoder.js';
import type { WindowBatch } from '../../tasks/anomaly/series.js';

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number | string;
  /** optional cap on optimiser steps (budgeted evolution) */
  readonly maxSteps?: number;
}

export interface TrainResult {
  readonly weights: ModelWeights;
  readonly finalLoss: number;
  readonly steps: number;
}

const BN_MOMENTUM = 0.1;

type Params = Map<string, tf.Tensor>;

/** Reconstruction of x [B, W, F] → [B, W, F]; `onBatchStats` receives BN batch moments while training. */
export function forward(
  plan: AutoencoderPlan,
  params: Params,
  x: tf.Tensor3D,
  training: boolean,
  onBatchStats?: (prefix: string, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number) => void,
): tf.Tensor3D {
  const get = (name: string): tf.Tensor => {
    const value = params.get(name);
    if (!value) throw new Error(`conv autoencoder: missing parameter '${name}'`);
    return value;
  };
  const norm = (prefix: string, h: tf.Tensor3D): tf.Tensor3D => {
    const gamma = get(`${prefix}.bn.weight`) as tf.Tensor1D;
    const beta = get(`${prefix}.bn.bias`) as tf.Tensor1D;
    if (!training) {
      return batchNorm1dEval(h, get(`${prefix}.bn.running_mean`) as tf.Tensor1D, get(`${prefix}.bn.running_var`) as tf.Tensor1D, gamma, beta);
    }
    const { output, mean, variance } = batchNorm1dTrain(h, gamma, beta);
    onBatchStats?.(prefix, mean, variance, h.shape[0] * h.shape[2]);
    return output;
  };
  const activations: tf.Tensor3D[] = [];
  let h = x;
  plan.encoder.forEach((layer, i) => {
    h = conv1d(h, get(`encoder.${i}.weight`) as tf.Tensor3D, get(`encoder.${i}.bias`) as tf.Tensor1D, layer);
    h = tf.relu(norm(`encoder.${i}`, h));
    activations.push(h);
  });
  const fcLayers = plan.fcUnits.length - 1;
  if (fcLayers > 0) {
    const shape = h.shape;
    let flat = tf.reshape(h, [shape[0], plan.fcUnits[0]!]) as tf.Tensor2D;
    for (let i = 0; i < fcLayers; i++) flat = tf.relu(dense(flat, get(`fc_in.${i}.weight`) as tf.Tensor2D, get(`fc_in.${i}.bias`) as tf.Tensor1D));
    for (let i = fcLayers - 1; i >= 0; i--) flat = tf.relu(dense(flat, get(`fc_out.${i}.weight`) as tf.Tensor2D, get(`fc_out.${i}.bias`) as tf.Tensor1D));
    h = tf.reshape(flat, shape) as tf.Tensor3D;
  }
  plan.decoder.forEach((layer, i) => {
    h = convTranspose1d(h, get(`decoder.${i}.weight`) as tf.Tensor3D, get(`decoder.${i}.bias`) as tf.Tensor1D, layer);
    if (!layer.last) {
      h = tf.relu(norm(`decoder.${i}`, h));
      if (layer.skipFrom !== undefined) h = tf.add(h, activations[layer.skipFrom]!);
    }
  });
  return h;
}

export function planOrThrow(genome: ConvAutoencoderGenome, features: number): AutoencoderPlan {
  const plan = planAutoencoder(genome, features);
  if ('invalid' in plan) throw new Error(`invalid conv autoencoder genome: ${plan.invalid}`);
  return plan;
}

function toTensors(weights: ModelWeights, plan: AutoencoderPlan): { variables: Map<string, tf.Variable>; fixed: Map<string, tf.Tensor> } {
  const variables = new Map<string, tf.Variable>();
  const fixed = new Map<string, tf.Tensor>();
  for (const spec of parameterSpecs(plan)) {
    const value = weights[spec.name];
    if (!value) throw new Error(`conv autoencoder: weights lack '${spec.name}'`);
    const tensor = tf.tensor(value.data, [...spec.shape], 'float32');
    if (spec.trainable) {
      variables.set(spec.name, tf.variable(tensor, true));
      tensor.dispose();
    } else fixed.set(spec.name, tensor);
  }
  return { variables, fixed };
}

async function toWeights(tensors: Map<string, tf.Tensor>): Promise<ModelWeights> {
  const weights: ModelWeights = {};
  for (const [name, tensor] of tensors) weights[name] = { shape: tensor.shape, data: (await tensor.data()) as Float32Array };
  return weights;
}

/** Trains a fresh autoencoder (seeded init) on `windows`; returns its weights and the last batch loss. */
export async function trainAutoencoder(genome: ConvAutoencoderGenome, windows: WindowBatch, options: TrainOptions): Promise<TrainResult> {
  const plan = planOrThrow(genome, windows.features);
  if (windows.window !== genome.window) throw new Error(`windows have ${windows.window} steps, genome expects ${genome.window}`);
  const { variables, fixed } = toTensors(initialWeights(plan, options.seed), plan);
  const optimizer = genome.optimizer === 'adam' ? tf.train.adam(genome.learningRate) : tf.train.sgd(genome.learningRate);
  const all = new Map<string, tf.Tensor>([...variables, ...fixed]);
  const stride = windows.window * windows.features;
  const batchSize = Math.min(options.batchSize, windows.count);
  const rng = createRng('train-order', options.seed);
  const order = Array.from({ length: windows.count }, (_, i) => i);
  let steps = 0;
  let finalLoss = NaN;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let start = 0; start + batchSize <= order.length; start += batchSize) {
        if (options.maxSteps !== undefined && steps >= options.maxSteps) break;
        const batch = new Float32Array(batchSize * stride);
        for (let b = 0; b < batchSize; b++) batch.set(windows.data.subarray(order[start + b]! * stride, (order[start + b]! + 1) * stride), b * stride);
        const x = tf.tensor3d(batch, [batchSize, windows.window, windows.features]);
        const updates: [string, tf.Tensor][] = [];
        const loss = optimizer.minimize(() => {
          const y = forward(plan, all, x, true, (prefix, mean, variance, n) => {
            const unbiased = tf.mul(variance, n / Math.max(1, n - 1));
            for (const [suffix, batchValue] of [['running_mean', mean], ['running_var', unbiased]] as const) {
              const name = `${prefix}.bn.${suffix}`;
              updates.push([name, tf.keep(tf.add(tf.mul(all.get(name)!, 1 - BN_MOMENTUM), tf.mul(batchValue, BN_MOMENTUM)))]);
            }
          });
          const diff = tf.sub(y, x);
          return genome.loss === 'l1' ? tf.mean(tf.abs(diff)) : tf.mean(tf.square(diff));
        }, true, [...variables.values()]);
        x.dispose();
        for (const [name, value] of updates) {
          all.get(name)!.dispose();
          all.set(name, value);
        }
        finalLoss = (await loss!.data())[0]!;
        loss!.dispose();
        steps++;
        if (!Number.isFinite(finalLoss)) throw new Error(`training diverged at step ${steps} (loss ${finalLoss})`);
      }
    }
    return { weights: await toWeights(all), finalLoss, steps };
  } finally {
    optimizer.dispose();
    for (const tensor of all.values()) tensor.dispose();
  }
}

/** Per-window mean squared reconstruction error (ad-nev.md §3.2), float64 accumulation. */
export async function scoreWindows(genome: ConvAutoencoderGenome, weights: ModelWeights, windows: WindowBatch, batchSize = 512): Promise<Float64Array> {
  return (await scoreWindowsDetailed(genome, weights, windows, batchSize)).windowScores;
}

/** Per-window scores plus the mean squared error of each feature over all windows and time steps. */
export async function scoreWindowsDetailed(
  genome: ConvAutoencoderGenome,
  weights: ModelWeights,
  windows: WindowBatch,
  batchSize = 512,
): Promise<{ windowScores: Float64Array; featureErrors: Float64Array }> {
  const plan = planOrThrow(genome, windows.features);
  const params = new Map<string, tf.Tensor>();
  for (const spec of parameterSpecs(plan)) {
    const value = weights[spec.name];
    if (!value) throw new Error(`conv autoencoder: weights lack '${spec.name}'`);
    params.set(spec.name, tf.tensor(value.data, [...spec.shape], 'float32'));
  }
  const stride = windows.window * windows.features;
  const scores = new Float64Array(windows.count);
  const featureErrors = new Float64Array(windows.features);
  try {
    for (let start = 0; start < windows.count; start += batchSize) {
      const n = Math.min(batchSize, windows.count - start);
      const input = windows.data.subarray(start * stride, (start + n) * stride);
      const recon = tf.tidy(() => forward(plan, params, tf.tensor3d(input, [n, windows.window, windows.features]), false));
      const out = (await recon.data()) as Float32Array;
      recon.dispose();
      for (let w = 0; w < n; w++) {
        let sum = 0;
        for (let k = 0; k < stride; k++) {
          const d = out[w * stride + k]! - input[w * stride + k]!;
          sum += d * d;
          featureErrors[k % windows.features]! += d * d;
        }
        scores[start + w] = sum / stride;
      }
    }
    for (let f = 0; f < windows.features; f++) featureErrors[f]! /= windows.count * windows.window;
    return { windowScores: scores, featureErrors };
  } finally {
    for (const tensor of params.values()) tensor.dispose();
  }
}
