/**
 * The evolution demo and `results:merging` (issue #15) on a tiny-llama family (v2 by default: experts that
 * merging can improve on; v1: over-fitted experts, the control). In order: kinship of the experts; static
 * baselines selected on development windows (base, experts, linear, task arithmetic over λ including 0,
 * TIES and DARE-TIES over density × λ); every search strategy at one budget of development evaluations, for
 * each seed; then — once every choice is made — one test-split evaluation (windows 0–31) per selected model.
 * Every data access is recorded in an EvaluationLog that refuses development reads after the test phase began.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeJsonAtomic } from '../core/atomic-file.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { openCheckpoint } from '../io/open.js';
import { computeKinship } from '../kinship/compute.js';
import { LmTokenizer } from '../eval/tokenizer.js';
import { buildFitness } from '../evolve/fitness/build.js';
import { evaluateTestSplit, TextEvaluator } from '../evolve/fitness/lm.js';
import { TEST_WINDOWS } from '../evolve/fitness/splits.js';
import type { ReferenceLine } from '../runs/report.js';
import { demoFamily, DOMAINS, type FamilyName } from './family.js';
import { EvaluationLog, type EvaluationEntry } from './evaluation-log.js';
import { bestStatic, DEFAULT_STATIC_GRID, materialiseStatic, staticCandidates, type StaticCandidate, type StaticGrid, type StaticScore } from './statics.js';
import { DETERMINISTIC, runSearch, searchConfig, searchLabel, SEARCHES, type SearchName, type SearchRun, type SearchSetup } from './searches.js';
import { kinshipLines, type KinshipView } from './kinship-view.js';
import { inputRows, searchTable, staticTable, testVerdict, type TestRow } from './tables.js';

export interface EvolutionDemoOptions {
  /** folder holding tiny-llama/, tiny-llama-v2/ and text/ (the bundled test/fixtures) */
  readonly fixtures: string;
  readonly out: string;
  readonly family?: FamilyName;
  /** development windows per text, from window 32 (default 8) */
  readonly devWindows?: number;
  /** development evaluations per search run (default 60) */
  readonly budget?: number;
  /** Evolver's generation cap (default 20: the budget stops it first, after ≥ 10 generations) */
  readonly evolverGenerations?: number;
  /** seeds 0 … seeds−1 for every search row (default 1) */
  readonly seeds?: number;
  readonly searches?: readonly SearchName[];
  readonly staticGrid?: StaticGrid;
  readonly threads?: number;
  /** keep `out` and continue: finished runs and cached scores are reused (results:merging after a kill) */
  readonly resume?: boolean;
  readonly write?: (text: string) => void;
}

export interface SearchResult extends SearchRun {
  readonly label: string;
  readonly bestDev: number;
  readonly test: Record<string, number>;
  readonly testMean: number;
}

export interface EvolutionDemoResult {
  readonly family: FamilyName;
  readonly kinship: KinshipView;
  readonly statics: StaticScore[];
  readonly bestStatic: StaticScore;
  /** test rows of the base, each expert and the best static merge */
  readonly inputs: TestRow[];
  readonly searches: SearchResult[];
  readonly setup: SearchSetup;
  readonly seeds: number[];
  /** this session's evaluations, in order */
  readonly log: readonly EvaluationEntry[];
  /** every session's evaluations in this output folder (resumed sessions append), in order */
  readonly history: readonly EvaluationEntry[];
  readonly verdict: string;
  readonly seconds: number;
}

interface Cache {
  readonly key: string;
  dev: Record<string, number>;
  test: Record<string, Record<string, number>>;
}

export async function runEvolutionDemo(options: EvolutionDemoOptions): Promise<EvolutionDemoResult> {
  const started = performance.now();
  const say = options.write ?? ((text: string) => process.stdout.write(text));
  const line = (text = '') => say(`${text}\n`);
  const family = demoFamily(options.fixtures, options.family ?? 'v2');
  const ref = (path: string) => relative(process.cwd(), path) || '.';
  const devWindows = options.devWindows ?? 8;
  const seeds = Array.from({ length: options.seeds ?? 1 }, (_, i) => i);
  const searches = options.searches ?? SEARCHES;
  if (!options.resume) rmSync(options.out, { recursive: true, force: true });
  mkdirSync(options.out, { recursive: true });
  const cache = loadCache(join(options.out, 'cache.json'), JSON.stringify({ family: family.name, devWindows, grid: options.staticGrid ?? DEFAULT_STATIC_GRID }));
  const saveCache = () => writeJsonAtomic(join(options.out, 'cache.json'), cache);
  const log = new EvaluationLog();
  const orderFile = join(options.out, 'evaluation-order.json');
  const previous: EvaluationEntry[] = options.resume && existsSync(orderFile) ? (JSON.parse(readFileSync(orderFile, 'utf8')) as EvaluationEntry[]) : [];

  const experts = family.experts.map((e) => ({ label: e.label, ref: ref(e.path) }));
  const models = new Map<string, Checkpoint>();
  for (const path of [family.base, ...family.experts.map((e) => e.path), family.stranger]) models.set(ref(path), openCheckpoint(ref(path)));

  line(`modelevo demo (family ${family.name}): ${family.description}`);
  line(`  selection on development windows ${TEST_WINDOWS}–${TEST_WINDOWS + devWindows - 1} of each validation text; test = windows 0–${TEST_WINDOWS - 1}, evaluated once at the end\n`);

  line('1. Kinship of the task vectors (deltas from the base)');
  const kinship = kinshipOf(models.get(ref(family.base))!, [...experts.map((e) => [e.label, models.get(e.ref)!] as const), ['stranger', models.get(ref(family.stranger))!] as const]);
  kinshipLines(kinship).forEach((l) => line(`   ${l}`));
  line();

  const setupWithout = (mergerLambda: number): SearchSetup => ({
    base: ref(family.base),
    experts: experts.map((e) => e.ref),
    adapters: family.adapters.map(ref),
    texts: Object.fromEntries(DOMAINS.map((d) => [d, ref(family.texts[d])])),
    devWindows,
    devOffset: TEST_WINDOWS,
    budget: options.budget ?? 60,
    evolverGenerations: options.evolverGenerations ?? 20,
    mergerLambda,
  });
  // the demo selects with exactly evolve's built-in fitness (the same code path `modelevo evolve` uses)
  const builtin = await buildFitness(searchConfig('random', setupWithout(1), 0), process.cwd(), { threads: options.threads ?? 2 });
  const evaluator = new TextEvaluator(options.threads ?? 2);
  // workers and opened models are released on every path, also when a step throws
  try {
    let devLabel = '';
    const fitness = log.devSource(builtin, () => devLabel);

    line('2. Static baselines, scored on development windows');
    const statics: StaticScore[] = [];
    for (const candidate of staticCandidates(ref(family.base), experts, options.staticGrid ?? DEFAULT_STATIC_GRID)) {
      let dev = cache.dev[candidate.name];
      if (dev === undefined) {
        devLabel = `static ${candidate.name}`;
        const checkpoint = await materialiseStatic(candidate, models, 0);
        dev = (await fitness.evaluate({ checkpoint })).score;
        cache.dev[candidate.name] = dev;
        saveCache();
      }
      statics.push({ name: candidate.name, dev });
    }
    const best = bestStatic(statics);
    staticTable(statics, best.name).forEach((l) => line(`   ${l}`));
    line(`   → best static on dev: ${best.name}\n`);

    const taLambdas = statics.filter((s) => s.name.startsWith('task arithmetic') && !s.name.includes('(= base)'));
    const mergerLambda = Number(/λ=([0-9.]+)/.exec(bestStatic(taLambdas).name)![1]);
    const setup = setupWithout(mergerLambda);
    const devOf = (name: string) => statics.find((s) => s.name === name)!.dev;
    const references: ReferenceLine[] = [
      { label: 'base', fitness: devOf('base') },
      ...experts.map((e) => ({ label: e.label, fitness: devOf(e.label) })),
      { label: `best static (${best.name})`, fitness: best.dev },
    ];

    line(`3. Searches: ${searches.length} strategies × ${seeds.length} seed(s), budget ${setup.budget} development evaluations each (runs and reports under ${ref(join(options.out, 'runs'))}/)`);
    const runs: SearchRun[] = [];
    for (const seed of seeds) {
      for (const name of searches) {
        const reuse = DETERMINISTIC.has(name) && seed !== seeds[0] ? runs.find((r) => r.name === name) : undefined;
        if (reuse) {
          runs.push({ ...reuse, seed });
          continue;
        }
        devLabel = `${name} seed ${seed}`;
        const run = await runSearch({ name, setup, seed, runsDir: join(options.out, 'runs'), fitness, references });
        runs.push(run);
        line(`   ${searchLabel(name, setup)}, seed ${seed}: best dev ${run.summary.best?.fitness.toFixed(4) ?? 'n/a'} after ${run.summary.evaluations} evaluations${run.summary.reused ? ` (${run.summary.reused} reused)` : ''}`);
      }
    }
    await fitness.close?.();

    line(`\n4. Test split (windows 0–${TEST_WINDOWS - 1}), evaluated once now that every choice is made`);
    const { inputs, results } = await testSplit(
      { family, ref, models, experts, cache, saveCache, log, out: options.out },
      evaluator,
      setup,
      { statics, best, candidate: staticCandidates(ref(family.base), experts, options.staticGrid ?? DEFAULT_STATIC_GRID).find((c) => c.name === best.name)! },
      runs,
    );

    inputRows(inputs).forEach((l) => line(`   ${l}`));
    line();
    searchTable(results.filter((r) => r.seed === seeds[0]), inputs).forEach((l) => line(`   ${l}`));
    const verdict = testVerdict(inputs, results);
    line(`\n${verdict}`);
    const history = [...previous, ...log.entries];
  writeJsonAtomic(orderFile, history);
    const seconds = (performance.now() - started) / 1000;
    line(`\ndemo finished in ${seconds.toFixed(0)} s; each run's best model and report.md/report.html are under ${ref(join(options.out, 'runs'))}/*/`);
    return { family: family.name, kinship, statics, bestStatic: best, inputs, searches: results, setup, seeds, log: log.entries, history, verdict, seconds };
  } finally {
    await builtin.close?.();
    await evaluator.close();
    for (const m of models.values()) m.close();
  }
}

/** What the demo's phases share: the family, its opened models, the score cache and the evaluation log. */
interface DemoSession {
  readonly family: ReturnType<typeof demoFamily>;
  /** a path as the runs record it (relative to the working directory) */
  readonly ref: (path: string) => string;
  readonly models: ReadonlyMap<string, Checkpoint>;
  readonly experts: readonly { readonly label: string; readonly ref: string }[];
  readonly cache: Cache;
  readonly saveCache: () => void;
  readonly log: EvaluationLog;
  readonly out: string;
}

/**
 * Step 4: the test split (windows 0–31), evaluated once per selected model now that every choice is made — base,
 * experts, the best static merge and each search's best; scores are cached by model and run length.
 */
async function testSplit(
  session: DemoSession,
  evaluator: TextEvaluator,
  setup: SearchSetup,
  chosen: { readonly statics: readonly StaticScore[]; readonly best: StaticScore; readonly candidate: StaticCandidate },
  runs: readonly SearchRun[],
): Promise<{ inputs: TestRow[]; results: SearchResult[] }> {
  const { family, ref, models, experts, cache, saveCache, log, out } = session;
  const { best } = chosen;
  const tokenizer = LmTokenizer.fromFolder(family.base);
  const testOf = async (key: string, open: () => Promise<Checkpoint> | Checkpoint, close: boolean): Promise<Record<string, number>> => {
    const cached = cache.test[key];
    if (cached) return cached;
    const checkpoint = await open();
    log.record({ phase: 'test', label: key, first: 0, count: TEST_WINDOWS });
    const results = await evaluateTestSplit(evaluator, checkpoint, setup.texts, tokenizer);
    if (close) checkpoint.close();
    cache.test[key] = Object.fromEntries([...results].map(([name, r]) => [name, r.loss]));
    saveCache();
    return cache.test[key]!;
  };
  const mean = (test: Record<string, number>) => DOMAINS.reduce((a, d) => a + test[d]!, 0) / DOMAINS.length;
  const inputs: TestRow[] = [];
  for (const name of ['base', ...experts.map((e) => e.label)]) {
    const model = name === 'base' ? ref(family.base) : experts.find((e) => e.label === name)!.ref;
    const test = await testOf(name, () => models.get(model)!, false);
    inputs.push({ model: name, dev: chosen.statics.find((s) => s.name === name)!.dev, test, testMean: mean(test) });
  }
  const bestTest = await testOf(`static ${best.name}`, () => materialiseStatic(chosen.candidate, models, 0), false);
  inputs.push({ model: `best static: ${best.name}`, dev: best.dev, test: bestTest, testMean: mean(bestTest) });
  const results: SearchResult[] = [];
  for (const run of runs) {
    const output = run.summary.best?.output;
    const test = output ? await testOf(`${relative(out, output)}@${run.summary.evaluations}`, () => openCheckpoint(output), true) : Object.fromEntries(DOMAINS.map((d) => [d, NaN]));
    results.push({ ...run, label: searchLabel(run.name, setup), bestDev: run.summary.best?.fitness ?? NaN, test, testMean: mean(test) });
  }
  return { inputs, results };
}

function loadCache(path: string, key: string): Cache {
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Cache;
    if (stored.key === key) return stored;
  }
  return { key, dev: {}, test: {} };
}

/** PCC of the deltas, and each delta's size relative to the base (‖W − W_base‖ / ‖W_base‖) */
function kinshipOf(base: Checkpoint, models: readonly (readonly [string, Checkpoint])[]): KinshipView {
  const labels = models.map(([l]) => l);
  const result = computeKinship(base, models.map(([, m]) => m), { metrics: ['pcc'], labels });
  const relativeNorm = models.map(([, m]) => {
    let delta = 0;
    let norm = 0;
    for (const name of base.names()) {
      const b = base.readFloat32(name);
      const w = m.readFloat32(name);
      for (let i = 0; i < b.length; i++) {
        delta += (w[i]! - b[i]!) ** 2;
        norm += b[i]! ** 2;
      }
    }
    return Math.sqrt(delta / norm);
  });
  return { labels, pcc: result.matrices.pcc!.map((row) => [...row]), relativeNorm };
}
