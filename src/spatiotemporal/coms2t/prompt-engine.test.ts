import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.js';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import type { GwnWeights } from '../gwn-config.js';
import { prepareTraffic } from '../gwn-data.js';
import type { PromptFeatureContext } from './features.js';
import { initialPromptWeights } from './prompt-encoder.js';
import { tfPromptSignalGradients, tfPromptSignalValues } from '../../../test/support/tfjs-coms2t-prompt.js';
import { PromptSignalModel } from './prompt-engine.js';

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

  const theirs = await tfPromptSignalValues(weights, ctx, samples);
  assert.equal(ours.length, theirs.length);
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i]! - theirs[i]!) < 1e-5, `signal ${i}: ${ours[i]} vs ${theirs[i]}`);
  // the encoder's output heads are computed by the encoder but do not reach the signal
  const names = Object.keys(grads);
  assert.deepEqual(Object.keys(weights).filter((n) => !names.includes(n)).sort(), ['prompt.encoder.spatial.out.bias', 'prompt.encoder.spatial.out.weight', 'prompt.encoder.temporal.out.bias', 'prompt.encoder.temporal.out.weight']);
  const expected = await tfPromptSignalGradients(weights, ctx, samples, upstream, names);
  for (const name of names) {
    const want = expected[name]!;
    const got = grads[name]!.data;
    assert.deepEqual(grads[name]!.shape, weights[name]!.shape);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4 * scale, `${name}[${i}]: ${got[i]} vs ${want[i]}`);
  }
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
