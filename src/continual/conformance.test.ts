/**
 * Conformance suite over the strategy registry: every registered continual strategy, run on a miniature permuted
 * stream on the engine, honours the ContinualStrategy contract — its name is its registry key; per-layer reports
 * have one entry per layer; stored bases are orthonormal columns in the layer's input space, as many as
 * basisSizes says, with one importance in [0, 1] per column; losses are finite; it learns the first task; and a
 * run is a pure function of its seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { seededPermutation, selectRows, type ContinualTask, type LabelledSet, type TaskStream } from '../tasks/fashion-mnist/streams.js';
import { CONTINUAL_METHODS, parseContinualConfig } from './config.js';
import { CONTINUAL_STRATEGIES, createStrategy } from './registry.js';
import { runContinual } from './run.js';

const DIM = 16;
const CLASSES = 4;

function stream(): TaskStream {
  const make = (n: number, key: string): LabelledSet => {
    const rng = createRng(key);
    const x = new Float32Array(n * DIM);
    const y = Int32Array.from({ length: n }, (_, i) => i % CLASSES);
    for (let i = 0; i < n; i++) for (let k = 0; k < DIM; k++) x[i * DIM + k] = Math.max(0, (k % CLASSES === y[i] ? 1.5 : 0) + 0.5 * rng.normal());
    return { x, y, n };
  };
  const train = make(120, 'conf-train');
  const testSet = make(80, 'conf-test');
  const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  const tasks: ContinualTask[] = [0, 1].map((t) => {
    const pixels = t === 0 ? undefined : seededPermutation(DIM, createRng('conf-perm', t));
    return { id: t, name: `t${t}`, train: selectRows(train, all(train.n), pixels), test: selectRows(testSet, all(testSet.n), pixels), classes: null };
  });
  return { name: 'pfmnist', inputDim: DIM, numClasses: CLASSES, sharedHead: true, tasks };
}

for (const method of CONTINUAL_METHODS) {
  test(`conformance: ${method}`, () => {
    assert.equal(createStrategy(method, 3).name, method);
    assert.ok(CONTINUAL_STRATEGIES[method].title.length > 0);
    const s = stream();
    const config = parseContinualConfig({ method, benchmark: 'pfmnist', seed: 3, lr: 0.1, batchSize: 10, epochs: 2, representationSamples: 60, memoriesPerTask: 40, memoryBatch: 60 });
    const inputs = [DIM, 100, 100];
    let checkedTasks = 0;
    const result = runContinual(s, config, {
      onTask: (_t, row, _s, { weights, strategy }) => {
        assert.equal(row.length, 2);
        assert.deepEqual(weights.map((w) => w.length), [100 * DIM, 100 * 100, CLASSES * 100]);
        const sizes = strategy.basisSizes();
        const bases = strategy.bases();
        const importances = strategy.importances();
        assert.equal(sizes.length, 3);
        assert.equal(bases.length, 3);
        assert.equal(importances.length, 3);
        sizes.forEach((r, l) => {
          const M = bases[l];
          assert.equal(M?.columns ?? 0, r, `layer ${l}: basisSizes matches the stored basis`);
          assert.equal(importances[l]!.length, r, `layer ${l}: one importance per column`);
          for (const v of importances[l]!) assert.ok(v >= 0 && v <= 1, `λ ${v}`);
          if (!M) return;
          assert.equal(M.rows, inputs[l]);
          const gram = M.transpose().mmul(M);
          for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) assert.ok(Math.abs(gram.get(i, j) - (i === j ? 1 : 0)) < 1e-6, `layer ${l}: MᵀM = I`);
        });
        if (method === 'naive') assert.deepEqual(sizes, [0, 0, 0]);
        else assert.ok(sizes[0]! > 0, `${method} stores bases after a task`);
        checkedTasks++;
      },
    });
    assert.equal(checkedTasks, 2);
    assert.ok(result.meanLoss.every(Number.isFinite));
    assert.ok(result.accuracy[0]![0]! > 0.6, `${method} learns task 0: ${result.accuracy[0]![0]}`);
    assert.deepEqual(runContinual(s, config).accuracy, result.accuracy, 'deterministic for a seed');
  });
}
