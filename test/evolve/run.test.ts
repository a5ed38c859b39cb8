import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseEvolveConfig } from '../../src/evolve/config.js';
import { runEvolution } from '../../src/evolve/run.js';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../support/cli.js';
import { openCheckpoint } from '../../src/io/open.js';
import { runMerge } from '../../src/merge/index.js';
import { computeKinship } from '../../src/kinship/compute.js';
import { RunStore } from '../../src/runs/store.js';
import { BASE, EXPERTS, targetFitness } from './fixture-fitness.js';
import { budget } from '../support/budget.js';

// Each evaluation writes and scores one merge of the fixtures; npm test runs shorter searches than test:full.
const GRID_BUDGET = budget(20, 60);
const CMA_BUDGET = budget(14, 24);

function withDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-evolve-'));
  return work(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const common = { seed: 3, base_model: BASE, models: EXPERTS, fitness: { module: { path: 'unused.mjs', objective: 'max' } } };

function bestRecorded(dir: string): number {
  const store = RunStore.open(dir);
  const best = Math.max(...store.individuals().map((r) => r.fitness).filter((f) => Number.isFinite(f)));
  store.close();
  return best;
}

test('grid-greedy (AnyFit) walks task-arithmetic coefficients toward the target and writes a reproducible best', async () => {
  await withDir(async (root) => {
    const config = parseEvolveConfig({ ...common, budget: GRID_BUDGET, strategy: { name: 'grid-greedy', start: [0.5, 0.5, 0.5], step: 0.1, low: -1, high: 2 } });
    const runDir = join(root, 'run');
    const summary = await runEvolution({ config, runDir, fitness: targetFitness() });
    assert.ok(summary.evaluations <= GRID_BUDGET);
    assert.equal(summary.best!.fitness, bestRecorded(runDir));
    // the walk starts at 0.5 and moves toward (0.7, 0.5, −0.2)
    assert.ok(summary.best!.fitness > -1e-3 || summary.best!.key !== '[0.500, 0.500, 0.500]');
    // best.yml reproduces best/ bit-identically with `modelevo merge`
    const yaml = readFileSync(summary.best!.recipeFile!, 'utf8');
    const again = await runMerge(yaml, undefined, { inMemory: true, progress: 'none' });
    const written = openCheckpoint(summary.best!.output!);
    for (const name of written.names()) assert.deepEqual(again.checkpoint!.readBytes(name), written.readBytes(name), name);
    // … from any working directory: the recipe names its models by absolute path
    const recipe = parseYaml(yaml) as { models: { model: string }[]; base_model: string };
    assert.ok([recipe.base_model, ...recipe.models.map((m) => m.model)].every((ref) => isAbsolute(ref)), yaml);
    const previous = process.cwd();
    process.chdir(root);
    try {
      const cli = await runCli(['merge', summary.best!.recipeFile!, 'again', '--json']);
      assert.equal(cli.code, 0, cli.stderr);
    } finally {
      process.chdir(previous);
    }
    // best/ carries the model card of its recipe
    const card = readFileSync(join(summary.best!.output!, 'README.md'), 'utf8');
    assert.match(card, /\(`task_arithmetic`; /);
    assert.ok(card.includes(recipe.base_model), card);
    const fromElsewhere = openCheckpoint(join(root, 'again'));
    for (const name of written.names()) assert.deepEqual(fromElsewhere.readBytes(name), written.readBytes(name), name);
    fromElsewhere.close();
    written.close();
  });
});

test('cma-es over the mergekit-evolve genome improves on its initial point; best = best recorded individual', async () => {
  await withDir(async (root) => {
    const config = parseEvolveConfig({
      ...common,
      budget: CMA_BUDGET,
      strategy: { name: 'cma-es', genome: { merge_method: 'task_arithmetic', allow_negative_weights: true }, sigma0: 0.3 },
    });
    const runDir = join(root, 'run');
    const summary = await runEvolution({ config, runDir, fitness: targetFitness() });
    const store = RunStore.open(runDir);
    const records = store.individuals();
    store.close();
    assert.equal(records.length, summary.evaluations);
    assert.ok(summary.evaluations >= CMA_BUDGET && summary.evaluations < CMA_BUDGET + 10);
    assert.equal(summary.best!.fitness, bestRecorded(runDir));
    assert.ok(existsSync(join(summary.best!.output!, 'config.json')));
    // each individual records its PCC kinship to every parent; the best's equals a fresh computation
    const bestRecord = records.find((r) => r.key === summary.best!.key)!;
    assert.deepEqual(Object.keys(bestRecord.kinship!), EXPERTS);
    const base = openCheckpoint(BASE);
    const written = openCheckpoint(summary.best!.output!);
    const parents = EXPERTS.map((ref) => openCheckpoint(ref));
    const fresh = computeKinship(base, [written, ...parents], { metrics: ['pcc'] }).matrices.pcc!;
    EXPERTS.forEach((ref, i) => assert.ok(Math.abs(bestRecord.kinship![ref]! - fresh[0]![i + 1]!) < 1e-9, ref));
    [base, written, ...parents].forEach((c) => c.close());
  });
});

test('evolver (merger mode) never lowers the merged dev fitness; resume after the run changes nothing', async () => {
  await withDir(async (root) => {
    const config = parseEvolveConfig({ ...common, budget: 100, strategy: { name: 'evolver', mode: 'merger', merger: 'linear', generations: 2, F: 0.5, CR: 0.5 } });
    const runDir = join(root, 'run');
    const summary = await runEvolution({ config, runDir, fitness: targetFitness() });
    assert.equal(summary.evaluations, 1 + 3 * 2);
    const store = RunStore.open(runDir);
    const merged = store.individuals().map((r) => r.fitness);
    store.close();
    // every strictly better offspring population is accepted, so the final merge scores the best value seen
    assert.equal(summary.best!.fitness, Math.max(...merged));
    assert.ok(summary.best!.fitness >= merged[0]!);
    const again = await runEvolution({ config, runDir, fitness: targetFitness(), resume: true });
    assert.equal(again.evaluatedThisSession, 0);
    assert.equal(again.best!.fitness, summary.best!.fitness);
  });
});

test('kinship-greedy merges pairs of foundations with SLERP and explores by kinship', async () => {
  await withDir(async (root) => {
    const config = parseEvolveConfig({ ...common, budget: 20, strategy: { name: 'kinship-greedy', k: 2, max_generations: 2 } });
    const runDir = join(root, 'run');
    const summary = await runEvolution({ config, runDir, fitness: targetFitness() });
    const store = RunStore.open(runDir);
    const records = store.individuals();
    store.close();
    assert.deepEqual(records.slice(0, 3).map((r) => r.key), EXPERTS);
    assert.equal(records.slice(3, 6).filter((r) => r.parents?.length === 2).length, 3);
    assert.equal(summary.best!.fitness, bestRecorded(runDir));
  });
});

test('lorahub composes the LoRA adapters with CMA-ES weights in bounds and improves on w = 0', async () => {
  await withDir(async (root) => {
    const lora = ['literature', 'code', 'math'].map((d) => `test/fixtures/tiny-llama/lora-${d}`);
    const target = openCheckpoint(`${BASE}+${lora[1]}`).readFloat32('model.layers.0.self_attn.q_proj.weight');
    const fitness = {
      name: 'q-proj-distance',
      objective: 'min' as const,
      needsFolder: false,
      async evaluate({ checkpoint }: { checkpoint: import('../../src/io/checkpoint.js').Checkpoint }) {
        const values = checkpoint.readFloat32('model.layers.0.self_attn.q_proj.weight');
        let sum = 0;
        values.forEach((v, i) => (sum += (v - target[i]!) ** 2));
        return { score: Math.sqrt(sum) };
      },
    };
    const config = parseEvolveConfig({
      seed: 1,
      budget: 30,
      base_model: BASE,
      fitness: { module: { path: 'unused.mjs', objective: 'min' } },
      strategy: { name: 'lorahub', adapters: lora },
    });
    const runDir = join(root, 'run');
    const summary = await runEvolution({ config, runDir, fitness });
    const store = RunStore.open(runDir);
    const records = store.individuals();
    store.close();
    const weights = JSON.parse(summary.best!.key) as number[];
    for (const w of weights) assert.ok(w >= -1.5 && w <= 1.5);
    // the objective adds 0.05·mean|w| to the distance; at w = 0 it is the base's distance alone
    const baseDistance = await fitness.evaluate({ checkpoint: openCheckpoint(BASE) });
    assert.ok(summary.best!.fitness < baseDistance.score, `${summary.best!.fitness} vs ${baseDistance.score}`);
    assert.equal(records.length, summary.evaluations);
  });
  assert.throws(
    () => parseEvolveConfig({ base_model: BASE, fitness: { module: { path: 'x.mjs', objective: 'max' } }, strategy: { name: 'lorahub', adapters: ['a', 'b'] } }),
    /lorahub minimises a loss/,
  );
});
