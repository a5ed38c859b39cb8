import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../../train/tf.js';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import { defaultGwnConfig, gwnForward, initialGwnWeights, type GwnWeights } from '../graph-wavenet.js';
import { buildInputs, prepareTraffic, supportsOf } from '../gwn-data.js';
import { GwnTrainingSession } from '../gwn-session.js';
import { promptFeatures, type PromptFeatureContext } from './features.js';
import { PROJECTION_PREFIX, encodePrompts, initialPromptWeights, promptConditionedForward, promptSignal } from './prompt-encoder.js';

before(async () => {
  await useBackend('cpu');
});

function network(steps = 96): TrafficNetwork {
  const nodes = 3;
  const values = new Float64Array(steps * nodes);
  for (let t = 0; t < steps; t++) for (let n = 0; n < nodes; n++) values[t * nodes + n] = 50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8);
  return { sensorIds: ['a', 'b', 'c'], steps, values, adjacency: Float64Array.from([1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5, 1]), source: 'synthetic' };
}

const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 16, dropout: 0 };
const samples = [0, 5, 30];

function lookup(weights: GwnWeights) {
  const cache = new Map<string, tf.Tensor>();
  return {
    param: (name: string): tf.Tensor => {
      if (!cache.has(name)) cache.set(name, tf.tensor(weights[name]!.data, [...weights[name]!.shape]));
      return cache.get(name)!;
    },
    dispose: () => tf.dispose([...cache.values()]),
  };
}

function setup() {
  const prepared = prepareTraffic(network(), 24);
  const config = defaultGwnConfig(3, TINY);
  const supports = supportsOf(prepared);
  const context: PromptFeatureContext = { network: prepared.network, scaler: prepared.scaler, stepsPerDay: 24, coordinates: Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) };
  const weights = { ...initialGwnWeights(config, supports.length, 3), ...initialPromptWeights(4, 5) };
  const input = tf.tensor4d(buildInputs(prepared, samples), [3, samples.length, 12, 2]);
  return { prepared, config, supports, context, weights, input };
}

test('the encoder output is the product of the temporal and spatial 2-vectors (hand-computed row)', async () => {
  const { context, weights, supports, input } = setup();
  const features = promptFeatures(context, [5]);
  const { param, dispose } = lookup(weights);
  const out = await encodePrompts(param, tf.tensor2d(features.temporal, [3, 13]), tf.tensor2d(features.spatial, [3, 2])).output.data();
  const dense = (x: ArrayLike<number>, name: string, relu: boolean): number[] => {
    const w = weights[`${name}.weight`]!;
    const [fanIn, width] = w.shape as [number, number];
    return Array.from({ length: width }, (_, j) => {
      let s = weights[`${name}.bias`]!.data[j]!;
      for (let i = 0; i < fanIn; i++) s += x[i]! * w.data[i * width + j]!;
      return relu ? Math.max(s, 0) : s;
    });
  };
  for (let row = 0; row < 3; row++) {
    const t = dense(dense(features.temporal.slice(row * 13, row * 13 + 13), 'prompt.encoder.temporal.hidden', true), 'prompt.encoder.temporal.out', false);
    const s = dense(dense(features.spatial.slice(row * 2, row * 2 + 2), 'prompt.encoder.spatial.hidden', true), 'prompt.encoder.spatial.out', false);
    for (let k = 0; k < 2; k++) assert.ok(Math.abs(out[row * 2 + k]! - t[k]! * s[k]!) < 1e-5);
  }
  dispose();
  tf.dispose([...supports, input]);
});

test('prompts disabled, or zero projections, give exactly plain Graph WaveNet; real prompts change the output', async () => {
  const { config, supports, context, weights, input } = setup();
  const plainLookup = lookup(weights);
  const plain = await gwnForward(config, plainLookup.param, supports, input, { training: false }).data();
  const forward = (enabled: boolean, w: GwnWeights) => {
    const { param, dispose } = lookup(w);
    const out = promptConditionedForward({ config, supports: () => supports, context, enabled })(param, input, samples, { training: false }).dataSync();
    dispose();
    return out;
  };
  assert.deepEqual(forward(false, weights), plain);
  const zeroed: GwnWeights = { ...weights };
  for (const name of Object.keys(weights)) if (name.startsWith(PROJECTION_PREFIX)) zeroed[name] = { shape: weights[name]!.shape, data: new Float32Array(weights[name]!.data.length) };
  assert.deepEqual(forward(true, zeroed), plain);
  const prompted = forward(true, weights);
  assert.ok(prompted.some((v, i) => Math.abs(v - plain[i]!) > 1e-4), 'a non-zero prompt must change the forecast');
  // the prompt is tanh(P_t·p_t) + tanh(P_s·p_s), bounded by 2 in magnitude
  const signal = await promptSignal(plainLookup.param, context, samples).data();
  assert.equal(signal.length, 3 * samples.length * 13);
  assert.ok(signal.every((v) => Math.abs(v) < 2));
  plainLookup.dispose();
  tf.dispose([...supports, input]);
});

test('a session with prompts disabled and extra prompt tensors forecasts exactly like a plain session', async () => {
  const { prepared, config, supports, context, weights, input } = setup();
  const gwnOnly: GwnWeights = {};
  const extra: GwnWeights = {};
  for (const [name, w] of Object.entries(weights)) (name.startsWith('prompt.') ? extra : gwnOnly)[name] = w;
  const plain = new GwnTrainingSession(prepared, { seed: 0, learningRate: 0, clipNorm: 1, config: TINY, initialWeights: gwnOnly, frozen: () => true });
  const prompted = new GwnTrainingSession(prepared, { seed: 0, learningRate: 0, clipNorm: 1, config: TINY, initialWeights: gwnOnly, extraWeights: extra, frozen: () => true, forward: promptConditionedForward({ config, supports: () => supports, context, enabled: false }) });
  assert.deepEqual(await prompted.forecast(samples), await plain.forecast(samples));
  plain.dispose();
  prompted.dispose();
  tf.dispose([...supports, input]);
});
