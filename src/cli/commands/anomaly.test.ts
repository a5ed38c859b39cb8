import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnomalyEvolve, runAnomalyScore } from './anomaly.js';
import { ModelevoError } from '../../core/errors.js';
import { SafetensorsFile } from '../../io/safetensors/reader.js';

function csv(rows: number, anomalies: [number, number] | undefined, phase: number): string {
  const lines = ['timestamp,temp,pressure,flow' + (anomalies ? ',label' : '')];
  for (let t = 0; t < rows; t++) {
    const bump = anomalies && t >= anomalies[0] && t <= anomalies[1] ? 3 : 0;
    const values = [Math.sin(0.2 * t + phase) + bump, Math.cos(0.13 * t + phase), Math.sin(0.05 * t) * 0.5];
    lines.push(`2024-01-01T00:${String(t).padStart(4, '0')},${values.map((v) => v.toFixed(5)).join(',')}${anomalies ? `,${bump ? 1 : 0}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

test('anomaly evolve + score on user CSVs (tiny budget): models, metrics, scores, inspectable safetensors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-anomaly-cli-'));
  try {
    writeFileSync(join(dir, 'plant.csv'), csv(400, undefined, 0));
    writeFileSync(join(dir, 'plant-test.csv'), csv(200, [120, 140], 1));
    const lines: string[] = [];
    const runDir = join(dir, 'run');
    await runAnomalyEvolve({ dataset: join(dir, 'plant.csv'), test: join(dir, 'plant-test.csv'), budget: 'tiny', runDir, workers: 2 }, (l) => lines.push(l));
    assert.match(lines[0]!, /^channel\s+level/);
    assert.equal(lines.filter((l) => l.startsWith('plant ')).length, 5, lines.join('\n'));
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as { levels: { level: string; metrics: Record<string, number> }[] }[];
    for (const level of results[0]!.levels) {
      assert.ok(level.metrics.pot_pa_f1! >= level.metrics.pot_f1!, 'PA never lowers F1');
      assert.ok(level.metrics.oracle_f1! >= 0 && level.metrics.oracle_f1! <= 1);
    }
    const file = SafetensorsFile.open(join(runDir, 'plant', 'models', 'level3', 'member-0.safetensors'));
    assert.equal(file.metadata?.modelevo_kind, 'modelevo-conv-autoencoder');
    assert.deepEqual(JSON.parse(file.metadata!.column_names!), ['temp', 'pressure', 'flow']);
    file.close();

    const out = join(dir, 'scores.csv');
    await runAnomalyScore(runDir, { data: join(dir, 'plant-test.csv'), out, workers: 0 }, () => {});
    const scored = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(scored[0], 'row,score,anomaly');
    assert.equal(scored.length, 201);
    assert.ok(scored.slice(1).every((l) => /^\d+,[0-9.e+-]+,[01]$/.test(l)));

    await assert.rejects(runAnomalyEvolve({ dataset: join(dir, 'plant.csv'), budget: 'tiny', runDir }, () => {}), /already holds an anomaly run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('anomaly evolve rejects bad input with typed errors before training', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-anomaly-bad-'));
  const expectCode = async (promise: Promise<unknown>, pattern: RegExp): Promise<void> =>
    assert.rejects(promise, (e: unknown) => e instanceof ModelevoError && pattern.test(e.message) && e.hint !== undefined);
  try {
    writeFileSync(join(dir, 'ragged.csv'), 'a,b\n1,2\n3\n');
    await expectCode(runAnomalyEvolve({ dataset: join(dir, 'ragged.csv'), budget: 'tiny', runDir: join(dir, 'r1'), workers: 0 }, () => {}), /row 3 has 1 fields/);
    writeFileSync(join(dir, 'nan.csv'), 'a,b\n1,2\n3,nan\n');
    await expectCode(runAnomalyEvolve({ dataset: join(dir, 'nan.csv'), budget: 'tiny', runDir: join(dir, 'r2'), workers: 0 }, () => {}), /row 3, column 'b'/);
    writeFileSync(join(dir, 'short.csv'), 'a,b\n1,2\n3,4\n5,6\n');
    await expectCode(runAnomalyEvolve({ dataset: join(dir, 'short.csv'), budget: 'tiny', runDir: join(dir, 'r3'), workers: 0 }, () => {}), /each needs at least the window of 5 time steps/);
    await expectCode(runAnomalyEvolve({ dataset: 'smap', channels: 'Q-1', dataDir: 'test/fixtures/smap-msl-subset', budget: 'tiny', runDir: join(dir, 'r4'), workers: 0 }, () => {}), /not a SMAP channel/);
    await expectCode(runAnomalyScore(join(dir, 'nothing'), {}, () => {}), /not an anomaly run/);
    assert.ok(!existsSync(join(dir, 'r1', 'results.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
