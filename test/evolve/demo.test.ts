import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEvolutionDemo, type EvolutionDemoResult } from '../../src/demo/evolution-demo.js';
import { EvaluationLog } from '../../src/demo/evaluation-log.js';
import { writeMergingResults } from '../../src/demo/results-markdown.js';
import { searchConfig, SEARCHES, type SearchName } from '../../src/demo/searches.js';
import { buildFitness } from '../../src/evolve/fitness/build.js';
import { TEST_WINDOWS } from '../../src/evolve/fitness/splits.js';
import { budget } from '../support/budget.js';

const tinyGrid = { lambdas: [0, 0.5], densities: [0.5], sparseLambdas: [1] };
/**
 * Strategies the demo path runs. Each costs one 32-window test split (~4 CPU-s), so npm test keeps a seed-dependent
 * one, the seed-independent one the second run reuses, and LoraHub (its best includes an L1 term); test:full runs
 * all. Every strategy's search itself is tested in test/evolve/run.test.ts and the strategy conformance suite.
 */
const DEMO_SEARCHES = budget<readonly SearchName[]>(['random', 'grid-greedy', 'lorahub'], SEARCHES);

/** every development read lies in [32, ∞), every test read is exactly [0, 32), and no dev read follows a test read */
function assertSelectionBeforeTest(result: EvolutionDemoResult): void {
  const { log } = result;
  const firstTest = log.findIndex((e) => e.phase === 'test');
  const lastDev = log.map((e) => e.phase).lastIndexOf('dev');
  if (firstTest >= 0) assert.ok(lastDev < firstTest, `development evaluation #${lastDev} after test evaluation #${firstTest}`);
  for (const e of log) {
    if (e.phase === 'dev') assert.ok(e.first >= TEST_WINDOWS && e.count >= 1, `${e.label} reads windows from ${e.first}`);
    else assert.deepEqual([e.first, e.count], [0, TEST_WINDOWS]);
  }
  // test windows [0, 32) and every dev range are disjoint
  for (const e of log.filter((x) => x.phase === 'dev')) assert.ok(e.first >= 0 + TEST_WINDOWS);
}

test('demo and results path: selection on dev only, test read once at the end, every row reproduces the fixture losses, resumable', async () => {
  const out = mkdtempSync(join(tmpdir(), 'modelevo-demo-'));
  try {
    let text = '';
    // the demo path: one seed of every strategy (of DEMO_SEARCHES)
    const options = { fixtures: 'test/fixtures', out: join(out, 'run'), devWindows: 1, budget: 3, seeds: 1, staticGrid: tinyGrid, threads: 1, write: (t: string) => (text += t) };
    const demo = await runEvolutionDemo({ ...options, searches: DEMO_SEARCHES });
    assertSelectionBeforeTest(demo);
    // every development evaluation went through the log: statics + every stored evaluation of every run
    const devCount = (r: EvolutionDemoResult) => r.log.filter((e) => e.phase === 'dev').length;
    const evaluations = (r: EvolutionDemoResult) => [...new Map(r.searches.map((s) => [s.summary.runDir, s.summary.evaluations])).values()].reduce((a, b) => a + b, 0);
    assert.equal(devCount(demo), demo.statics.length + evaluations(demo));
    // one test read per distinct model: base, 3 experts, the best static, each run's best
    assert.equal(demo.log.filter((e) => e.phase === 'test').length, 5 + DEMO_SEARCHES.length);

    // the results path: a second seed on top of the stored runs (a seed-dependent and a seed-independent strategy,
    // to keep the test short); only the new run is evaluated, on dev, then its test split
    const result = await runEvolutionDemo({ ...options, seeds: 2, resume: true, searches: ['random', 'grid-greedy'] });
    assertSelectionBeforeTest(result);
    const newRun = result.searches.find((r) => r.name === 'random' && r.seed === 1)!;
    assert.equal(devCount(result), newRun.summary.evaluations);
    assert.deepEqual(result.log.filter((e) => e.phase === 'test').map((e) => e.label), [`runs/random-seed1/best@${newRun.summary.evaluations}`]);
    const grid = result.searches.filter((r) => r.name === 'grid-greedy');
    assert.deepEqual(grid.map((r) => r.seed), [0, 1]);
    assert.equal(grid[0]!.summary.runDir, grid[1]!.summary.runDir, 'grid-greedy is seed-independent: one run stands for both seeds');

    // the test split is the fixture protocol: base and v2 experts reproduce the published losses
    const v2 = JSON.parse(readFileSync('test/fixtures/tiny-llama-v2/losses.json', 'utf8')) as { base: Record<string, number>; experts: Record<string, Record<string, number>> };
    for (const row of result.inputs.filter((r) => r.model === 'base' || r.model.startsWith('expert-'))) {
      const expected = row.model === 'base' ? v2.base : v2.experts[row.model.slice('expert-'.length)]!;
      for (const [domain, loss] of Object.entries(row.test)) assert.ok(Math.abs(loss - expected[domain]!) < 1e-4, `${row.model} ${domain}: ${loss} vs ${expected[domain]}`);
    }
    // static baselines: base, experts, linear, λ grid with 0, TIES and DARE-TIES; best static = lowest dev loss
    assert.equal(result.statics.length, 4 + 1 + 2 + 1 + 1);
    assert.ok(result.statics.some((s) => s.name === 'task arithmetic λ=0 (= base)'));
    assert.equal(result.bestStatic.dev, Math.min(...result.statics.map((s) => s.dev)));
    // λ = 0 is the base itself: same development loss
    assert.ok(Math.abs(result.statics.find((s) => s.name.startsWith('task arithmetic λ=0'))!.dev - result.statics.find((s) => s.name === 'base')!.dev) < 1e-6);

    assert.deepEqual([...new Set(demo.searches.map((r) => r.name))].sort(), [...DEMO_SEARCHES].sort());
    for (const run of [...demo.searches, ...result.searches]) {
      assert.ok(existsSync(join(run.summary.runDir, 'report.md')) && existsSync(join(run.summary.runDir, 'report.html')), run.summary.runDir);
      const lowest = Math.min(...run.curve.filter(Number.isFinite));
      // LoraHub selects on loss + 0.05·mean|w| (its paper's objective), so its best is at least the lowest plain loss
      if (run.name === 'lorahub') assert.ok(run.bestDev >= lowest);
      else assert.equal(run.bestDev, lowest, `${run.name}: the reported best is the lowest dev loss it saw`);
    }
    assert.match(demo.verdict, /^Verdict: /);
    assert.match(text, /How to read it: /);
    assert.match(text, /best static on dev: /);

    writeMergingResults(demo, join(out, 'doc', 'merging.md'), { started: new Date(), loadBefore: [1, 1, 1], loadAfter: [1, 1, 1], command: 'test' });
    const doc = readFileSync(join(out, 'doc', 'merging.md'), 'utf8');
    for (const name of DEMO_SEARCHES) {
      assert.match(doc, new RegExp(`!\\[${name}\\]\\(merging/${name}.svg\\)`));
      assert.match(readFileSync(join(out, 'doc', 'merging', `${name}.svg`), 'utf8'), /^<svg xmlns/);
    }
    // a strategy that did not run has no plot
    for (const name of SEARCHES.filter((s) => !DEMO_SEARCHES.includes(s))) assert.doesNotMatch(doc, new RegExp(`!\\[${name}\\]`));
    assert.match(doc, /\| [01]\/1 \|/);
    writeMergingResults(result, join(out, 'doc2', 'merging.md'), { started: new Date(), loadBefore: [1, 1, 1], loadAfter: [1, 1, 1], command: 'test' });
    assert.match(readFileSync(join(out, 'doc2', 'merging.md'), 'utf8'), /\| [012]\/2 \|/);

    // resume after the fact: nothing is evaluated again and the numbers are identical
    const again = await runEvolutionDemo({ ...options, seeds: 2, resume: true, searches: ['random', 'grid-greedy'], write: () => undefined });
    assert.equal(again.log.length, 0);
    assert.deepEqual(again.searches.map((r) => r.testMean), result.searches.map((r) => r.testMean));
    assert.deepEqual(again.inputs, result.inputs);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("evolve's built-in fitness reads only development windows, and the log refuses development reads after test", async () => {
  const setup = { base: 'test/fixtures/tiny-llama/base', experts: ['a', 'b', 'c'], adapters: ['x', 'y'], texts: { code: 'test/fixtures/text/code.val.txt' }, devWindows: 8, devOffset: TEST_WINDOWS, budget: 10, evolverGenerations: 20, mergerLambda: 0.5 };
  for (const name of SEARCHES) {
    const config = searchConfig(name, setup, 0);
    assert.ok('builtin' in config.fitness && config.fitness.builtin.offset === TEST_WINDOWS);
  }
  const fitness = await buildFitness(searchConfig('cma-es', setup, 0), process.cwd(), { threads: 1 });
  try {
    assert.deepEqual(fitness.windows, { first: TEST_WINDOWS, count: 8 });
  } finally {
    await fitness.close?.();
  }
  const log = new EvaluationLog();
  log.record({ phase: 'dev', label: 'x', first: 32, count: 8 });
  log.record({ phase: 'test', label: 'y', first: 0, count: 32 });
  assert.throws(() => log.record({ phase: 'dev', label: 'late', first: 32, count: 8 }), /after the test split was read/);
});
