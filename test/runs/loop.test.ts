import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../../src/runs/store.js';
import { evaluateInOrder, runLoop } from '../../src/evolve/loop.js';
import { cmaEs } from '../../src/evolve/strategies/cma-es.js';
import { crashParams, runSphereLoop, sphere } from './loop-fixture.js';

const manifest = { id: 'r', kind: 'test', createdAt: 'now', seed: 5, config: {}, codeVersion: 'test' };

async function uninterrupted(dir: string) {
  const store = RunStore.create(dir, manifest);
  const { result, calls } = await runSphereLoop(store);
  const individuals = store.individuals();
  store.close();
  return { result, individuals, calls };
}

test('kill -9 mid-run, then resume: same individuals as an uninterrupted run, no evaluation lost or repeated', async () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-loop-'));
  try {
    const reference = await uninterrupted(join(root, 'reference'));
    const crashDir = join(root, 'crashed');
    // die while evaluating the 13th candidate (mid-way through the second CMA-ES generation of 8)
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'loop-child.ts'), crashDir, '13'], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);

    const store = RunStore.open(crashDir);
    const before = store.individuals().length;
    assert.equal(before, 12);
    const { result: resumed, calls } = await runSphereLoop(store);
    const individuals = store.individuals();
    assert.deepEqual(individuals.map((r) => [r.step, r.index, r.key, r.fitness]), reference.individuals.map((r) => [r.step, r.index, r.key, r.fitness]));
    assert.equal(calls + before, reference.calls);
    assert.equal(resumed.reused, 4);
    assert.deepEqual(resumed.state, reference.result.state);
    assert.equal(store.events().filter((e) => e.type === 'resumed').length, 1);
    store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a throwing or non-finite evaluation is recorded as a failure with NaN fitness, never a crash', async () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-loop-'));
  try {
    const store = RunStore.create(root, manifest);
    let calls = 0;
    const result = await runLoop({
      strategy: cmaEs,
      params: { ...crashParams, maxEvaluations: 16 },
      seed: 1,
      store,
      keyOf: (x) => x.join(','),
      evaluateBatch: evaluateInOrder(async (x) => {
        calls++;
        if (calls === 2) throw new Error('evaluator exploded');
        return { fitness: calls === 3 ? Infinity : sphere(x) };
      }),
    });
    assert.equal(result.stopReason, 'budget');
    const failures = store.individuals().filter((r) => Number.isNaN(r.fitness));
    assert.deepEqual(failures.map((r) => r.failure), ['evaluator exploded', 'non-finite fitness Infinity']);
    assert.equal(store.events().filter((e) => e.type === 'evaluation-failed').length, 2);
    store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('creating a run where one exists is refused with a hint to resume', () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-loop-'));
  try {
    RunStore.create(root, manifest).close();
    assert.throws(() => RunStore.create(root, manifest), /already holds a run/);
    assert.throws(() => RunStore.open(join(root, 'nope')), /no run found/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
