import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../../train/tf.js';
import { createRng } from '../../core/rng.js';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import type { GwnWeights } from '../graph-wavenet.js';
import { prepareTraffic } from '../gwn-data.js';
import type { PromptFeatureContext } from './features.js';
import { initialPromptWeights, promptSignal } from './prompt-encoder.js';
import { PromptSignalModel } from './prompt-engine.js';

before(async () => {
  await useBackend('cpu');
});

function context(): PromptFeatureContext {
  const steps = 96;
  const nodes = 3;
  const values = new Float64Array(steps * nodes);
  for (let t = 0; t < steps; t++) for (let n = 0; n < nodes; n++) values[t * nodes + n] = 50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8);
  const network: TrafficNetwork = { sensorIds: ['a', 'b', 'c'], steps, values, adjacency: Float64Array.from([1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5, 1]), source: 'synthetic' };
  const prepared = prepareTraffic(network, 24);
  return { network: prepared.network, scaler: prepared.scaler, stepsPerDay: 24, coordinates: Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) };
}

const samples = [0, 5, 30, 41];

test('the engine prompt signal and its gradients equal the tfjs prompt signal and tf.grads of Σ g ⊙ signal', async () => {
  const ctx = context();
  const weights: GwnWeights = initialPromptWeights(11, 6);
  const engine = new PromptSignalModel(ctx, samples.length, weights);
  const ours = Float32Array.from(engine.signal(samples));
  const rng = createRng('prompt-engine-test', 1);
  const upstream = Float32Array.from({ length: ours.length }, () => 2 * rng.next() - 1);
  engine.backward(upstream);
  const grads = engine.gradients();

  const names = Object.keys(grads);
  const tensors = names.map((n) => tf.tensor(weights[n]!.data, [...weights[n]!.shape]));
  // the encoder's output heads are computed by encodePrompts but do not reach the signal: constants here
  const heads = new Map(Object.keys(weights).filter((n) => !names.includes(n)).map((n) => [n, tf.tensor(weights[n]!.data, [...weights[n]!.shape])]));
  const lookup = (name: string): tf.Tensor => heads.get(name) ?? tensors[names.indexOf(name)]!;
  const reference = promptSignal(lookup, ctx, samples);
  const theirs = await reference.data();
  assert.equal(ours.length, theirs.length);
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i]! - theirs[i]!) < 1e-5, `signal ${i}: ${ours[i]} vs ${theirs[i]}`);
  assert.deepEqual([...heads.keys()].sort(), ['prompt.encoder.spatial.out.bias', 'prompt.encoder.spatial.out.weight', 'prompt.encoder.temporal.out.bias', 'prompt.encoder.temporal.out.weight']);

  const g = tf.tensor(upstream, reference.shape);
  const gradFn = tf.grads((...xs: tf.Tensor[]) => {
    const local = (name: string): tf.Tensor => heads.get(name) ?? xs[names.indexOf(name)]!;
    return tf.sum(tf.mul(promptSignal(local, ctx, samples), g));
  });
  const expected = gradFn(tensors);
  for (let k = 0; k < names.length; k++) {
    const want = await expected[k]!.data();
    const got = grads[names[k]!]!.data;
    assert.deepEqual(grads[names[k]!]!.shape, weights[names[k]!]!.shape);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4 * scale, `${names[k]}[${i}]: ${got[i]} vs ${want[i]}`);
  }
  tf.dispose([...tensors, ...heads.values(), reference, g, ...expected]);
});

test('weights round-trip through the engine layout unchanged', () => {
  const weights = initialPromptWeights(2, 5);
  const engine = new PromptSignalModel(context(), 2, weights);
  for (const [name, w] of Object.entries(engine.weights())) assert.deepEqual(w.data, weights[name]!.data, name);
});

test('a wrong-length output gradient is refused', () => {
  const engine = new PromptSignalModel(context(), 2, initialPromptWeights(2, 5));
  engine.signal([0, 1]);
  assert.throws(() => engine.backward(new Float32Array(5)), { code: 'SHAPE_MISMATCH' });
});
