import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adNevConfigSchema, BUDGETS } from './config.js';
import { prepareChannel } from './channel.js';
import { evolveChannel, type LevelSnapshot } from './pipeline.js';
import { loadChannel } from '../../tasks/anomaly/smap-msl.js';
import { applyScaler, makeWindows } from '../../tasks/anomaly/series.js';
import { ensembleFitness, featureProfile } from './fitness.js';
import { EnginePool } from './pool.js';
import { ensembleDecisions, scoreEnsemble } from './ensemble.js';
import { RunStore } from '../../runs/store.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/smap-msl-subset', import.meta.url));

test('pipeline (tiny budget, fixture channel A-6): untrained + four levels, elitist from the baseline on, deterministic, resumable, test-free fitness', async () => {
  const config = adNevConfigSchema.parse({ ...BUDGETS.tiny, seed: 3 });
  const channel = loadChannel(FIXTURE, 'A-6');
  const prepared = prepareChannel('A-6', channel.train, config);
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-ad-nev-'));
  const pool = await EnginePool.create({ workers: 2 });
  try {
    const first = await evolveChannel({ channel: prepared, config, pool, runDir: join(dir, 'a') });
    assert.deepEqual(first.map((s) => s.level), ['untrained', 'baseline', 'level1', 'level2', 'level3']);
    const [untrained, baseline, level1, level2, level3] = first as [LevelSnapshot, LevelSnapshot, LevelSnapshot, LevelSnapshot, LevelSnapshot];
    assert.equal(level1.members.length, config.members);
    for (const member of level1.members) assert.ok(member.features.length > 0 && member.features.every((f) => f >= 0 && f < 25));
    // one ensemble fitness for every level: training beats random weights, and levels 1–3 are elitist from the baseline on
    assert.ok(baseline.fitness < untrained.fitness, `trained ${baseline.fitness} vs untrained ${untrained.fitness}`);
    assert.ok(level1.fitness <= baseline.fitness, `level 1 ${level1.fitness} vs baseline ${baseline.fitness}`);
    assert.ok(level2.fitness <= level1.fitness, `level 2 ${level2.fitness} vs level 1 ${level1.fitness}`);
    assert.ok(level3.fitness <= level2.fitness, `level 3 ${level3.fitness} vs level 2 ${level2.fitness}`);
    // the fitness is the documented function of the members' held-out errors
    const profile = featureProfile(prepared.fit, prepared.heldOut, config.fitnessNormalisation);
    const heldOutErrors = await pool.run(level3.members.map((m) => ({ kind: 'score' as const, genome: m.genome, weights: m.weights, score: [makeWindows(prepared.heldOut, m.features, m.genome.window)] })));
    const recomputed = ensembleFitness(profile, level3.members.map((m, i) => ({ features: m.features, featureErrors: (heldOutErrors[i] as { featureErrors: Float64Array[] }).featureErrors[0]! })));
    assert.ok(Math.abs(recomputed - level3.fitness) <= 1e-12 * Math.max(1, level3.fitness), `level 3 fitness ${level3.fitness} vs recomputed ${recomputed}`);

    // the same seed in a fresh directory reproduces every member; reopening the finished run evaluates nothing new
    const again = await evolveChannel({ channel: prepared, config, pool, runDir: join(dir, 'b') });
    const resumed = await evolveChannel({ channel: prepared, config, pool, runDir: join(dir, 'a') });
    for (const other of [again, resumed]) {
      other.forEach((snapshot, i) => {
        assert.equal(snapshot.fitness, first[i]!.fitness);
        snapshot.members.forEach((m, j) => {
          assert.deepEqual(m.genome, first[i]!.members[j]!.genome);
          assert.deepEqual(m.weights, first[i]!.members[j]!.weights);
        });
      });
    }
    const store = RunStore.open(join(dir, 'a', 'A-6', 'level1'));
    const evaluations = store.individuals().length;
    assert.equal(evaluations, config.level1.population + config.level1.generations * config.level1.offspring, 'no evaluation repeated on reopen');
    store.close();

    // thresholds come from training scores only: replacing the test series changes no threshold
    const test = applyScaler(channel.test, prepared.scaler);
    const scored = await scoreEnsemble(pool, level3.members, prepared.calibration, test, config);
    const shifted = { ...test, values: test.values.map((v) => v * 3 + 1) };
    const scoredShifted = await scoreEnsemble(pool, level3.members, prepared.calibration, shifted, config);
    assert.deepEqual(scoredShifted.thresholds, scored.thresholds);
    assert.deepEqual(scoredShifted.ensembleThresholds, scored.ensembleThresholds);
    const decisions = ensembleDecisions(scored, 'pot', 'majority');
    assert.equal(decisions.predictions.length, channel.test.rows);
    assert.ok(decisions.score.every(Number.isFinite));
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
