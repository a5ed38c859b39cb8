/**
 * The example strategy of docs/evolve.md ("Adding a strategy") is extracted from the docs, compiled and run
 * through the conformance suite, so the documented code is known to work. Its relative imports are pointed at
 * the real modules, and the file lives in a temporary folder only for this test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runStrategy, strategyConformance, type StrategyFixture } from './conformance.case.js';
import type { Objective, Strategy } from './strategy.js';

const docs = readFileSync(new URL('../../docs/evolve.md', import.meta.url), 'utf8');
const section = docs.slice(docs.indexOf('## Adding a strategy'));
const block = /```ts\n(\/\/ src\/evolve\/strategies\/one-plus-lambda\.ts\n[\s\S]*?)```/.exec(section)?.[1];
assert.ok(block, 'docs/evolve.md holds the example strategy block');

const dir = mkdtempSync(join(tmpdir(), 'modelevo-docs-example-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const here = (path: string): string => pathToFileURL(new URL(path, import.meta.url).pathname).href;
const source = block.replace("'../../core/rng.js'", `'${here('../core/rng.ts')}'`).replace("'../strategy.js'", `'${here('./strategy.ts')}'`);
const file = join(dir, 'one-plus-lambda.ts');
writeFileSync(file, source);

interface Params {
  objective: Objective;
  x0: readonly number[];
  sigma: number;
  lambda: number;
  maxEvaluations: number;
}
const { onePlusLambda } = (await import(pathToFileURL(file).href)) as { onePlusLambda: Strategy<Params, unknown, number[]> };

const fixture: StrategyFixture<Params, unknown, number[]> = {
  strategy: onePlusLambda,
  params: (objective) => ({ objective, x0: [1, -1], sigma: 0.3, lambda: 4, maxEvaluations: 30 }),
  cost: (x) => x.reduce((s, v) => s + v * v, 0),
  checkShape: (x) => assert.ok(x.length === 2 && x.every(Number.isFinite)),
  budget: (p) => p.maxEvaluations,
};

test('the documented example is about 30 lines and improves on its start on a bowl', () => {
  const lines = block.trim().split('\n').length;
  assert.ok(lines >= 25 && lines <= 45, `${lines} lines`);
  const run = runStrategy(fixture, { objective: 'min', seed: 1 });
  assert.equal(run.evaluations, 30);
  assert.ok(run.best!.fitness < 2, `best ${run.best!.fitness} improves on the start's 2`);
  // the best is the smallest cost of everything told (trackBest keeps the first of equals)
  assert.equal(run.best!.fitness, Math.min(...run.told.flat()));
});

describe('strategy conformance: the docs example one-plus-lambda', () => strategyConformance('one-plus-lambda', fixture));
