import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { createRng } from '../core/rng.js';
import { seededPermutation, selectRows, type ContinualTask, type LabelledSet, type TaskStream } from '../tasks/fashion-mnist/streams.js';
import { parseContinualConfig, type ContinualMethod } from './config.js';
import { continualNet, runContinual } from './run.js';
import { sgdStep, taskBatch } from './strategy.js';

const DIM = 24;
const CLASSES = 4;

/** 4 Gaussian class clusters in 24-d; each task permutes the features (a miniature permuted stream). */
function syntheticSet(n: number, seed: string): LabelledSet {
  const rng = createRng(seed);
  const centres = Array.from({ length: CLASSES }, (_, c) => Array.from({ length: DIM }, (_, k) => (createRng('centre', c, k).next() < 0.3 ? 1.5 : 0)));
  const x = new Float32Array(n * DIM);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % CLASSES;
    for (let k = 0; k < DIM; k++) x[i * DIM + k] = Math.max(0, centres[y[i]!]![k]! + 0.6 * rng.normal());
  }
  return { x, y, n };
}

function syntheticStream(tasks: number, split: boolean): TaskStream {
  const train = syntheticSet(240, 'train');
  const test = syntheticSet(120, 'test');
  const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  const list: ContinualTask[] = [];
  for (let t = 0; t < tasks; t++) {
    const pixels = t === 0 ? undefined : seededPermutation(DIM, createRng('synthetic-perm', t));
    const classes = split ? [(2 * t) % CLASSES, (2 * t + 1) % CLASSES] : null;
    const rows = (set: LabelledSet): Int32Array => (classes ? all(set.n).filter((i) => classes.includes(set.y[i]!)) : all(set.n));
    list.push({ id: t, name: `t${t}`, train: selectRows(train, rows(train), pixels), test: selectRows(test, rows(test), pixels), classes });
  }
  return { name: split ? 'split-fmnist' : 'pfmnist', inputDim: DIM, numClasses: CLASSES, sharedHead: !split, tasks: list };
}

function config(method: ContinualMethod, extra: Record<string, unknown> = {}) {
  return parseContinualConfig({ method, benchmark: 'pfmnist', seed: 5, lr: 0.1, batchSize: 10, representationSamples: 100, memoriesPerTask: 60, memoryBatch: 100, ...extra });
}

test('a run is deterministic for a seed and learns the first task', () => {
  const stream = syntheticStream(2, false);
  const a = runContinual(stream, config('naive'));
  const b = runContinual(stream, config('naive'));
  assert.deepEqual(a.accuracy, b.accuracy);
  assert.equal(a.accuracy.length, 2);
  assert.ok(a.accuracy[0]![0]! > 0.8, `task 0 accuracy ${a.accuracy[0]![0]}`);
  const other = runContinual(stream, config('naive', { seed: 6 }));
  assert.notDeepEqual(other.accuracy, a.accuracy);
});

test('GPM: weights acting on protected inputs do not change while later tasks train (ΔW·M = 0)', () => {
  const stream = syntheticStream(3, false);
  const weightsAfter: Matrix[][] = [];
  const basesAfter: (Matrix | null)[][] = [];
  const result = runContinual(stream, config('gpm'), {
    onTask: (_t, _row, _s, { weights, strategy }) => {
      weightsAfter.push(weights.map((w, l) => Matrix.from1DArray([100, 100, CLASSES][l]!, [DIM, 100, 100][l]!, Array.from(w))));
      basesAfter.push(strategy.bases().map((m) => m?.clone() ?? null));
    },
  });
  for (let t = 1; t < 3; t++) {
    for (let l = 0; l < 3; l++) {
      const M = basesAfter[t - 1]![l];
      assert.ok(M, `layer ${l} has bases after task ${t - 1}`);
      assert.ok(M.columns >= 1 && M.columns <= [DIM, 100, 100][l]!);
      const before = weightsAfter[t - 1]![l]!.mmul(M);
      const after = weightsAfter[t]![l]!.mmul(M);
      const moved = weightsAfter[t]![l]!.clone().sub(weightsAfter[t - 1]![l]!).abs().max();
      const drift = after.sub(before).abs().max();
      assert.ok(moved > 1e-3, `layer ${l} must still learn during task ${t} (moved ${moved})`);
      assert.ok(drift < 1e-4, `layer ${l}, task ${t}: |ΔW·M| = ${drift}`);
    }
  }
  assert.ok(result.basisSizes.every((r, l) => r <= [DIM, 100, 100][l]!));
});

test('SGP importances lie in [0, 1] with a top basis at 1; FS-DGPM λ stays in (0, 1) after every step', () => {
  const stream = syntheticStream(3, false);
  const sgp = runContinual(stream, config('sgp'), {
    onTask: (_t, _row, _s, { strategy }) => {
      for (const layer of strategy.importances()) {
        if (layer.length === 0) continue;
        assert.ok(layer.every((v) => v >= 0 && v <= 1));
        assert.ok(Math.max(...layer) === 1);
      }
    },
  });
  assert.ok(sgp.basisSizes.every((r) => r > 0), `SGP bases ${sgp.basisSizes}`);
  let checkedSteps = 0;
  let moved = false;
  const fs = runContinual(stream, config('fs-dgpm', { epochs: 1 }), {
    onStep: (strategy, taskId) => {
      if (taskId === 0) return;
      const lambdas = strategy.importances().flat();
      assert.ok(lambdas.length > 0);
      for (const v of lambdas) {
        assert.ok(v > 0 && v < 1, `λ = ${v}`);
        if (Math.abs(v - 1 / (1 + Math.exp(-10))) > 1e-6) moved = true;
      }
      checkedSteps++;
    },
  });
  assert.equal(checkedSteps, 2 * 24);
  assert.ok(moved, 'λ must respond to its gradient');
  assert.ok(fs.summary.acc > 0.5, `FS-DGPM ACC ${fs.summary.acc}`);
});

test('task-incremental stream: only the task classes are predicted and the head is left unprotected', () => {
  const stream = syntheticStream(2, true);
  const result = runContinual(stream, config('gpm', { benchmark: 'split-fmnist', epochs: 5 }));
  assert.equal(result.basisSizes[2], 0);
  assert.ok(result.basisSizes[0]! > 0);
  // two classes per task: chance is 0.5, the clusters are separable
  assert.ok(result.accuracy[1]![1]! > 0.8, `task 1 accuracy ${JSON.stringify(result.accuracy)} ${result.basisSizes}`);
});

test('SIMD and reference kernels train the same run (same weights to float32 tolerance after a task)', () => {
  const stream = syntheticStream(1, false);
  for (const method of ['naive', 'gpm'] as const) {
    const weights: Float32Array[][] = [];
    for (const kernels of ['wasm', 'reference'] as const) runContinual(stream, config(method), { onTask: (_t, _r, _s, view) => weights.push(view.weights.map((w) => Float32Array.from(w))) }, kernels);
    const [simd, reference] = weights as [Float32Array[], Float32Array[]];
    let largest = 0;
    simd.forEach((w, l) => w.forEach((v, i) => (largest = Math.max(largest, Math.abs(v - reference[l]![i]!)))));
    // 24 steps of float32 arithmetic in two summation orders
    assert.ok(largest < 1e-4, `${method}: largest weight difference ${largest}`);
  }
});

test('naive run equals a hand-written epoch loop (keyed permutation per task and epoch, short last batch) bit for bit', () => {
  // 237 training rows per task at batch 10: every epoch ends on a batch of 7
  const base = syntheticStream(2, false);
  const stream: TaskStream = { ...base, tasks: base.tasks.map((t) => ({ ...t, train: selectRows(t.train, Int32Array.from({ length: 237 }, (_, i) => i)) })) };
  const cfg = config('naive', { epochs: 2 });
  const weights: Float32Array[][] = [];
  const run = runContinual(stream, cfg, { onTask: (_t, _row, _s, view) => weights.push(view.weights.map((w) => Float32Array.from(w))) });
  const net = continualNet(stream, cfg);
  stream.tasks.forEach((task, t) => {
    let sum = 0;
    let steps = 0;
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const order = seededPermutation(task.train.n, createRng(cfg.seed, 'batches', task.id, epoch));
      for (let start = 0; start < task.train.n; start += cfg.batchSize) {
        sum += sgdStep(net, taskBatch(task, order.subarray(start, Math.min(start + cfg.batchSize, task.train.n)), stream.numClasses), cfg.lr);
        steps++;
      }
    }
    assert.equal(steps, 2 * 24);
    assert.equal(run.meanLoss[t], sum / steps, `task ${t} mean loss`);
    net.weightsCopy().forEach((w, l) => assert.deepEqual(weights[t]![l], w, `task ${t} layer ${l}`));
  });
});
