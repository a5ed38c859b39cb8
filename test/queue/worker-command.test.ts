/**
 * `modelevo worker` (#20) end to end on a real redis-server: the recipes a local run evaluated, sent through
 * the queue to the CLI worker, come back with the fitness and metrics the local run stored, bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorkerCommand } from '../../src/cli/commands/worker.js';
import { parseEvolveConfig } from '../../src/evolve/config.js';
import { buildFitness } from '../../src/evolve/fitness/build.js';
import { runEvolution } from '../../src/evolve/run.js';
import { queueEvaluator } from '../../src/queue/evaluator.js';
import { RunStore, type IndividualRecord } from '../../src/runs/store.js';
import { EXPERTS } from '../evolve/fixture-fitness.js';
import { withRedisServer } from '../support/redis-server.js';

const MODULE = `
export function evaluate({ checkpoint }) {
  const v = checkpoint.readFloat32('model.layers.1.input_layernorm.weight');
  let s = 0;
  for (const x of v) s += Math.abs(x - 0.5);
  return { score: -s, last: v[v.length - 1] };
}
`;

test('modelevo worker: recipes of a local run, evaluated through the queue, score exactly what the local run stored', async () => {
  const root = mkdtempSync(join(tmpdir(), 'modelevo-worker-cmd-'));
  try {
    const modulePath = join(root, 'fitness.mjs');
    writeFileSync(modulePath, MODULE);
    const fitnessSpec = { module: { path: modulePath, objective: 'max' } };
    const config = parseEvolveConfig({ seed: 11, models: EXPERTS, budget: 4, fitness: fitnessSpec, strategy: { name: 'random', genome: { merge_method: 'linear' }, batch: 4 } });
    const runDir = join(root, 'run');
    await runEvolution({ config, runDir, fitness: await buildFitness(config, process.cwd()), writeBest: false });
    const store = RunStore.open(runDir);
    const stored = store.individuals();
    store.close();
    assert.equal(new Set(stored.map((r) => r.fitness)).size, 4);

    await withRedisServer(async (server) => {
      const queueName = `t-${randomUUID()}`;
      const worker = runWorkerCommand({ queue: server.url, queueName, name: 'cli', maxJobs: '4' });
      const evaluator = await queueEvaluator<IndividualRecord>({
        url: server.url,
        runId: 'local-vs-queue',
        maxInFlight: 2,
        queueName,
        jobOf: (record) => ({ key: record.key, candidate: { recipe: record.recipe }, fitness: fitnessSpec, models: { refs: EXPERTS }, cwd: process.cwd() }),
      });
      try {
        const outcomes = await Promise.all(evaluator.evaluateBatch(stored, stored.map((_, index) => ({ step: 0, index }))));
        assert.deepEqual(outcomes.map((o) => o.failure), [undefined, undefined, undefined, undefined]);
        assert.deepEqual(outcomes.map((o) => o.fitness), stored.map((r) => r.fitness));
        assert.deepEqual(outcomes.map((o) => o.metrics), stored.map((r) => r.metrics));
        assert.deepEqual(await worker, { jobs: 4 });
      } finally {
        await evaluator.close();
      }
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
