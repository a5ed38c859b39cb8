/**
 * The engine's Graph WaveNet session (gwn-engine-session.ts) holds the tfjs session's contract
 * (formerly gwn-session.test.ts; the tfjs session is now test/support/gwn-tfjs-session.ts): frozen tensors, snapshots, gradients against finite differences, DropConnect and
 * activation dropout, BatchNorm statistics untouched by masks (on 1 and 2 workers); its first step's loss and
 * its forecasts equal the tfjs session's on the same weights and batch; on 2 data-parallel workers it follows
 * the 1-worker trajectory.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../test/support/tfjs/tf.js';
import type { TrafficNetwork } from '../tasks/traffic/csv-loader.js';
import { prepareTraffic } from './gwn-data.js';
import { availableParallelism } from 'node:os';
import { DATA_PARALLEL_MIN, GwnEngineSession, autoWorkers } from './gwn-engine-session.js';
import { GWN_LAYER, engineTensor } from './gwn-engine.js';
import { GwnTrainingSession } from '../../test/support/gwn-tfjs-session.js';
import { fitSamples } from './gwn-fit.js';

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

test('engine session: frozen tensors stay bit-identical while the others move', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const frozen = (name: string): boolean => name.startsWith('layers.0.') || name === 'start.weight';
  const session = new GwnEngineSession(prepared, { seed: 1, learningRate: 1e-2, clipNorm: 5, config: TINY, frozen });
  const before = await session.snapshot();
  await fitSamples(session, samples, { epochs: 1, batchSize: 8, step: { weightDecay: 1e-3 } });
  const after = await session.snapshot();
  assert.ok(!session.trainableNames().includes('start.weight'));
  let checked = 0;
  for (const name of Object.keys(before)) {
    const same = before[name]!.data.every((v, i) => Object.is(v, after[name]!.data[i]));
    if (frozen(name) && !name.includes('running')) {
      assert.ok(same, `${name} changed although frozen`);
      checked++;
    }
  }
  assert.equal(checked, 9);
  assert.ok(!before['end2.weight']!.data.every((v, i) => v === after['end2.weight']!.data[i]), 'a trainable tensor did not move');
});

test('engine session: a session started from a snapshot forecasts exactly like the original', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const first = new GwnEngineSession(prepared, { seed: 2, learningRate: 1e-2, clipNorm: 5, config: TINY });
  await fitSamples(first, samples, { epochs: 1, batchSize: 8, step: { weightDecay: 0 } });
  const weights = await first.snapshot();
  const expected = await first.forecast([41, 42, 43]);
  const second = new GwnEngineSession(prepared, { seed: 99, learningRate: 1e-2, clipNorm: 5, config: TINY, initialWeights: weights });
  const actual = await second.forecast([41, 42, 43]);
  assert.deepEqual(Array.from(actual), Array.from(expected));
  // a short last chunk (padded internally) forecasts as in a full one
  const chunked = await second.forecast([41, 42, 43], 2);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(chunked[i]! - actual[i]!) < 1e-4, `chunked forecast [${i}]`);
});

for (const batch of [[5, 9, 13], Array.from({ length: 21 }, (_, i) => 5 + 2 * i)]) test(`engine session: gradients on ${batch.length} windows (${batch.length > 16 ? 'two chunks, the second padded' : 'one chunk'}) match a central finite difference of the loss`, async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const session = new GwnEngineSession(prepared, { seed: 3, learningRate: 1e-2, clipNorm: 5, config: TINY });
  const grads = await session.gradients(batch);
  const base = await session.snapshot();
  for (const name of ['end2.bias', 'layers.1.tcn.weight', 'node_emb1']) {
    const lossAt = async (delta: number): Promise<number> => {
      const shifted = { ...base, [name]: { shape: base[name]!.shape, data: base[name]!.data.map((v, i) => (i === 0 ? v + delta : v)) } };
      const probe = new GwnEngineSession(prepared, { seed: 3, learningRate: 0, clipNorm: 5, config: TINY, initialWeights: shifted });
      return (await probe.evaluate(batch)).mae;
    };
    const h = 1e-2;
    const numeric = ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
    assert.ok(Math.abs(grads[name]![0]! - numeric) < 2e-2 * Math.max(1, Math.abs(numeric)), `${name}: analytic ${grads[name]![0]} vs numeric ${numeric}`);
    if (name === 'end2.bias') assert.ok(Math.abs(numeric) > 1e-3, 'the probed gradient should not be ~0');
  }
});

test('engine session: DropConnect changes training but p = 0 equals no DropConnect', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const run = async (p: number | undefined): Promise<number> => {
    const session = new GwnEngineSession(prepared, { seed: 4, learningRate: 1e-2, clipNorm: 5, config: TINY });
    return (await fitSamples(session, samples, { epochs: 1, batchSize: 8, step: { weightDecay: 0, dropConnect: p } })).meanLoss;
  };
  const plain = await run(undefined);
  assert.equal(await run(0), plain);
  assert.notEqual(await run(0.5), plain);
});

for (const workers of [1, 2] as const) for (const mode of ['dropConnect', 'activationDropout'] as const) test(`engine session (${workers} worker${workers > 1 ? 's' : ''}): a ${mode}-masked step leaves BatchNorm running statistics as an unmasked step would (issue #14)`, async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const batch = [3, 7, 11, 15, 19, 23, 27, 31];
  const config = { ...TINY, dropout: 0.3 };
  const oneStep = async (p: number | undefined) => {
    const session = new GwnEngineSession(prepared, { seed: 5, learningRate: 1e-2, clipNorm: 5, config, workers });
    await session.ready(batch.length);
    // the unmasked reference is a plain step (configured dropout 0.3): activationDropout 0 would run without dropout
    if (p !== undefined) session.step(batch, { weightDecay: 0, ...(p > 0 ? { [mode]: p } : {}) });
    const result = { weights: await session.snapshot(), forecast: await session.forecast([40, 50]) };
    await session.dispose();
    return result;
  };
  const [initial, plain, masked] = [await oneStep(undefined), await oneStep(0), await oneStep(0.5)];
  // the last block's BN is not built by the engine (it reaches no output)
  const stats = Object.keys(plain.weights).filter((name) => name.includes('.bn.running_') && !name.startsWith('layers.7.'));
  assert.equal(stats.length, 2 * 7);
  for (const name of stats) {
    assert.deepEqual(Array.from(masked.weights[name]!.data), Array.from(plain.weights[name]!.data), `${name} differs after a masked step`);
    assert.ok(!plain.weights[name]!.data.every((v, i) => v === initial.weights[name]!.data[i]), `${name} did not move at all`);
  }
  assert.ok(!masked.weights['end2.weight']!.data.every((v, i) => v === plain.weights['end2.weight']!.data[i]));
  assert.notDeepEqual(Array.from(masked.forecast), Array.from(plain.forecast));
});

test('engine session: activation dropout changes the step by its rate, 0 runs without dropout, and the configured rate comes back', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const batch = [2, 6, 10, 14, 18, 22, 26, 30];
  const lossOf = (config: object, epoch: object): number => new GwnEngineSession(prepared, { seed: 7, learningRate: 1e-2, clipNorm: 5, config: { ...TINY, ...config } }).step(batch, { weightDecay: 0, ...epoch });
  // activationDropout p on a model configured with 0.3 = a plain step of the model configured with p (same masks)
  for (const p of [0, 0.6]) assert.equal(lossOf({ dropout: 0.3 }, { activationDropout: p }), lossOf({ dropout: p }, {}), `p ${p}`);
  assert.notEqual(lossOf({ dropout: 0.3 }, { activationDropout: 0.6 }), lossOf({ dropout: 0.3 }, {}));
  // after an activation-dropout step the next plain step uses the configured rate again
  const twice = (first: object): number => {
    const session = new GwnEngineSession(prepared, { seed: 7, learningRate: 0, clipNorm: 5, config: { ...TINY, dropout: 0.3 } });
    session.step(batch, { weightDecay: 0, ...first });
    return session.step(batch, { weightDecay: 0 });
  };
  assert.equal(twice({ activationDropout: 0.6 }), twice({}));
});

test('engine session = tfjs session on the same weights: first-step loss, then forecasts of the initial weights', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const engine = new GwnEngineSession(prepared, { seed: 6, learningRate: 1e-3, clipNorm: 5, config: TINY });
  const weights = await engine.snapshot();
  const tfjs = new GwnTrainingSession(prepared, { seed: 6, learningRate: 1e-3, clipNorm: 5, config: TINY, initialWeights: weights });
  const probe = [41, 45, 50, 60];
  const [ours, theirs] = [await engine.forecast(probe), await tfjs.forecast(probe)];
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i]! - theirs[i]!) < 1e-3, `forecast[${i}]: engine ${ours[i]} vs tfjs ${theirs[i]}`);
  const batch = [2, 4, 6, 8, 10, 12, 14, 16];
  const lossEngine = engine.step(batch, { weightDecay: 1e-4 });
  const lossTfjs = await tfjs.step(batch, { weightDecay: 1e-4 });
  tfjs.dispose();
  assert.ok(Math.abs(lossEngine - lossTfjs) < 1e-4 * lossTfjs, `first-step loss: engine ${lossEngine} vs tfjs ${lossTfjs}`);
});

test('engine session on 2 data-parallel workers = 1 worker: loss trajectory, weights and frozen tensors (DropConnect, weight decay, clipping)', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  // each batch is 4 windows twice, so both halves have the full batch's BatchNorm statistics (the replicas
  // normalise with their own) and the data-parallel trajectory must equal the single-thread one
  const batches = [[1, 5, 9, 13], [20, 3, 33, 17], [8, 29, 2, 24], [11, 36, 6, 15]].map((b) => [...b, ...b]);
  const frozen = (name: string): boolean => name.startsWith('layers.1.');
  const run = async (workers: 1 | 2) => {
    const session = new GwnEngineSession(prepared, { seed: 8, learningRate: 1e-2, clipNorm: 0.5, config: TINY, frozen, workers });
    const initial = await session.snapshot();
    await session.ready(8);
    assert.equal(session.activeWorkers, workers);
    const losses = batches.map((batch, i) => session.step(batch, { weightDecay: 1e-3, dropConnect: i === 0 ? 0 : 0.3 }));
    const result = { losses, initial, weights: await session.snapshot(), forecast: await session.forecast([40, 44, 48]) };
    await session.dispose();
    return result;
  };
  const [one, two] = [await run(1), await run(2)];
  for (let i = 0; i < one.losses.length; i++) assert.ok(Math.abs(two.losses[i]! - one.losses[i]!) <= 1e-5 * one.losses[i]!, `loss at step ${i + 1}: 2 workers ${two.losses[i]} vs 1 worker ${one.losses[i]}`);
  let moved = 0;
  for (const [name, w] of Object.entries(one.weights)) {
    const other = two.weights[name]!.data;
    if (name.includes('running_')) continue; // the unbiased variance's n/(n − 1) differs between a half and the whole
    if (frozen(name)) assert.deepEqual(Array.from(other), Array.from(one.initial[name]!.data), `${name} is frozen`);
    else if (!w.data.every((v, i) => v === one.initial[name]!.data[i])) moved++;
    for (let i = 0; i < w.data.length; i++) assert.ok(Math.abs(other[i]! - w.data[i]!) <= 2e-4 * Math.max(1, Math.abs(w.data[i]!)), `${name}[${i}]: ${other[i]} vs ${w.data[i]}`);
  }
  assert.ok(moved > 10, 'the trainable tensors moved');
  for (let i = 0; i < one.forecast.length; i++) assert.ok(Math.abs(two.forecast[i]! - one.forecast[i]!) <= 1e-3 * Math.abs(one.forecast[i]!), `forecast[${i}]`);
});

test("workers 'auto': data-parallel on ≥ 2 cores only for batches of ≥ DATA_PARALLEL_MIN node-windows", () => {
  const cores = availableParallelism();
  assert.equal(autoWorkers(207, 16), cores >= 2 ? 2 : 1, 'METR-LA at batch 16');
  assert.equal(autoWorkers(207, 2), 1, '414 node-windows');
  assert.equal(autoWorkers(3, 8), 1, 'a test-sized graph');
  assert.equal(autoWorkers(DATA_PARALLEL_MIN, 1), cores >= 2 ? 2 : 1);
});

test('onGradients sees the whole batch gradient (1 and 2 workers alike) and its edits reach the update', async () => {
  const prepared = prepareTraffic(sineNetwork(), 8);
  const batch = [4, 9, 14, 19, 4, 9, 14, 19];
  const run = async (workers: 1 | 2) => {
    const norms: number[] = [];
    const session = new GwnEngineSession(prepared, {
      seed: 9, learningRate: 1e-2, clipNorm: 5, config: TINY, workers,
      onGradients: (model) => {
        const grad = engineTensor(model, `${GWN_LAYER}.end2.bias`, true);
        norms.push(Math.hypot(...grad));
        grad.fill(0); // with zero gradients from the start, Adam leaves the tensor where it is
      },
    });
    const before = await session.snapshot();
    await session.ready(8);
    for (let i = 0; i < 2; i++) session.step(batch, { weightDecay: 0 });
    const after = await session.snapshot();
    await session.dispose();
    return { norms, before, after };
  };
  const [one, two] = [await run(1), await run(2)];
  for (const r of [one, two]) {
    assert.equal(r.norms.length, 2);
    assert.ok(r.norms[0]! > 1e-3, 'the hook sees a real gradient');
    assert.deepEqual(Array.from(r.after['end2.bias']!.data), Array.from(r.before['end2.bias']!.data), 'the zeroed tensor stayed');
    assert.ok(!r.after['end2.weight']!.data.every((v, i) => v === r.before['end2.weight']!.data[i]), 'the others moved');
  }
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(two.norms[i]! - one.norms[i]!) <= 1e-4 * one.norms[i]!, `gradient norm at step ${i + 1}: ${two.norms[i]} vs ${one.norms[i]}`);
});

test("engine session: the raw gradient is clipped first, then λ·w is added (PyTorch's clip_grad_norm_ before Adam's weight_decay)", async () => {
  // With a clip norm of 1e-9 the clipped gradient is ≤ 1e-9 per element while λ·w ≈ 1e-4: Adam's first step
  // (m̂/(√v̂ + ε) = g/(|g| + ε)) then moves every weight by −lr·sign(w). Decay before the clip would scale λ·w
  // down with the gradient, and the step would follow sign(g + λ·w) ≈ sign(g) instead, for about half the weights.
  const prepared = prepareTraffic(sineNetwork(), 8);
  const lr = 1e-3;
  const session = new GwnEngineSession(prepared, { seed: 4, learningRate: lr, clipNorm: 1e-9, config: TINY });
  const before = await session.snapshot();
  session.step([1, 5, 9, 13, 20, 3, 33, 17], { weightDecay: 1e-3 });
  const after = await session.snapshot();
  let checked = 0;
  for (const name of session.trainableNames()) {
    const w0 = before[name]!.data;
    const w1 = after[name]!.data;
    for (let i = 0; i < w0.length; i++) {
      if (Math.abs(w0[i]!) < 1e-2) continue; // λ·|w| must dwarf ε = 1e-8 and the clipped gradient
      const expected = w0[i]! - lr * Math.sign(w0[i]!);
      assert.ok(Math.abs(w1[i]! - expected) < 2e-6, `${name}[${i}]: ${w1[i]} after one step from ${w0[i]}, expected ${expected}`);
      checked++;
    }
  }
  assert.ok(checked > 500, `only ${checked} weights checked`);
  await session.dispose();
});
