/**
 * The dashboard's API without a browser: values equal the store's, paths outside the run folders are refused
 * (`..`, encoded `..`, absolute, symlink out, unknown root), no method but GET/HEAD is accepted, and a run whose lock owner is dead reads as interrupted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../runs/store.js';
import { stepSummaries } from '../runs/report.js';
import { createUiServer } from './server.js';
import { readRunHeader } from './store-reader.js';

function makeRun(dir: string, fitness: number[][], objective: 'min' | 'max' = 'max'): RunStore {
  const store = RunStore.create(dir, { id: `run-${dir.split('/').pop()}`, kind: 'evolve', createdAt: new Date().toISOString(), seed: 1, config: { fitness: { m: { objective } }, strategy: { name: 'evolver' } }, codeVersion: 'test' });
  fitness.forEach((step, s) =>
    step.forEach((f, i) =>
      store.recordIndividual({ step: s, index: i, key: `s${s}i${i}`, genome: [s, i], ...(s > 0 ? { parents: [`s${s - 1}i0`], kinship: { [`s${s - 1}i0`]: 0.5 + i / 10 } } : {}), fitness: f, seconds: 0.01 * (i + 1), metrics: { loss_code: 1 - f / 10, loss_math: 2 - f / 10 } }),
    ),
  );
  store.event('references', { references: [{ label: 'base', fitness: 0.5 }] });
  return store;
}

const root = mkdtempSync(join(tmpdir(), 'ui-server-'));
const runs = join(root, 'runs');
const outside = join(root, 'outside');
const FITNESS = [
  [1, 3, 2],
  [4, NaN, 0],
  [5, 5.5, 1],
];
makeRun(join(runs, 'a'), FITNESS).close();
makeRun(join(outside, 'secret'), [[9]]).close();
writeFileSync(join(outside, 'secret.json'), '{"secret": true}');
symlinkSync(join(outside, 'secret'), join(runs, 'escape'));
const app = createUiServer({ roots: [runs] });

test.after(async () => {
  await app.close();
  rmSync(root, { recursive: true, force: true });
});

test('runs list: the run under the folder with its counts and best (max of the stored fitness); symlinked folders are not followed', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/runs' });
  assert.equal(res.statusCode, 200);
  const body = res.json() as { runs: { ref: string; evaluations: number; failed: number; steps: number; best: number; status: string; kind: string }[] };
  assert.deepEqual(body.runs.map((r) => r.ref), ['0/a']);
  const run = body.runs[0]!;
  assert.deepEqual([run.kind, run.evaluations, run.failed, run.steps, run.best], ['evolve', 9, 1, 3, 5.5]);
});

test('run view: steps equal stepSummaries of the stored records; lineage, kinship, per-domain losses and the reference line', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/run/0/a' });
  assert.equal(res.statusCode, 200);
  const view = res.json() as { steps: unknown; best: { key: string; fitness: number }; lineage: { key: string; parents: string[] }[]; kinship: { rows: string[]; columns: string[]; values: (number | null)[][] }; domains: { domains: string[]; values: number[][] }; references: unknown };
  const store = RunStore.open(join(runs, 'a'));
  const expected = JSON.parse(JSON.stringify(stepSummaries(store.individuals(), 'max'))) as unknown;
  store.close();
  assert.deepEqual(view.steps, expected);
  assert.deepEqual(view.best, { key: 's2i1', fitness: 5.5, step: 2 });
  assert.deepEqual(view.lineage.map((n) => n.key), ['s2i1', 's1i0', 's0i0']);
  assert.deepEqual(view.kinship.rows, ['s2i1', 's2i0', 's1i0', 's2i2', 's1i2']);
  assert.deepEqual(view.kinship.values[0], [null, 0.6]);
  assert.deepEqual(view.domains.domains, ['code', 'math']);
  // the best of step 1 is fitness 4: loss_code = 1 − 0.4
  assert.ok(Math.abs(view.domains.values[0]![1]! - 0.6) < 1e-12);
  assert.deepEqual(view.references, [{ label: 'base', fitness: 0.5 }]);
});

test('individuals table: sorted by fitness best first, failures last, paged', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/individuals/0/a?sort=fitness&limit=4' });
  const page = res.json() as { total: number; rows: { key: string; fitness: number | null }[] };
  assert.equal(page.total, 9);
  assert.deepEqual(page.rows.map((r) => r.fitness), [5.5, 5, 4, 3]);
  const last = (await app.inject({ method: 'GET', url: '/api/individuals/0/a?sort=fitness&offset=8' })).json() as { rows: { key: string; fitness: number | null }[] };
  assert.deepEqual(last.rows.map((r) => [r.key, r.fitness]), [['s1i1', null]]);
});

test('poll: the events after a sequence number', async () => {
  const all = (await app.inject({ method: 'GET', url: '/api/poll/0/a?after=0' })).json() as { header: { lastSeq: number }; events: { seq: number; type: string }[] };
  assert.deepEqual(all.events.map((e) => e.type), ['run-created', 'references']);
  const newer = (await app.inject({ method: 'GET', url: `/api/poll/0/a?after=${all.header.lastSeq}` })).json() as { events: unknown[] };
  assert.deepEqual(newer.events, []);
});

test('security: paths outside the run folders are refused with 403', async () => {
  for (const url of [
    '/api/run/0/../outside/secret',
    '/api/run/0/%2e%2e/outside/secret',
    '/api/run/0/a/..%2f..%2foutside%2fsecret',
    `/api/run/0/${encodeURIComponent(join(outside, 'secret'))}`,
    `/api/run/0/${join(outside, 'secret')}`,
    '/api/run/0/escape',
    '/api/run/1/a',
    '/api/individuals/0/escape',
    '/api/poll/0/..%5c..%5coutside',
    '/api/anomaly/0/escape',
    '/api/channel/0/escape',
    '/api/channel/0/..%2Foutside',
  ]) {
    const res = await app.inject({ method: 'GET', url });
    // Fastify may normalise a raw `..` away before routing (then the route is not found): never a 200
    assert.ok(res.statusCode === 403 || res.statusCode === 404, `${url}: ${res.statusCode}`);
    assert.ok(!res.body.includes('secret"') && !res.body.includes('run-secret'), `${url} leaked: ${res.body}`);
  }
  // the checks themselves (not only the router) refuse each form
  for (const url of ['/api/run/0/%2e%2e/outside/secret', '/api/run/0/escape', '/api/run/1/a', `/api/run/0/${encodeURIComponent(join(outside, 'secret'))}`]) {
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 403, url);
  }
});

test('security: POST, PUT, DELETE and PATCH are answered 405 on every route and change nothing', async () => {
  const before = statSync(join(runs, 'a', 'run.sqlite')).mtimeMs;
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
    for (const url of ['/', '/api/runs', '/api/run/0/a', '/api/individuals/0/a', '/nowhere']) {
      const res = await app.inject({ method, url, payload: { status: 'finished' } });
      assert.equal(res.statusCode, 405, `${method} ${url}`);
      assert.equal(res.headers['allow'], 'GET, HEAD');
    }
  }
  assert.equal(statSync(join(runs, 'a', 'run.sqlite')).mtimeMs, before);
});

test('a running run whose lock owner is dead reads as interrupted; one with a live owner as running', () => {
  const dir = join(root, 'locks');
  mkdirSync(dir);
  const store = makeRun(join(dir, 'r'), [[1]]);
  store.acquireLock();
  assert.equal(readRunHeader(join(dir, 'r')).status, 'running');
  store.close();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const db = new Database(join(dir, 'r', 'run.sqlite'));
  db.prepare("INSERT OR REPLACE INTO run_lock (id, pid, host, since) VALUES (1, ?, ?, 'x')").run(dead, hostname());
  db.close();
  assert.equal(readRunHeader(join(dir, 'r')).status, 'interrupted');
});
