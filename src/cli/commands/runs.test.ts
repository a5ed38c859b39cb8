import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../../runs/store.js';
import { StRun } from '../../spatiotemporal/run-record.js';
import { listRuns, resolveRun } from './runs.js';

test('runs list summarises each stored run; show resolves a directory or an id prefix', () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-runs-'));
  try {
    for (const [name, id, fitness] of [['a', 'abc123', [0.5, 0.2]], ['b', 'abd456', [NaN, 3]]] as const) {
      const store = RunStore.create(join(root, name), { id, kind: 'evolve', createdAt: `2026-01-0${name === 'a' ? 1 : 2}`, seed: 0, config: { strategy: { name: 'cma-es' }, fitness: { builtin: {} } }, codeVersion: 't' });
      fitness.forEach((f, i) => store.recordIndividual({ step: 1, index: i, key: `k${i}`, genome: [i], fitness: f, seconds: 0 }));
      store.close();
    }
    const rows = listRuns(root);
    assert.deepEqual(rows.map((r) => [r.id, r.evaluations, r.failed, r.best]), [['abc123', 2, 0, 0.2], ['abd456', 2, 1, 3]]);
    assert.equal(resolveRun('abc', root), join(root, 'a'));
    assert.equal(resolveRun(join(root, 'b'), root), join(root, 'b'));
    assert.throws(() => resolveRun('ab', root), /matches 2 runs/);
    assert.throws(() => resolveRun('zzz', root), /no run directory or run id 'zzz'/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('runs list takes the minimum of a spatio-temporal run: its fitness is a validation MAE', () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-runs-st-'));
  try {
    const run = StRun.open(join(root, 'a'), { kind: 'st-synevo', seed: 3, config: { cycles: 2 } });
    run.recordEpoch({ epoch: 1, valMae: 4.5, seconds: 1 });
    run.recordEpoch({ epoch: 1, valMae: 3.5, seconds: 1, index: 1, key: 'model-1/epoch-1' });
    run.recordEpoch({ epoch: 2, valMae: 4.0, seconds: 1 });
    run.finish({ ok: true });
    assert.deepEqual(listRuns(root).map((r) => [r.evaluations, r.best]), [[3, 3.5]]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
