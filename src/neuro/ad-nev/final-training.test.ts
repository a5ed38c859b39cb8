import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adNevConfigSchema, BUDGETS } from './config.js';
import { prepareChannel } from './channel.js';
import { evolveChannel } from './pipeline.js';
import { loadChannel } from '../../tasks/anomaly/smap-msl.js';
import { makeWindows } from '../../tasks/anomaly/series.js';
import { ensembleFitness, featureProfile } from './fitness.js';
import { EnginePool } from './pool.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/smap-msl-subset', import.meta.url));

test('final re-training: reported snapshots carry the re-trained weights, their fitness is recomputed from them, level 3 starts from re-trained level 2', async () => {
  const config = adNevConfigSchema.parse({ ...BUDGETS.tiny, seed: 5, epochs: 1, finalEpochs: 3 });
  const channel = loadChannel(FIXTURE, 'A-6');
  const prepared = prepareChannel('A-6', channel.train, config);
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-ad-nev-final-'));
  const pool = await EnginePool.create({ workers: 2 });
  try {
    const snapshots = await evolveChannel({ channel: prepared, config, pool, runDir: dir });
    const profile = featureProfile(prepared.fit, prepared.heldOut, config.fitnessNormalisation);
    for (const snapshot of snapshots.slice(1)) {
      const scored = await pool.run(snapshot.members.map((m) => ({ kind: 'score' as const, genome: m.genome, weights: m.weights, score: [makeWindows(prepared.heldOut, m.features, m.genome.window)] })));
      const recomputed = ensembleFitness(profile, snapshot.members.map((m, i) => ({ features: m.features, featureErrors: (scored[i] as { featureErrors: Float64Array[] }).featureErrors[0]! })));
      assert.ok(Math.abs(recomputed - snapshot.fitness) <= 1e-9 * Math.max(1, snapshot.fitness), `${snapshot.level}: ${snapshot.fitness} vs ${recomputed}`);
    }
    const [, baseline, , level2, level3] = snapshots;
    assert.ok(level3!.fitness <= level2!.fitness, 'level 3 is elitist from the re-trained level 2');
    // the baseline network trained 3 epochs reconstructs its held-out part better than the same network trained 1 epoch
    const short = await evolveChannel({ channel: prepared, config: adNevConfigSchema.parse({ ...BUDGETS.tiny, seed: 5, epochs: 1 }), pool, runDir: join(dir, 'short') });
    assert.notDeepEqual(short[1]!.members[0]!.weights, baseline!.members[0]!.weights);
    assert.ok(baseline!.fitness < short[1]!.fitness, `3 epochs ${baseline!.fitness} vs 1 epoch ${short[1]!.fitness}`);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
