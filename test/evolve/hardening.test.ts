// Evolve runs under bad input and concurrency (issue #17 items 1–3): populations refused up front with the
// computed size, a fitness whose inputs can never work refused before the run folder exists, and a second
// `evolve` on a live run folder refused by the lock while the first completes unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, ModelevoError } from '../../src/core/errors.js';
import { loadEvolveConfig, parseEvolveConfig } from '../../src/evolve/config.js';
import { buildFitness } from '../../src/evolve/fitness/build.js';
import { runEvolution } from '../../src/evolve/run.js';
import { RunStore } from '../../src/runs/store.js';
import { BASE, EXPERTS, targetFitness } from './fixture-fitness.js';

function withDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-harden-'));
  return work(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const common = { seed: 3, base_model: BASE, models: EXPERTS, fitness: { module: { path: 'unused.mjs', objective: 'max' } } };
const cma = (population: number) => ({ name: 'cma-es', genome: { merge_method: 'task_arithmetic' }, population });

test('population 10^8: refused in < 1 s with the computed size, both above the budget and above memory', async () => {
  await withDir(async (root) => {
    for (const budget of [40, 1e9]) {
      const config = parseEvolveConfig({ ...common, budget, strategy: cma(1e8) });
      const runDir = join(root, `run-${budget}`);
      const started = performance.now();
      await assert.rejects(runEvolution({ config, runDir, fitness: targetFitness() }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.deepEqual(e.issues[0]!.path, ['strategy', 'population']);
        if (budget === 40) assert.match(e.message, /population of 100000000 is larger than the budget of 40/);
        // 3 models: a genome of 3 weights → 100000000 · (64·3 + 512) bytes ≈ 70.4 GB
        else assert.match(e.message, /100000000 candidates of 3 genes needs about 70\.4 GB per step/);
        return true;
      });
      assert.ok(performance.now() - started < 1000, `${performance.now() - started} ms`);
      assert.equal(existsSync(runDir), false, 'nothing is created for a refused run');
    }
  });
});

test('random search: the registry names `batch` as its population, so a batch above the budget is refused under that key', async () => {
  await withDir(async (root) => {
    const config = parseEvolveConfig({ ...common, budget: 5, strategy: { name: 'random', genome: { merge_method: 'task_arithmetic' }, batch: 5 } });
    // a batch equal to the budget is allowed; one above it cannot be: check the refusal on a budget of 4
    const tooBig = { ...config, budget: 4 };
    await assert.rejects(runEvolution({ config: tooBig, runDir: join(root, 'r'), fitness: targetFitness() }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.deepEqual(e.issues[0]!.path, ['strategy', 'batch']);
      assert.match(e.message, /population of 5 is larger than the budget of 4/);
      return true;
    });
  });
});

test('a fitness whose inputs can never work is refused before the run folder exists', async () => {
  await withDir(async (root) => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ texts: { code: join(root, 'missing.txt') } }, /text file .*missing\.txt does not exist/],
      [{ texts: { code: 'test/fixtures/text/code.val.txt' }, window: 512 }, /window 512 exceeds the model's max_position_embeddings 256/],
      [{ texts: { code: 'test/fixtures/text/code.val.txt' }, window: 256, windows: 100000 }, /has \d+ tokens but 32 \+ 100000 windows of 256 need/],
    ];
    for (const [builtin, message] of cases) {
      const config = parseEvolveConfig({ ...common, budget: 4, fitness: { builtin }, strategy: cma(2) });
      const fitness = await buildFitness(config, process.cwd(), { threads: 1 });
      const runDir = join(root, 'run');
      try {
        await assert.rejects(runEvolution({ config, runDir, fitness }), (e: unknown) => e instanceof ModelevoError && message.test(e.message));
      } finally {
        await fitness.close?.();
      }
      assert.equal(existsSync(runDir), false);
    }
  });
});

test('every evaluation of the first step failing: evolve exits non-zero and the run is marked failed', async () => {
  await withDir(async (root) => {
    writeFileSync(join(root, 'fitness.mjs'), 'export async function evaluate() { throw new Error("scorer cannot start"); }\n');
    const yml = join(root, 'evolve.yml');
    writeFileSync(
      yml,
      [`budget: 6`, `base_model: ${resolve(BASE)}`, 'models:', ...EXPERTS.map((m) => `  - ${resolve(m)}`), 'strategy: {name: cma-es, genome: {merge_method: task_arithmetic}, population: 3}', `fitness: {module: {path: ${join(root, 'fitness.mjs')}}}`].join('\n'),
    );
    const runDir = join(root, 'run');
    const child = spawnSync(process.execPath, ['bin/modelevo.js', 'evolve', yml, '--run-dir', runDir], { encoding: 'utf8' });
    assert.notEqual(child.status, 0);
    assert.match(child.stderr, /every evaluation of the first step failed \(3 of 3\); the first failure: fitness module threw: scorer cannot start/);
    const store = RunStore.open(runDir);
    assert.equal(store.manifest().status, 'failed');
    assert.equal(store.individuals().length, 3);
    store.close();
  });
});

/** scores like the resume test's fitness; while GATE names a missing file, evaluations after the second wait */
const SLOW_FITNESS = `
import { existsSync } from 'node:fs';
let calls = 0;
export async function evaluate({ checkpoint }) {
  const gate = process.env.GATE;
  if (gate && ++calls > 2) while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 20));
  const v = checkpoint.readFloat32('model.norm.weight');
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - 1.05) ** 2;
  return { score: -Math.sqrt(s) };
}
`;

test('two evolve processes on one run folder: the second exits "run is locked by pid … on …", the first completes unchanged', async () => {
  await withDir(async (root) => {
    writeFileSync(join(root, 'fitness.mjs'), SLOW_FITNESS);
    const yml = join(root, 'evolve.yml');
    writeFileSync(
      yml,
      [`seed: 2`, `budget: 12`, `base_model: ${resolve(BASE)}`, 'models:', ...EXPERTS.map((m) => `  - ${resolve(m)}`), 'strategy: {name: cma-es, genome: {merge_method: task_arithmetic}, population: 4}', `fitness: {module: {path: ${join(root, 'fitness.mjs')}}}`, 'record_kinship: false'].join('\n'),
    );
    // the reference runs in-process (same config, same fitness module, no gate)
    const referenceConfig = loadEvolveConfig(yml);
    const referenceFitness = await buildFitness(referenceConfig, process.cwd());
    await runEvolution({ config: referenceConfig, runDir: join(root, 'reference'), fitness: referenceFitness, writeBest: false });

    const runDir = join(root, 'run');
    const gate = join(root, 'gate');
    const first = spawn(process.execPath, ['bin/modelevo.js', 'evolve', yml, '--run-dir', runDir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATE: gate } });
    let firstErr = '';
    first.stderr.on('data', (d) => (firstErr += d));
    const firstExit = new Promise<number | null>((r) => first.on('exit', (code) => r(code)));
    const stored = () => {
      try {
        const store = RunStore.open(runDir);
        const n = store.individuals().length;
        store.close();
        return n;
      } catch {
        return 0;
      }
    };
    for (let i = 0; i < 600 && stored() < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(stored() >= 2 && stored() < 12, 'the first run is in flight');
    const second = spawnSync(process.execPath, ['bin/modelevo.js', 'evolve', yml, '--run-dir', runDir, '--resume'], { encoding: 'utf8' });
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, new RegExp(`run is locked by pid ${first.pid} on \\S+`));
    writeFileSync(gate, '');
    assert.equal(await firstExit, 0, firstErr);

    const rows = (dir: string) => {
      const store = RunStore.open(dir);
      const out = store.individuals().map((r) => [r.step, r.index, r.key, r.fitness]);
      assert.equal(store.lockOwner(), undefined, 'the lock is released at the end');
      store.close();
      return out;
    };
    assert.deepEqual(rows(runDir), rows(join(root, 'reference')));
    assert.equal(rows(runDir).length, 12);
  });
});
