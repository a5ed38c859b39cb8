import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adNevConfigSchema, BUDGETS } from './config.js';
import { runAdNev } from './run.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/smap-msl-subset', import.meta.url));

test("subspaceScope 'dataset': every channel's level 1 uses one subspace set, no worse on average than the baseline it is seeded with", async () => {
  const config = adNevConfigSchema.parse({ ...BUDGETS.tiny, seed: 7, epochs: 1, subspaceScope: 'dataset', level1: { population: 3, offspring: 2, generations: 1 } });
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-ad-nev-shared-'));
  try {
    const { reports } = await runAdNev({ runDir: dir, config, dataset: { dataset: 'smap', channels: ['A-5', 'A-6'], dataDir: FIXTURE }, workers: 2 });
    const level1 = reports.map((r) => r.levels.find((l) => l.level === 'level1')!);
    const baseline = reports.map((r) => r.levels.find((l) => l.level === 'baseline')!);
    assert.deepEqual(level1[0]!.members.map((m) => m.features), level1[1]!.members.map((m) => m.features), 'one set for both channels');
    assert.equal(level1[0]!.members.length, config.members);
    // the GA is seeded with k copies of all features, which is the baseline on each channel: the chosen set's
    // mean fitness over channels can only be lower or equal
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const level1Mean = mean(level1.map((l) => l.validationFitness));
    const baselineMean = mean(baseline.map((l) => l.validationFitness));
    assert.ok(level1Mean <= baselineMean + 1e-12, `level 1 mean fitness ${level1Mean} vs baseline ${baselineMean}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
