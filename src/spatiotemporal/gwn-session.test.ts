import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../train/tf.js';
import type { TrafficNetwork } from '../tasks/traffic/csv-loader.js';
import { prepareTraffic } from './gwn-data.js';
import { GwnTrainingSession } from './gwn-session.js';

before(async () => {
  await useBackend('cpu');
});

function sineNetwork(steps = 96): TrafficNetwork {
  const nodes = 3;
  const values = new Float64Array(steps * nodes);
  for (let t = 0; t < steps; t++) for (let n = 0; n < nodes; n++) values[t * nodes + n] = 50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8);
  return { sensorIds: ['a', 'b', 'c'], steps, values, adjacency: Float64Array.from([1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5, 1]), source: 'synthetic' };
}

const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 16, dropout: 0 };
const samples = Array.from({ length: 40 }, (_, i) => i);

test('frozen tensors stay bit-identical while the others move', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const frozen = (name: string): boolean => name.startsWith('layers.0.') || name === 'start.weight';
  const session = new GwnTrainingSession(prepared, { seed: 1, learningRate: 1e-2, clipNorm: 5, config: TINY, frozen });
  const before = await session.snapshot();
  await session.trainEpoch(samples, { batchSize: 8, weightDecay: 1e-3 });
  const after = await session.snapshot();
  session.dispose();
  assert.ok(!session.trainableNames().includes('start.weight'));
  for (const name of Object.keys(before)) {
    const same = before[name]!.data.every((v, i) => Object.is(v, after[name]!.data[i]));
    if (frozen(name) && !name.includes('running')) assert.ok(same, `${name} changed although frozen`);
  }
  assert.ok(!before['end2.weight']!.data.every((v, i) => v === after['end2.weight']!.data[i]), 'a trainable tensor did not move');
});

test('a session started from a snapshot forecasts exactly like the original', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const first = new GwnTrainingSession(prepared, { seed: 2, learningRate: 1e-2, clipNorm: 5, config: TINY });
  await first.trainEpoch(samples, { batchSize: 8, weightDecay: 0 });
  const weights = await first.snapshot();
  const expected = await first.forecast([41, 42, 43]);
  first.dispose();
  const second = new GwnTrainingSession(prepared, { seed: 99, learningRate: 1e-2, clipNorm: 5, config: TINY, initialWeights: weights });
  const actual = await second.forecast([41, 42, 43]);
  second.dispose();
  assert.deepEqual(Array.from(actual), Array.from(expected));
});

test('gradients match a central finite difference of the validation loss', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const session = new GwnTrainingSession(prepared, { seed: 3, learningRate: 1e-2, clipNorm: 5, config: TINY });
  const batch = [5, 9, 13];
  const grads = await session.gradients(batch);
  const base = await session.snapshot();
  session.dispose();
  const name = 'end2.bias';
  const lossAt = async (delta: number): Promise<number> => {
    const shifted = { ...base, [name]: { shape: base[name]!.shape, data: base[name]!.data.map((v, i) => (i === 0 ? v + delta : v)) } };
    const probe = new GwnTrainingSession(prepared, { seed: 3, learningRate: 0, clipNorm: 5, config: TINY, initialWeights: shifted });
    const mae = (await probe.evaluate(batch)).mae;
    probe.dispose();
    return mae;
  };
  const h = 1e-2;
  const numeric = ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
  assert.ok(Math.abs(grads[name]![0]! - numeric) < 2e-2 * Math.max(1, Math.abs(numeric)), `analytic ${grads[name]![0]} vs numeric ${numeric}`);
  assert.ok(Math.abs(numeric) > 1e-3, 'the probed gradient should not be ~0');
});

test('DropConnect changes training but p = 0 equals no DropConnect', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const run = async (p: number | undefined): Promise<number> => {
    const session = new GwnTrainingSession(prepared, { seed: 4, learningRate: 1e-2, clipNorm: 5, config: TINY });
    const { loss } = await session.trainEpoch(samples, { batchSize: 8, weightDecay: 0, dropConnect: p });
    session.dispose();
    return loss;
  };
  const plain = await run(undefined);
  assert.equal(await run(0), plain);
  assert.notEqual(await run(0.5), plain);
});

test('a DropConnect-masked step leaves BatchNorm running statistics as an unmasked step would (issue #14)', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const batch = [3, 7, 11, 15, 19, 23, 27, 31];
  // activation dropout on, so the statistics pass must also reuse the step's dropout seed
  const config = { ...TINY, dropout: 0.3 };
  const oneStep = async (dropConnect: number | undefined): Promise<Awaited<ReturnType<GwnTrainingSession['snapshot']>>> => {
    const session = new GwnTrainingSession(prepared, { seed: 5, learningRate: 1e-2, clipNorm: 5, config });
    if (dropConnect !== undefined) await session.step(batch, { batchSize: 8, weightDecay: 0, dropConnect });
    const after = await session.snapshot();
    session.dispose();
    return after;
  };
  const [initial, plain, masked] = [await oneStep(undefined), await oneStep(0), await oneStep(0.5)];
  const stats = Object.keys(plain).filter((name) => name.includes('.bn.running_'));
  assert.equal(stats.length, 2 * 8);
  // both steps start from the same weights, so the statistics are bit-identical: the masks never reach them
  for (const name of stats) {
    assert.deepEqual(Array.from(masked[name]!.data), Array.from(plain[name]!.data), `${name} differs after a masked step`);
    assert.ok(!plain[name]!.data.every((v, i) => v === initial[name]!.data[i]), `${name} did not move at all`);
  }
  // the masks did change the update of the trainable weights
  assert.ok(!masked['end2.weight']!.data.every((v, i) => v === plain['end2.weight']!.data[i]));
});

test('a custom forward flagged as masked is run without its masks for the statistics pass', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const passes: boolean[] = [];
  const { gwnForward } = await import('./graph-wavenet.js');
  let session: GwnTrainingSession | undefined;
  session = new GwnTrainingSession(prepared, {
    seed: 6,
    learningRate: 1e-2,
    clipNorm: 5,
    config: TINY,
    forward: (param, input, _samples, options) => {
      passes.push(options.statisticsPass === true);
      return gwnForward(session!.config, param, session!.predefinedSupports, input, options);
    },
  });
  await session.step([1, 2, 3, 4], { batchSize: 4, weightDecay: 0, masked: true });
  await session.step([1, 2, 3, 4], { batchSize: 4, weightDecay: 0 });
  session.dispose();
  // masked step: statistics pass then the training pass; unmasked step: one pass that records statistics
  assert.deepEqual(passes, [true, false, false]);
});
