import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunStore } from '../runs/store.js';
import { evaluateInOrder, runLoop, type EvaluateBatch } from './loop.js';
import { randomSearch } from './strategies/random-search.js';

const manifest = { id: 'r', kind: 'test', createdAt: 'now', seed: 3, config: {}, codeVersion: 'test' };
const sphere = (x: readonly number[]): number => x.reduce((s, v) => s + (v - 0.25) ** 2, 0);

async function run(dir: string, evaluateBatch: EvaluateBatch<number[]>, budget?: number, recorded: number[] = []) {
  const store = RunStore.create(dir, manifest);
  try {
    const result = await runLoop({
      strategy: randomSearch,
      params: { objective: 'min', lowerBounds: [0, 0], upperBounds: [1, 1], batchSize: 4, maxEvaluations: 12 },
      seed: 3,
      store,
      keyOf: (x, context) => {
        recorded.push(context.index);
        return x.join(',');
      },
      evaluateBatch,
      ...(budget === undefined ? {} : { maxEvaluations: budget }),
    });
    return { result, individuals: store.individuals().map((r) => [r.step, r.index, r.key, r.fitness, r.failure ?? null]) };
  } finally {
    store.close();
  }
}

test('a whole ask goes to evaluateBatch at once; the budget trims the last batch to what is left', async () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-batch-'));
  try {
    const sizes: number[][] = [];
    const spy = (budget: number | undefined, into: number[]): EvaluateBatch<number[]> => (candidates, contexts) => {
      into.push(candidates.length);
      assert.deepEqual(contexts.map((c) => c.index), candidates.map((_, k) => k), 'contexts name each candidate of the step in order');
      return candidates.map(async (x) => ({ fitness: sphere(x) }));
    };
    sizes.push([]);
    await run(join(root, 'full'), spy(undefined, sizes[0]!));
    sizes.push([]);
    const cut = await run(join(root, 'cut'), spy(10, sizes[1]!), 10);
    assert.deepEqual(sizes, [[4, 4, 4], [4, 4, 2]]);
    assert.equal(cut.result.stopReason, 'budget');
    assert.equal(cut.individuals.length, 10);
    assert.equal(cut.result.untold.length, 2, 'the cut step was stored but never told');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a parallel evaluator whose outcomes settle in reverse order stores the same run as the one-by-one evaluator', async () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-batch-'));
  try {
    const inOrder = await run(join(root, 'in-order'), evaluateInOrder(async (x) => ({ fitness: sphere(x) })));
    const recorded: number[] = [];
    const reversed = await run(join(root, 'reversed'), (candidates) =>
      candidates.map(async (x, k) => {
        await sleep(5 * (candidates.length - k));
        if (k === 1) throw new Error('worker lost');
        return { fitness: sphere(x), seconds: 0.5 };
      }),
      undefined,
      recorded,
    );
    const expected = inOrder.individuals.map((row) => (row[1] === 1 ? [row[0], row[1], row[2], NaN, 'worker lost'] : row));
    const byPosition = (rows: unknown[][]) => [...rows].sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
    assert.deepEqual(byPosition(reversed.individuals), expected);
    // each outcome is stored as soon as it settles: index 3 first
    assert.deepEqual(recorded, [3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
