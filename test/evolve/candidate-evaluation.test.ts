/**
 * evolve/candidate-evaluation.ts (the queue worker's evaluation, #20) gives the numbers a local run stores:
 * every individual of a local random-search run, re-evaluated from its stored recipe away from the run, has
 * the same fitness and metrics bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candidateEvaluator } from '../../src/evolve/candidate-evaluation.js';
import { parseEvolveConfig } from '../../src/evolve/config.js';
import { buildFitness } from '../../src/evolve/fitness/build.js';
import { runEvolution } from '../../src/evolve/run.js';
import { RunStore } from '../../src/runs/store.js';
import { BASE, EXPERTS } from './fixture-fitness.js';

const MODULE = `
import { existsSync } from 'node:fs';
export const needsFolder = true;
export function evaluate({ checkpoint, dir }) {
  const v = checkpoint.readFloat32('model.norm.weight');
  let s = 0;
  for (const x of v) s += (x - 1) ** 2;
  // a candidate written for another program carries the donor's config.json
  return { score: -s, first: v[0], hasConfig: existsSync(dir + '/config.json') ? 1 : 0 };
}
`;

test('a candidate evaluated from its recipe away from the run scores exactly what the local run stored', async () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-remote-eval-'));
  const evaluator = candidateEvaluator();
  try {
    const modulePath = join(root, 'fitness.mjs');
    writeFileSync(modulePath, MODULE);
    const fitnessSpec = { module: { path: modulePath, objective: 'max' } };
    const config = parseEvolveConfig({
      seed: 5,
      base_model: BASE,
      models: EXPERTS,
      budget: 4,
      fitness: fitnessSpec,
      strategy: { name: 'random', genome: { merge_method: 'task_arithmetic' }, batch: 4 },
    });
    const runDir = join(root, 'run');
    const fitness = await buildFitness(config, process.cwd());
    await runEvolution({ config, runDir, fitness, writeBest: false });
    const store = RunStore.open(runDir);
    const stored = store.individuals();
    store.close();
    assert.equal(stored.length, 4);
    for (const record of stored) {
      const remote = await evaluator.evaluate({ recipe: record.recipe, fitness: fitnessSpec, models: { refs: EXPERTS, base: BASE }, cwd: process.cwd() });
      assert.ok(Number.isFinite(remote.fitness) && remote.fitness < 0);
      assert.equal(remote.fitness, record.fitness, record.key);
      assert.deepEqual(remote.metrics, record.metrics);
      assert.equal(remote.metrics!['hasConfig'], 1);
    }
    // the four candidates differ, so equal numbers are not one repeated value
    assert.equal(new Set(stored.map((r) => r.fitness)).size, 4);
  } finally {
    await evaluator.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a job whose fitness block is not a valid evolve fitness is refused with the evolve schema\'s message', async () => {
  const evaluator = candidateEvaluator();
  try {
    await assert.rejects(
      evaluator.evaluate({ recipe: {}, fitness: { command: { run: 3 } }, models: { refs: EXPERTS }, cwd: process.cwd() }),
      (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && /the job's fitness/.test(error.message),
    );
  } finally {
    await evaluator.close();
  }
});
