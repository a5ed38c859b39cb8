// Hard budgets (issue #17 item 1): the loop stores exactly `budget` evaluations whatever the population,
// stopping mid-step when it must; a resume with a larger budget completes the partial step exactly as an
// uninterrupted run would; a first step in which every evaluation fails stops the run with a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelevoError } from '../../src/core/errors.js';
import { RunStore } from '../../src/runs/store.js';
import { evaluateInOrder, runLoop } from '../../src/evolve/loop.js';
import { cmaEs } from '../../src/evolve/strategies/cma-es.js';
import { randomSearch } from '../../src/evolve/strategies/random-search.js';
import { sphere } from './loop-fixture.js';

const manifest = { id: 'b', kind: 'test', createdAt: 'now', seed: 1, config: {}, codeVersion: 'test' };

function withStore<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-budget-'));
  return work(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function cmaRun(dir: string, population: number, budget: number, evaluate = async (x: number[]) => ({ fitness: sphere(x) })) {
  const store = RunStore.existsIn(dir) ? RunStore.open(dir) : RunStore.create(dir, manifest);
  try {
    const result = await runLoop({
      strategy: cmaEs,
      params: { objective: 'min', x0: [1, -1, 0.5], sigma0: 0.4, maxEvaluations: 10_000, populationSize: population },
      seed: 9,
      store,
      keyOf: (x) => x.join(','),
      maxEvaluations: budget,
      evaluateBatch: evaluateInOrder(evaluate),
    });
    return { result, records: store.individuals() };
  } finally {
    store.close();
  }
}

for (const population of [8, 12]) {
  for (const budget of [1, 6, 24, 25]) {
    test(`cma-es population ${population}, budget ${budget}: exactly ${budget} stored evaluations`, async () => {
      await withStore(async (dir) => {
        const { result, records } = await cmaRun(dir, population, budget);
        assert.equal(records.length, budget);
        assert.equal(result.evaluated, budget);
        assert.equal(result.stopReason, 'budget');
        // full steps first, then the partial one: (step, index) pairs are exactly the first `budget` of the schedule
        assert.deepEqual(
          records.map((r) => [r.step, r.index]),
          Array.from({ length: budget }, (_, k) => [Math.floor(k / population) + 1, k % population]),
        );
      });
    });
    test(`random search batch ${population}, budget ${budget}: exactly ${budget} stored evaluations`, async () => {
      await withStore(async (dir) => {
        const store = RunStore.create(dir, manifest);
        try {
          await runLoop({
            strategy: randomSearch,
            params: { objective: 'min', lowerBounds: [0, 0], upperBounds: [1, 1], batchSize: population, maxEvaluations: 1_000 },
            seed: 2,
            store,
            keyOf: (x) => x.join(','),
            maxEvaluations: budget,
            evaluateBatch: evaluateInOrder(async (x: number[]) => ({ fitness: sphere(x) })),
          });
          assert.equal(store.individuals().length, budget);
        } finally {
          store.close();
        }
      });
    });
  }
}

test('a partial step completed by a resume with a larger budget equals an uninterrupted run', async () => {
  await withStore(async (root) => {
    const reference = await cmaRun(join(root, 'ref'), 8, 25);
    await cmaRun(join(root, 'split'), 8, 6);
    const resumed = await cmaRun(join(root, 'split'), 8, 25);
    assert.equal(resumed.result.reused, 6);
    assert.deepEqual(resumed.records.map((r) => [r.step, r.index, r.key, r.fitness]), reference.records.map((r) => [r.step, r.index, r.key, r.fitness]));
    assert.deepEqual(resumed.result.state, reference.result.state);
  });
});

test('every evaluation of the first step failing stops the run with STRATEGY_FAILED and the first reason', async () => {
  for (const budget of [1, 100]) {
    await withStore(async (dir) => {
      let calls = 0;
      await assert.rejects(
        cmaRun(dir, 8, budget, async () => {
          calls++;
          throw new Error(`text file missing (${calls})`);
        }),
        (e: unknown) => e instanceof ModelevoError && e.code === 'STRATEGY_FAILED' && /every evaluation of the first step failed/.test(e.message) && /text file missing \(1\)/.test(e.message),
      );
      assert.equal(calls, Math.min(budget, 8));
    });
  }
  // one success in the first step is enough to go on
  await withStore(async (dir) => {
    let calls = 0;
    const { records } = await cmaRun(dir, 8, 16, async (x) => ({ fitness: ++calls === 8 ? sphere(x) : NaN }));
    assert.equal(records.length, 16);
  });
});
