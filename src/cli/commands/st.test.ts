import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/support/cli.js';
import { SafetensorsFile } from '../../io/safetensors/reader.js';
import { RunStore } from '../../runs/store.js';
import { ModelevoError } from '../../core/errors.js';
import { runStTrainCommand, type StTrainOptions } from './st.js';

/** A 3-sensor line network reading a sine of period 8 steps. */
function writeNetwork(dir: string, steps: number): void {
  const rows = ['s1,s2,s3'];
  for (let t = 0; t < steps; t++) rows.push([0, 1, 2].map((n) => (50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8)).toFixed(4)).join(','));
  writeFileSync(join(dir, 'speed.csv'), rows.join('\n'));
  writeFileSync(join(dir, 'adj.csv'), '1,0.5,0\n0.5,1,0.5\n0,0.5,1\n');
}

test('st train --json: baselines and GWN metrics at 3/6/12; --run-dir stores an st-train run (epochs, model, results)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-cli-'));
  writeNetwork(dir, 80);
  const runDir = join(dir, 'run');
  const { code, stdout } = await runCli(['st', 'train', '--data', dir, '--epochs', '2', '--batch-size', '8', '--residual-channels', '4', '--skip-channels', '8', '--end-channels', '8', '--run-dir', runDir, '--json']);
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
  const store = RunStore.open(runDir);
  try {
    const manifest = store.manifest();
    assert.equal(manifest.kind, 'st-train');
    assert.equal(manifest.status, 'finished');
    assert.equal((manifest.config as { residualChannels: number }).residualChannels, 4);
    const epochs = store.individuals();
    assert.deepEqual(epochs.map((r) => r.key), ['epoch-1', 'epoch-2']);
    // the stored fitness of each epoch is the validation MAE the trainer reported
    assert.deepEqual(epochs.map((r) => r.fitness), (result.history as { valMae: number }[]).map((h) => h.valMae));
  } finally {
    store.close();
  }
  assert.ok(existsSync(join(runDir, 'artifacts', 'best-epoch.safetensors')) && existsSync(join(runDir, 'artifacts', 'last-epoch.safetensors')));
  const file = SafetensorsFile.open(join(runDir, 'artifacts', 'model.safetensors'));
  try {
    assert.equal(file.metadata?.modelevo_kind, 'modelevo-graph-wavenet');
    assert.deepEqual(file.info('node_emb1').shape, [3, 10]);
  } finally {
    file.close();
  }
  assert.equal(JSON.parse(readFileSync(join(runDir, 'artifacts', 'results.json'), 'utf8')).split.test, 11);
  // a finished run is not overwritten
  const again = await runCli(['st', 'train', '--data', dir, '--epochs', '2', '--run-dir', runDir]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already holds a finished st-train run/);
});

test('st train --resume continues an interrupted run from its last stored epoch; other options are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-resume-'));
  writeNetwork(dir, 80);
  const options = (runDir: string, extra: Partial<StTrainOptions> = {}): StTrainOptions => ({
    data: dir, epochs: 3, batchSize: 8, residualChannels: 4, skipChannels: 8, endChannels: 8, json: true, runDir, ...extra,
  });
  const quiet = (): void => {};
  const reference = await runStTrainCommand(options(join(dir, 'reference')), quiet);
  const runDir = join(dir, 'run');
  const crash = new Error('simulated crash after epoch 2');
  await assert.rejects(runStTrainCommand(options(runDir), quiet, { afterEpochStored: (epoch) => { if (epoch === 2) throw crash; } }), (e) => e === crash);
  assert.equal(readStatus(runDir), 'failed');
  await assert.rejects(runStTrainCommand(options(runDir), quiet), (e: unknown) => e instanceof ModelevoError && /unfinished st-train run/.test(e.message) && /--resume/.test(e.hint ?? ''));
  await assert.rejects(runStTrainCommand(options(runDir, { resume: true, lr: 0.01 }), quiet), /differ from the stored run in lr/);
  const resumed = await runStTrainCommand(options(runDir, { resume: true }), quiet);
  assert.equal(readStatus(runDir), 'finished');
  assert.deepEqual(resumed.history.map((h) => h.epoch), [1, 2, 3]);
  // epochs 1-2 are the stored ones and equal the uninterrupted run's (same seed, deterministic engine)
  assert.deepEqual(resumed.history.slice(0, 2).map((h) => h.valMae), reference.history.slice(0, 2).map((h) => h.valMae));
  // epoch 3 started from epoch 2's weights, not from scratch: a fresh first epoch scores differently
  assert.notEqual(resumed.history[2]!.valMae, reference.history[0]!.valMae);
  assert.ok(Number.isFinite(resumed.history[2]!.valMae));
  const store = RunStore.open(runDir);
  try {
    assert.deepEqual(store.individuals().map((r) => r.step), [1, 2, 3]);
    assert.deepEqual(store.events().map((e) => e.type), ['run-created', 'failed', 'resumed', 'finished']);
  } finally {
    store.close();
  }
});

function readStatus(runDir: string): string {
  const store = RunStore.open(runDir);
  try {
    return store.manifest().status;
  } finally {
    store.close();
  }
}

test('st train: adjacency of the wrong size is a SHAPE_MISMATCH error naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-cli-bad-'));
  writeNetwork(dir, 30);
  writeFileSync(join(dir, 'adj.csv'), '1,0\n0,1\n');
  const { code, stderr } = await runCli(['st', 'train', '--data', dir]);
  assert.notEqual(code, 0);
  assert.match(stderr, /adj\.csv.*3×3.*found 2×2/);
});
