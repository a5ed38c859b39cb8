/**
 * Training and forecasting of Graph WaveNet under the 12-in/12-out protocol (spatiotemporal.md §1 "Training
 * defaults", §2): Adam with L2 weight decay, gradient-norm clip, loss = masked MAE on inverse-scaled
 * predictions, model selection on the validation masked MAE. Inputs carry two channels: the z-scored value
 * and the time-of-day fraction. Initial weights, batch order and dropout masks come from keyed seeded streams.
 */
import { tf } from '../train/tf.js';
import { createRng } from '../core/rng.js';
import type { TrafficNetwork } from '../tasks/traffic/csv-loader.js';
import { HORIZON_STEPS, INPUT_STEPS, STEPS_PER_DAY_5MIN, chronologicalSplit, fitScaler, timeOfDay, type ForecastSplits, type SampleRange, type ZScoreScaler } from '../tasks/traffic/windows.js';
import { forecastTargets } from './baselines.js';
import { maskedMetrics } from './metrics.js';
import {
  defaultGwnConfig,
  gwnForward,
  initialGwnWeights,
  isTrainable,
  parameterSpecs,
  transitionMatrices,
  type GraphWaveNetConfig,
  type GwnWeights,
} from './graph-wavenet.js';

export interface PreparedTraffic {
  readonly network: TrafficNetwork;
  readonly splits: ForecastSplits;
  readonly scaler: ZScoreScaler;
  readonly stepsPerDay: number;
}

export function prepareTraffic(network: TrafficNetwork, stepsPerDay = STEPS_PER_DAY_5MIN): PreparedTraffic {
  const splits = chronologicalSplit(network.steps);
  return { network, splits, scaler: fitScaler(network, splits.trainStepEnd), stepsPerDay };
}

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
}

export const DEFAULT_GWN_TRAINING: Omit<GwnTrainOptions, 'seed'> = { epochs: 100, batchSize: 64, learningRate: 1e-3, weightDecay: 1e-4, clipNorm: 5 };

export interface EpochRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valMae: number;
  readonly seconds: number;
}

export interface TrainedGwn {
  readonly config: GraphWaveNetConfig;
  readonly weights: GwnWeights;
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
}

/** Inputs [N, B, 12, 2] (z-scored value, time of day) for the given sample indices. */
export function buildInputs(prepared: PreparedTraffic, samples: readonly number[]): Float32Array {
  const { network, scaler, stepsPerDay } = prepared;
  const nodes = network.sensorIds.length;
  const batch = samples.length;
  const out = new Float32Array(nodes * batch * INPUT_STEPS * 2);
  samples.forEach((sample, b) => {
    for (let t = 0; t < INPUT_STEPS; t++) {
      const step = sample + t;
      const tod = timeOfDay(step, stepsPerDay);
      for (let n = 0; n < nodes; n++) {
        const at = ((n * batch + b) * INPUT_STEPS + t) * 2;
        out[at] = (network.values[step * nodes + n]! - scaler.mean) / scaler.std;
        out[at + 1] = tod;
      }
    }
  });
  return out;
}

function targetsOf(prepared: PreparedTraffic, samples: readonly number[]): Float32Array {
  const nodes = prepared.network.sensorIds.length;
  const out = new Float32Array(samples.length * HORIZON_STEPS * nodes);
  samples.forEach((sample, b) => out.set(forecastTargets(prepared.network, { start: sample, end: sample + 1 }), b * HORIZON_STEPS * nodes));
  return out;
}

function supportsOf(prepared: PreparedTraffic): tf.Tensor2D[] {
  const nodes = prepared.network.sensorIds.length;
  return transitionMatrices(prepared.network.adjacency, nodes).map((m) => tf.tensor2d(m, [nodes, nodes]));
}

/** Masked MAE of inverse-scaled predictions [B, 12, N] against raw labels (0 = missing). */
function maskedMaeLoss(predicted: tf.Tensor3D, labels: tf.Tensor3D, scaler: ZScoreScaler): tf.Scalar {
  const mask = tf.cast(tf.notEqual(labels, 0), 'float32');
  const error = tf.mul(tf.abs(tf.sub(tf.add(tf.mul(predicted, scaler.std), scaler.mean), labels)), mask);
  return tf.div(tf.sum(error), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

function rangeIndices(range: SampleRange): number[] {
  return Array.from({ length: range.end - range.start }, (_, i) => range.start + i);
}

/** Forecasts [samples, 12, N] in original units for the samples in `range`. */
export async function forecastGwn(prepared: PreparedTraffic, model: Pick<TrainedGwn, 'config' | 'weights'>, range: SampleRange, batchSize = 64): Promise<Float64Array> {
  const params = new Map(Object.entries(model.weights).map(([name, w]) => [name, tf.tensor(w.data, [...w.shape]) as tf.Tensor]));
  const supports = supportsOf(prepared);
  try {
    return await forecastWith(prepared, model.config, params, supports, range, batchSize);
  } finally {
    for (const t of [...params.values(), ...supports]) t.dispose();
  }
}

async function forecastWith(
  prepared: PreparedTraffic,
  config: GraphWaveNetConfig,
  params: Map<string, tf.Tensor>,
  supports: readonly tf.Tensor2D[],
  range: SampleRange,
  batchSize: number,
): Promise<Float64Array> {
  const nodes = config.nodes;
  const indices = rangeIndices(range);
  const out = new Float64Array(indices.length * HORIZON_STEPS * nodes);
  const param = (name: string): tf.Tensor => params.get(name) ?? missing(name);
  for (let start = 0; start < indices.length; start += batchSize) {
    const chunk = indices.slice(start, start + batchSize);
    const predicted = tf.tidy(() => {
      const x = tf.tensor4d(buildInputs(prepared, chunk), [nodes, chunk.length, INPUT_STEPS, 2]);
      return tf.add(tf.mul(gwnForward(config, param, supports, x, { training: false }), prepared.scaler.std), prepared.scaler.mean);
    });
    out.set(await predicted.data(), start * HORIZON_STEPS * nodes);
    predicted.dispose();
  }
  return out;
}

function missing(name: string): never {
  throw new Error(`graph wavenet: missing parameter '${name}'`);
}

const BN_MOMENTUM = 0.1;

export async function trainGwn(prepared: PreparedTraffic, options: GwnTrainOptions): Promise<TrainedGwn> {
  const nodes = prepared.network.sensorIds.length;
  const config = defaultGwnConfig(nodes, options.config);
  const supports = supportsOf(prepared);
  const specs = parameterSpecs(config, supports.length);
  const initial = initialGwnWeights(config, supports.length, options.seed);
  const params = new Map<string, tf.Tensor>();
  const variables: tf.Variable[] = [];
  for (const spec of specs) {
    const w = initial[spec.name]!;
    if (isTrainable(spec)) {
      const v = tf.variable(tf.tensor(w.data, [...w.shape]), true);
      variables.push(v);
      params.set(spec.name, v);
    } else params.set(spec.name, tf.tensor(w.data, [...w.shape]));
  }
  const param = (name: string): tf.Tensor => params.get(name) ?? missing(name);
  const optimizer = tf.train.adam(options.learningRate);
  const order = rangeIndices(prepared.splits.train);
  const rng = createRng('gwn-order', options.seed);
  const batchSize = Math.min(options.batchSize, order.length);
  const valRange = prepared.splits.val;
  const valTruth = forecastTargets(prepared.network, valRange);
  const history: EpochRecord[] = [];
  let best: { epoch: number; mae: number; weights: GwnWeights } | undefined;
  let step = 0;
  const trainingStarted = performance.now();
  const outOfTime = (): boolean => options.maxSeconds !== undefined && (performance.now() - trainingStarted) / 1000 >= options.maxSeconds;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start + batchSize <= order.length; start += batchSize) {
        if (options.maxStepsPerEpoch !== undefined && batches >= options.maxStepsPerEpoch) break;
        if (outOfTime() && batches > 0) break;
        const chunk = order.slice(start, start + batchSize);
        const x = tf.tensor4d(buildInputs(prepared, chunk), [nodes, chunk.length, INPUT_STEPS, 2]);
        const y = tf.tensor3d(targetsOf(prepared, chunk), [chunk.length, HORIZON_STEPS, nodes]);
        const statUpdates: [string, tf.Tensor][] = [];
        const dropoutSeed = createRng('gwn-dropout', options.seed, step).nextUint32() % 1_000_000;
        const { value, grads } = tf.variableGrads(() =>
          maskedMaeLoss(
            gwnForward(config, param, supports, x, {
              training: true,
              dropoutSeed,
              onBatchStats: (layer, mean, variance, count) => {
                const unbiased = tf.mul(variance, count / Math.max(1, count - 1));
                for (const [suffix, batchValue] of [['running_mean', mean], ['running_var', unbiased]] as const) {
                  const name = `layers.${layer}.bn.${suffix}`;
                  statUpdates.push([name, tf.keep(tf.add(tf.mul(param(name), 1 - BN_MOMENTUM), tf.mul(batchValue, BN_MOMENTUM)))]);
                }
              },
            }),
            y,
            prepared.scaler,
          ),
          variables,
        );
        const adjusted = tf.tidy(() => {
          // Adam's weight_decay in PyTorch adds λ·w to the gradient before the moment updates
          const decayed: Record<string, tf.Tensor> = {};
          // the last layer's graph convolution and BatchNorm feed nothing (only its skip reaches the head), so
          // they get no gradient and, as in PyTorch, no update
          for (const v of variables) {
            const grad = grads[v.name];
            if (grad) decayed[v.name] = tf.add(grad, tf.mul(v, options.weightDecay));
          }
          const norm = tf.sqrt(tf.addN(Object.values(decayed).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!;
          const scale = norm > options.clipNorm ? options.clipNorm / norm : 1;
          const clipped: Record<string, tf.Tensor> = {};
          for (const [name, g] of Object.entries(decayed)) clipped[name] = tf.mul(g, scale);
          return clipped;
        });
        optimizer.applyGradients(Object.entries(adjusted).map(([name, tensor]) => ({ name, tensor })));
        for (const [name, updated] of statUpdates) {
          params.get(name)?.dispose();
          params.set(name, updated);
        }
        const loss = (await value.data())[0]!;
        tf.dispose([value, x, y, ...Object.values(grads).filter((g) => g !== null), ...Object.values(adjusted)]);
        if (!Number.isFinite(loss)) throw new Error(`graph wavenet training diverged at step ${step} (loss ${loss})`);
        lossSum += loss;
        batches++;
        step++;
      }
      const valForecast = await forecastWith(prepared, config, params, supports, valRange, 64);
      const valMae = maskedMetrics(valForecast, valTruth).mae;
      const record: EpochRecord = { epoch, trainLoss: lossSum / Math.max(batches, 1), valMae, seconds: (performance.now() - started) / 1000 };
      history.push(record);
      options.onEpoch?.(record);
      if (!best || valMae < best.mae) best = { epoch, mae: valMae, weights: await snapshot(params) };
      if (outOfTime()) break;
    }
    if (!best) throw new Error('graph wavenet: no epoch ran (epochs must be ≥ 1)');
    return { config, weights: best.weights, history, bestEpoch: best.epoch };
  } finally {
    optimizer.dispose();
    tf.dispose([...params.values(), ...supports]);
  }
}

async function snapshot(params: Map<string, tf.Tensor>): Promise<GwnWeights> {
  const weights: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
  for (const [name, tensor] of params) weights[name] = { shape: tensor.shape, data: Float32Array.from(await tensor.data()) };
  return weights;
}
