import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/support/cli.js';
import { RunStore } from '../../runs/store.js';
import { resetFaultPoints } from '../../core/fault-points.js';

const TINY = ['--residual-channels', '4', '--skip-channels', '8', '--end-channels', '8', '--steps-per-group', '2', '--scoring-steps', '2', '--few-shot-steps', '1', '--batch-size', '8'];

/** 3 sensors, 2 days of 5-minute steps; speed dips in period 1 (06–12 h). */
function writeNetwork(dir: string): void {
  const rows = ['s1,s2,s3'];
  for (let t = 0; t < 576; t++) {
    const dip = Math.floor((t % 288) / 72) === 1 ? 15 : 0;
    rows.push([0, 1, 2].map((n) => (60 - dip + 3 * n + 4 * Math.sin((2 * Math.PI * (t + n)) / 36)).toFixed(3)).join(','));
  }
  writeFileSync(join(dir, 'speed.csv'), rows.join('\n'));
  writeFileSync(join(dir, 'adj.csv'), '1,0.5,0\n0.5,1,0.5\n0,0.5,1\n');
}

test('st synevo --json (cross-temporal, time-of-day:4, ablation, references) stores the run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-synevo-'));
  writeNetwork(dir);
  const runDir = join(dir, 'run');
  const { code, stdout, stderr } = await runCli(['st', 'synevo', '--data', dir, '--domains', 'time-of-day:4', '--holdout', 'last', '--ablation', 'static', '--references', '--run-dir', runDir, '--json', ...TINY]);
  assert.equal(code, 0, stderr);
  // the test runner's own (binary) messages can land in the captured stdout while the command awaits
  const out = JSON.parse(stdout.slice(stdout.indexOf('{"setting"'))) as { heldOut: string; groups: { id: string; train: number; val: number; test: number }[]; synevo: { ablation: string; zeroShot: { all: { mae: number; count: number } }; visits: unknown[]; gate: { group: string }[] }[]; references: { method: string; fewShot: { all: { mae: number } } }[] };
  assert.equal(out.heldOut, 'p3');
  // 2 days × 49 windows = 98 per period → 69 / 9 / 20
  assert.deepEqual(out.groups.map((g) => [g.id, g.train, g.val, g.test]), [['p0', 69, 9, 20], ['p1', 69, 9, 20], ['p2', 69, 9, 20], ['p3', 69, 9, 20]]);
  assert.deepEqual(out.synevo.map((s) => s.ablation), ['none', 'static']);
  assert.equal(out.synevo[0]!.visits.length, 2 * 3);
  assert.equal(out.synevo[0]!.zeroShot.all.count, 20 * 12 * 3);
  assert.deepEqual(out.references.map((r) => r.method), ['gwn-joint', 'gwn-sequential']);
  for (const r of out.references) assert.ok(Number.isFinite(r.fewShot.all.mae));
  const store = RunStore.open(runDir);
  try {
    assert.equal(store.manifest().kind, 'st-synevo');
    assert.equal(store.manifest().status, 'finished');
    const gates = store.events().filter((e) => e.type === 'gate');
    assert.equal(gates.length, 2 * 4, 'three groups + the few-shot probe, per variant');
  } finally {
    store.close();
  }
  assert.equal(JSON.parse(readFileSync(join(runDir, 'artifacts', 'results.json'), 'utf8')).heldOut, 'p3');
});

test('st synevo --synthetic sources:3 prints a table; no --data and no --synthetic is a CONFIG error', async () => {
  const { code, stdout, stderr } = await runCli(['st', 'synevo', '--synthetic', 'sources:3', '--synthetic-nodes', '4', '--synthetic-days', '1', '--cycles', '1', ...TINY]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /held-out s2p0/);
  assert.match(stdout, /\| SynEVO \| \d+\.\d{3} \|/);
  const bad = await runCli(['st', 'synevo']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--data <dir>.*--synthetic sources:N/);
  const badDomains = await runCli(['st', 'synevo', '--synthetic', 'sources:3', '--domains', 'weekday']);
  assert.notEqual(badDomains.code, 0);
});

/** the results without wall-clock fields (the only values allowed to differ between sessions) */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([key]) => !/seconds|^ms$|time|duration/i.test(key)).map(([key, v]) => [key, withoutTimes(v)]));
  }
  return value;
}

test('st synevo interrupted mid-run, then --resume in the same folder: the stored result equals an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-synevo-resume-'));
  const args = ['st', 'synevo', '--synthetic', 'sources:3', '--synthetic-nodes', '4', '--synthetic-days', '1', '--cycles', '1', '--json', ...TINY];
  const reference = await runCli([...args, '--run-dir', join(dir, 'reference')]);
  assert.equal(reference.code, 0, reference.stderr);
  const runDir = join(dir, 'interrupted');
  process.env.MODELEVO_FAULT = 'enospc:st-log@2';
  resetFaultPoints();
  try {
    const interrupted = await runCli([...args, '--run-dir', runDir]);
    assert.notEqual(interrupted.code, 0);
  } finally {
    delete process.env.MODELEVO_FAULT;
    resetFaultPoints();
  }
  const again = await runCli([...args, '--run-dir', runDir]);
  assert.notEqual(again.code, 0, 'without --resume the unfinished run is refused');
  assert.match(again.stderr, /unfinished st-synevo run/);
  const resumed = await runCli([...args, '--run-dir', runDir, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const results = (name: string) => JSON.parse(readFileSync(join(dir, name, 'artifacts', 'results.json'), 'utf8')) as unknown;
  assert.deepEqual(withoutTimes(results('interrupted')), withoutTimes(results('reference')));
  const store = RunStore.open(runDir);
  try {
    assert.equal(store.manifest().status, 'finished');
    assert.match(store.manifest().codeVersion, /^modelevo-\d+\.\d+\.\d+/);
    assert.equal(store.events().filter((e) => e.type === 'resumed').length, 1);
  } finally {
    store.close();
  }
});
