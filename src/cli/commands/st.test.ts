import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/support/cli.js';
import { SafetensorsFile } from '../../io/safetensors/reader.js';

/** A 3-sensor line network reading a sine of period 8 steps. */
function writeNetwork(dir: string, steps: number): void {
  const rows = ['s1,s2,s3'];
  for (let t = 0; t < steps; t++) rows.push([0, 1, 2].map((n) => (50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8)).toFixed(4)).join(','));
  writeFileSync(join(dir, 'speed.csv'), rows.join('\n'));
  writeFileSync(join(dir, 'adj.csv'), '1,0.5,0\n0.5,1,0.5\n0,0.5,1\n');
}

test('st train --json: baselines and GWN metrics at 3/6/12, model and results in --run-dir', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-cli-'));
  writeNetwork(dir, 80);
  const runDir = join(dir, 'run');
  const { code, stdout } = await runCli(['st', 'train', '--data', dir, '--epochs', '2', '--batch-size', '8', '--residual-channels', '4', '--skip-channels', '8', '--end-channels', '8', '--backend', 'cpu', '--run-dir', runDir, '--json']);
  assert.equal(code, 0);
  const result = JSON.parse(stdout) as { split: { train: number; val: number; test: number }; results: { method: string; metrics: Record<string, { mae: number; count: number }> }[]; history: unknown[] };
  // 80 steps → 57 samples → 40 / 6 / 11
  assert.deepEqual(result.split, { train: 40, val: 6, test: 11 });
  assert.deepEqual(result.results.map((r) => r.method), ['last value', 'historical average', 'graph wavenet']);
  for (const r of result.results) {
    for (const h of ['3', '6', '12', 'all']) assert.ok(Number.isFinite(r.metrics[h]!.mae) && r.metrics[h]!.mae >= 0);
    assert.equal(r.metrics['3']!.count, 11 * 3);
  }
  assert.equal(result.history.length, 2);
  assert.ok(existsSync(join(runDir, 'results.json')));
  const file = SafetensorsFile.open(join(runDir, 'model.safetensors'));
  try {
    assert.equal(file.metadata?.modelevo_kind, 'modelevo-graph-wavenet');
    assert.deepEqual(file.info('node_emb1').shape, [3, 10]);
  } finally {
    file.close();
  }
  assert.equal(JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')).split.test, 11);
});

test('st train: adjacency of the wrong size is a SHAPE_MISMATCH error naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-cli-bad-'));
  writeNetwork(dir, 30);
  writeFileSync(join(dir, 'adj.csv'), '1,0\n0,1\n');
  const { code, stderr } = await runCli(['st', 'train', '--data', dir, '--backend', 'cpu']);
  assert.notEqual(code, 0);
  assert.match(stderr, /adj\.csv.*3×3.*found 2×2/);
});
