import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/support/cli.js';
import { RunStore } from '../../runs/store.js';
import { runStComs2tCommand } from './st-coms2t.js';

const TINY = ['--residual-channels', '4', '--skip-channels', '8', '--end-channels', '8', '--epochs', '2', '--stage1-epochs', '1', '--prompt-epochs', '1', '--max-steps-per-epoch', '2', '--batch-size', '8', '--lr', '0.01', '--steps-per-day', '96'];

/** 3 sensors, 2 days of 15-minute steps (96 a day), starting at midnight. */
function writeNetwork(dir: string): void {
  const rows = ['s1,s2,s3'];
  for (let t = 0; t < 192; t++) rows.push([0, 1, 2].map((n) => (55 + 3 * n + 8 * Math.sin((2 * Math.PI * t) / 96 + n) + ((t + n) % 3)).toFixed(3)).join(','));
  writeFileSync(join(dir, 'speed.csv'), rows.join('\n'));
  writeFileSync(join(dir, 'adj.csv'), '1,0.5,0\n0.5,1,0.5\n0,0.5,1\n');
}

// the runCli test comes first: the runner reports a finished test asynchronously on stdout, so a test that
// follows it must not swap process.stdout (runCli does) or that report is swallowed
test('st coms2t prints a table for an ablation; a bad ablation is a CONFIG error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-coms2t-'));
  writeNetwork(dir);
  const { code, stdout, stderr } = await runCli(['st', 'coms2t', '--data', dir, '--ablation', 'pmt', ...TINY]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /ComS2T \(ablation pmt\)/);
  assert.match(stdout, /\| ComS2T \| \d+\.\d{3} \|/);
  const bad = await runCli(['st', 'coms2t', '--data', dir, '--ablation', 'everything']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ablation/);
});

test('st coms2t --json stores the run: time-of-day windows, weight split, test metrics of GWN and ComS2T', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-coms2t-'));
  writeNetwork(dir);
  const runDir = join(dir, 'run');
  // called directly (not through runCli): swapping process.stdout here would swallow the test runner's own
  // messages for this test, so its result would go unreported
  const written: string[] = [];
  await runStComs2tCommand({ data: dir, ratio: 50, runDir, json: true, residualChannels: 4, skipChannels: 8, endChannels: 8, epochs: 2, stage1Epochs: 1, promptEpochs: 1, maxStepsPerEpoch: 2, batchSize: 8, lr: 0.01, stepsPerDay: 96 }, (text) => written.push(text));
  const out = JSON.parse(written.join('')) as { windows: Record<string, number>; weightSplit: { eligible: number; dynamic: string[]; frozen: string[] }; test: { plainGwn: { all: { count: number; mae: number } }; coms2t: { h12: { mae: number } } }; promptObjective: { before: number; after: number } };
  // 96 steps a day: train/val 32-step periods → 9 windows a day, test 28 steps → 5, prompt 4 (second night only)
  assert.deepEqual(out.windows, { train: 18, val: 18, prompt: 4, test: 10 });
  assert.equal(out.weightSplit.dynamic.length, Math.floor(out.weightSplit.eligible / 2));
  assert.equal(out.weightSplit.frozen.length, out.weightSplit.eligible - out.weightSplit.dynamic.length);
  assert.equal(out.test.plainGwn.all.count, 10 * 12 * 3);
  assert.ok(Number.isFinite(out.test.coms2t.h12.mae) && Number.isFinite(out.promptObjective.after));
  const store = RunStore.open(runDir);
  try {
    assert.equal(store.manifest().kind, 'st-coms2t');
    assert.equal(store.manifest().status, 'finished');
    assert.equal(store.events().filter((e) => e.type === 'epoch').length, 2 + 1);
  } finally {
    store.close();
  }
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'artifacts', 'results.json'), 'utf8')).windows, out.windows);
});
