/**
 * Data-parallel training over 2 replicas against independent references: single-thread training of the same
 * spec at the full batch (equal within float32 summation tolerance), itself on a repeated run (bit-identical),
 * and for batch norm two single-thread half-batch models whose gradients are weighted by hand (per-replica
 * statistics, DDP without SyncBN). Also: uneven halves, masked MAE's uneven denominators, no arena or heap
 * growth over 1,000 steps, and a clean shutdown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRng } from '../core/rng.js';
import { DataParallelTrainer } from './data-parallel.js';
import { Model, type ModelSpec } from './model.js';
import { Trainer } from './trainer.js';
import { CONTINUAL_MLP } from './models/continual-mlp.js';
import type { OptimizerSpec } from './optim/registry.js';

const SMALL_MLP: ModelSpec = {
  inputShape: [12],
  layers: [
    { kind: 'linear', units: 16, activation: 'tanh' },
    { kind: 'linear', units: 13, activation: 'relu' },
    { kind: 'linear', units: 5 },
  ],
  loss: { kind: 'softmax_cross_entropy' },
};

function randomBatches(count: number, batch: number, features: number, classes: number, seed: number): { x: Float32Array; y: Float32Array }[] {
  const rng = createRng('nn-dp-test', seed);
  return Array.from({ length: count }, () => ({
    x: Float32Array.from({ length: batch * features }, () => 2 * rng.next() - 1),
    y: Float32Array.from({ length: batch }, () => rng.int(classes)),
  }));
}

const paramsOf = (model: Model): Float32Array => Float32Array.from(model.kernels.data.subarray(model.runs.params, model.runs.params + model.runs.count));

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

const OPT: OptimizerSpec = { kind: 'adamw', weightDecay: 0.05 };
const BATCH = 9; // odd: replicas take 5 and 4 examples
const STEPS = 15;

async function dataParallelRun(): Promise<{ losses: number[]; params: Float32Array; replicasAgree: boolean; predictions: Float32Array; norms: number[] }> {
  const batches = randomBatches(STEPS + 1, BATCH, 12, 5, 1);
  const dp = await DataParallelTrainer.open(SMALL_MLP, { batch: BATCH, optimizer: OPT, lr: 0.02, clipNorm: 0.5, seed: 3, schedule: { kind: 'cosine', totalSteps: 30 } });
  try {
    const losses: number[] = [];
    const norms: number[] = [];
    for (const { x, y } of batches.slice(0, STEPS)) {
      losses.push(dp.step(x, y));
      norms.push(dp.lastGradNorm);
    }
    const predictions = Float32Array.from(dp.predict(batches[STEPS]!.x));
    const replicasAgree = Buffer.compare(Buffer.from(dp.region(0, 'param').buffer), Buffer.from(dp.region(1, 'param').buffer)) === 0;
    return { losses, params: paramsOf(dp.model), replicasAgree, predictions, norms };
  } finally {
    await dp.close();
  }
}

test('2 replicas at odd batch 9 follow single-thread training at batch 9 (AdamW, clipping, cosine schedule) within float32 tolerance', async () => {
  const dp = await dataParallelRun();
  const batches = randomBatches(STEPS + 1, BATCH, 12, 5, 1);
  const single = new Trainer(Model.compile(SMALL_MLP, { batch: BATCH, kernels: 'wasm', optimizer: OPT, seed: 3 }), {
    lr: 0.02,
    clipNorm: 0.5,
    schedule: { kind: 'cosine', totalSteps: 30 },
  });
  const losses: number[] = [];
  const norms: number[] = [];
  for (const { x, y } of batches.slice(0, STEPS)) {
    losses.push(single.step(x, y));
    norms.push(single.lastGradNorm);
  }
  assert.ok(norms.some((n) => n > 0.5), 'clipping was active at least once');
  assertClose(dp.losses, losses, 1e-5, 'loss');
  assertClose(dp.norms, norms, 1e-5, 'gradient norm');
  assertClose(dp.params, paramsOf(single.model), 1e-4, 'parameters after 15 steps');
  assert.ok(dp.replicasAgree, 'both replicas hold bit-identical parameters');
  assertClose(dp.predictions, Float32Array.from(single.predict(batches[STEPS]!.x)), 1e-4, 'predictions');
});

test('data-parallel training is bit-identical across repeated runs', async () => {
  const a = await dataParallelRun();
  const b = await dataParallelRun();
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.params, b.params);
});

test('batch norm: per-replica batch statistics (DDP without SyncBN), running statistics averaged by batch share', async () => {
  const spec: ModelSpec = {
    inputShape: [3, 8],
    layers: [
      { kind: 'conv1d', channels: 4, kernel: 3, padding: 1 },
      { kind: 'batch_norm', momentum: 0.3 },
      { kind: 'activation', fn: 'relu' },
      { kind: 'conv1d', channels: 3, kernel: 3, padding: 1 },
    ],
    loss: { kind: 'mse' },
  };
  const batch = 7;
  const lr = 0.1;
  const rng = createRng('nn-dp-bn');
  const x = Float32Array.from({ length: batch * 24 }, () => 3 * rng.next() - 1);
  const y = Float32Array.from({ length: batch * 24 }, () => rng.next());
  const dp = await DataParallelTrainer.open(spec, { batch, optimizer: { kind: 'sgd' }, lr, seed: 4 });
  let dpParams: Float32Array;
  let dpState: [Float32Array, Float32Array];
  try {
    dp.step(x, y);
    dpParams = paramsOf(dp.model);
    dp.predict(x); // pushes parameters and state to replica 1
    dpState = [dp.region(0, 'state'), dp.region(1, 'state')];
  } finally {
    await dp.close();
  }
  // reference: the halves 4 + 3 as two single-thread models, gradient (4/7)·g_a + (3/7)·g_b, one SGD step
  const half = (from: number, rows: number): { model: Model; grads: Float32Array; state: Float32Array } => {
    const model = Model.compile(spec, { batch: rows, kernels: 'wasm', seed: 4 });
    const data = model.kernels.data;
    data.set(x.subarray(from * 24, (from + rows) * 24), model.input.offset);
    data.set(y.subarray(from * 24, (from + rows) * 24), model.target.offset);
    model.forward(true, 1);
    model.loss();
    model.backward();
    const { start, end } = model.layout.regions.state;
    return { model, grads: Float32Array.from(data.subarray(model.runs.grads, model.runs.grads + model.runs.count)), state: Float32Array.from(data.subarray(start, end)) };
  };
  const a = half(0, 4);
  const b = half(4, 3);
  const p0 = paramsOf(a.model);
  const expected = p0.map((p, i) => p - lr * ((4 / 7) * a.grads[i]! + (3 / 7) * b.grads[i]!));
  assertClose(dpParams, expected, 1e-5, 'parameters after one step');
  assertClose(dpState[0], a.state.map((s, i) => (4 / 7) * s + (3 / 7) * b.state[i]!), 1e-6, 'running statistics');
  assert.deepEqual(dpState[0], dpState[1], 'both replicas hold the same running statistics');
  // the running MEAN equals the full-batch update exactly; the gradient does not (statistics are not synced)
  const full = half(0, 7);
  const channels = 4;
  assertClose(dpState[0].subarray(0, channels), full.state.subarray(0, channels), 1e-6, 'running mean vs full batch');
  const fullExpected = p0.map((p, i) => p - lr * full.grads[i]!);
  assert.ok(dpParams.some((p, i) => Math.abs(p - fullExpected[i]!) > 1e-4), 'per-replica statistics differ from full-batch ones');
});

test('parameters edited through trainer.model between steps (a loaded checkpoint) reach replica 1', async () => {
  const batches = randomBatches(6, 8, 12, 5, 7);
  const dp = await DataParallelTrainer.open(SMALL_MLP, { batch: 8, optimizer: { kind: 'sgd', momentum: 0.5 }, lr: 0.1, seed: 6 });
  const single = new Trainer(Model.compile(SMALL_MLP, { batch: 8, kernels: 'wasm', optimizer: { kind: 'sgd', momentum: 0.5 }, seed: 6 }), { lr: 0.1 });
  const rng = createRng('nn-dp-edit');
  const loaded = Float32Array.from({ length: single.model.runs.count }, () => rng.normal() * 0.3);
  try {
    for (const [i, { x, y }] of batches.entries()) {
      if (i === 3) {
        for (const model of [dp.model, single.model]) model.kernels.data.set(loaded, model.runs.params);
      }
      assertClose([dp.step(x, y)], [single.step(x, y)], 1e-5, `loss at step ${i}`);
    }
    assertClose(paramsOf(dp.model), paramsOf(single.model), 1e-5, 'parameters after the edit and 3 more steps');
  } finally {
    await dp.close();
  }
});

test('Graph WaveNet layers (gated TCN, diffusion over supports set through trainer.model, adaptive adjacency) train data-parallel like single-thread', async () => {
  const [C, N, T] = [2, 6, 5];
  const spec: ModelSpec = {
    inputShape: [C, N, T],
    layers: [
      { kind: 'gated_temporal_conv', channels: 4, kernel: 2, dilation: 1 },
      { kind: 'graph_diffusion_conv', channels: 3, supports: 2, order: 2, adaptiveRank: 2 },
      { kind: 'layer_norm' },
    ],
    loss: { kind: 'masked_mae', nullValue: 0 },
  };
  const batch = 5;
  const rng = createRng('nn-dp-gwn');
  const supports = Float32Array.from({ length: 2 * N * N }, () => rng.next() / N);
  const steps = Array.from({ length: 4 }, () => ({
    x: Float32Array.from({ length: batch * C * N * T }, () => 2 * rng.next() - 1),
    // about a quarter of the targets missing (0), unevenly over the halves
    y: Float32Array.from({ length: batch * 3 * N * (T - 1) }, () => (rng.next() < 0.25 ? 0 : rng.next() + 0.1)),
  }));
  // SGD: Adam's g/√v would turn float32 noise in near-zero gradients into lr-sized steps
  const optimizer: OptimizerSpec = { kind: 'sgd', momentum: 0.9 };
  const dp = await DataParallelTrainer.open(spec, { batch, optimizer, lr: 0.05, clipNorm: 1, seed: 9 });
  const single = new Trainer(Model.compile(spec, { batch, kernels: 'wasm', optimizer, seed: 9 }), { lr: 0.05, clipNorm: 1 });
  try {
    for (const model of [dp.model, single.model]) model.view(model.stateViews[0]!).set(supports);
    for (const [i, { x, y }] of steps.entries()) assertClose([dp.step(x, y)], [single.step(x, y)], 1e-5, `loss at step ${i}`);
    assertClose(paramsOf(dp.model), paramsOf(single.model), 1e-4, 'parameters after 4 steps');
    assert.deepEqual(dp.region(1, 'state'), dp.region(0, 'state'), 'the supports set on replica 0 reached replica 1 unchanged');
  } finally {
    await dp.close();
  }
});

test('masked MAE: each replica is weighted by its unmasked targets, so uneven masks still give the full-batch step', async () => {
  const spec: ModelSpec = { inputShape: [6], layers: [{ kind: 'linear', units: 4 }], loss: { kind: 'masked_mae', nullValue: 0 } };
  const batch = 6;
  const rng = createRng('nn-dp-mae');
  const x = Float32Array.from({ length: batch * 6 }, () => 2 * rng.next() - 1);
  // the first half (rows 0..2) has 2 of 12 targets unmasked, the second half all 12
  const y = Float32Array.from({ length: batch * 4 }, (_, i) => (i < 12 ? (i % 6 === 1 ? 0.5 + rng.next() : 0) : rng.next() + 0.1));
  const dp = await DataParallelTrainer.open(spec, { batch, optimizer: { kind: 'sgd' }, lr: 0.5, seed: 5 });
  const single = new Trainer(Model.compile(spec, { batch, kernels: 'wasm', optimizer: { kind: 'sgd' }, seed: 5 }), { lr: 0.5 });
  try {
    for (let s = 0; s < 3; s++) assertClose([dp.step(x, y)], [single.step(x, y)], 1e-6, `loss at step ${s}`);
    // replica 0 with nothing unmasked: weight 0, its (zero) gradient drops out of the reduction
    const allNullFirst = y.map((t, i) => (i < 12 ? 0 : t));
    assertClose([dp.step(x, allNullFirst)], [single.step(x, allNullFirst)], 1e-6, 'loss with an all-null half');
    assertClose(paramsOf(dp.model), paramsOf(single.model), 1e-5, 'parameters after 4 steps');
  } finally {
    await dp.close();
  }
});

test('no arena growth and no heap growth across 1,000 data-parallel steps; close() stops the worker', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const batches = randomBatches(20, 10, 784, 10, 6);
  const dp = await DataParallelTrainer.open(CONTINUAL_MLP, { batch: 10, optimizer: { kind: 'adam' }, lr: 1e-3, clipNorm: 1, seed: 2 });
  const memory = dp.memory;
  const bytes = memory.buffer.byteLength;
  const floats = dp.model.layout.floats;
  for (let i = 0; i < 100; i++) dp.step(batches[i % 20]!.x, batches[i % 20]!.y);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const phasesBefore = dp.profile().replicas[0];
  const wallStart = performance.now();
  for (let i = 0; i < 1000; i++) dp.step(batches[i % 20]!.x, batches[i % 20]!.y);
  const wallMs = performance.now() - wallStart;
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  assert.equal(memory.buffer.byteLength, bytes, 'the shared memory grew');
  assert.equal(dp.model.kernels.data.buffer.byteLength, bytes, 'the arena view was replaced');
  assert.equal(dp.model.layout.floats, floats);
  assert.ok(heapGrowth < 256 * 1024, `heap grew by ${heapGrowth} bytes over 1,000 steps`);
  assert.equal(dp.steps, 1100);
  const { barriers } = dp.profile();
  assert.equal(barriers, 1100 * 3, 'three waits per clipped step on this side (GRADS, NORM, DONE), no extra round trips');
  // the phase profile splits this thread's step time: disjoint phases sum to at most the wall time
  const phases = dp.profile().replicas;
  const phaseSum = Object.entries(phases[0]).reduce((sum, [phase, ms]) => sum + ms - phasesBefore[phase as keyof typeof phasesBefore], 0);
  assert.ok(phaseSum > 0 && phaseSum <= wallMs + 1e-6, `replica 0's phases sum to ${phaseSum} ms over ${wallMs} ms of steps`);
  assert.equal(phases[0].idle, 0, 'replica 0 is never idle inside a step');
  assert.ok(phases[0].compute > 0 && phases[1].compute > 0 && phases[1].reduce > 0, 'both replicas computed and reduced');
  await dp.close();
  await dp.close(); // idempotent
  assert.throws(() => dp.step(batches[0]!.x, batches[0]!.y), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID');
});

test('a replica failing mid-step surfaces as an error on the calling thread (no hang), and close() still returns', async () => {
  process.env.MODELEVO_FAULT = 'enospc:nn-dp.replica-step@3';
  let dp: DataParallelTrainer;
  try {
    dp = await DataParallelTrainer.open(SMALL_MLP, { batch: 4, optimizer: { kind: 'sgd' }, lr: 0.1 });
  } finally {
    delete process.env.MODELEVO_FAULT; // the worker copied the environment at start-up
  }
  const { x, y } = randomBatches(1, 4, 12, 5, 10)[0]!;
  dp.step(x, y);
  dp.step(x, y);
  assert.throws(() => dp.step(x, y), (e: Error & { code?: string }) => e.code === 'INTERNAL' && /replica 1 failed/.test(e.message));
  await new Promise((resolve) => setTimeout(resolve, 50)); // lets the worker's error message arrive
  assert.throws(() => dp.step(x, y), /ENOSPC/);
  await dp.close();
});

test('batch 1 cannot be split over 2 replicas; a wrong-sized batch is refused before any worker sees it', async () => {
  await assert.rejects(DataParallelTrainer.open(SMALL_MLP, { batch: 1, optimizer: { kind: 'sgd' }, lr: 0.1 }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID');
  const dp = await DataParallelTrainer.open(SMALL_MLP, { batch: 3, optimizer: { kind: 'sgd' }, lr: 0.1 });
  try {
    assert.throws(() => dp.step(new Float32Array(2 * 12), new Float32Array(3)), (e: Error & { code?: string }) => e.code === 'SHAPE_MISMATCH');
    assert.equal(dp.steps, 0);
    const { x, y } = randomBatches(1, 3, 12, 5, 9)[0]!;
    assert.ok(Number.isFinite(dp.step(x, y)), 'the trainer still works after a refused batch');
  } finally {
    await dp.close();
  }
});
