// Run store under faults (issue #17 items 3 and 5): concurrent creations make one run, a second process is
// refused by the lock (a dead owner's lock is taken over), a truncated store gives a typed error with the
// "damaged" hint and `runs list` lists the other runs with a warning for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, readdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ModelevoError } from '../../src/core/errors.js';
import { RunStore } from '../../src/runs/store.js';
import { listRuns } from '../../src/cli/commands/runs.js';
import { budget } from '../support/budget.js';

const manifest = (id: string) => ({ id, kind: 'test', createdAt: new Date().toISOString(), seed: 1, config: { strategy: { name: 'x' } }, codeVersion: 'test' });

function withDir<T>(work: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-store-'));
  return Promise.resolve(work(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('three processes creating one store at the same instant: one manifest row, the others told it exists', async () => {
  await withDir(async (root) => {
    const script = join(import.meta.dirname, 'store-create-child.ts');
    // each trial spawns three tsx processes (~2 CPU-s each); one race per quick run, three in test:full
    for (let trial = 0; trial < budget(1, 3); trial++) {
      const dir = join(root, `run-${trial}`);
      const go = join(root, `go-${trial}`);
      const children = [0, 1, 2].map((k) => spawn(process.execPath, ['--import', 'tsx', script, dir, go, `id-${k}`], { stdio: ['ignore', 'pipe', 'pipe'] }));
      const outputs = children.map(
        (child) =>
          new Promise<string>((resolve) => {
            let out = '';
            child.stdout.on('data', (d) => (out += d));
            child.on('exit', () => resolve(out.trim()));
          }),
      );
      await new Promise((r) => setTimeout(r, 1500)); // let all three load and wait on the start file
      writeFileSync(go, '');
      const results = await Promise.all(outputs);
      assert.equal(results.filter((r) => r === 'created').length, 1, results.join(' | '));
      assert.deepEqual(results.filter((r) => r !== 'created'), ['CONFIG_INVALID', 'CONFIG_INVALID']);
      const db = new Database(join(dir, 'run.sqlite'), { readonly: true });
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM manifest').get() as { n: number }).n, 1);
      db.close();
      // no temporary store files are left beside it
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
    }
  });
});

test('the lock: a second holder is refused naming pid and host; a dead owner is taken over; close releases', async () => {
  await withDir((dir) => {
    RunStore.create(dir, manifest('a')).close();
    // a lock row of a live process (this test's parent) held "elsewhere": refused
    const db = new Database(join(dir, 'run.sqlite'));
    db.prepare('INSERT INTO run_lock (id, pid, host, since) VALUES (1, ?, ?, ?)').run(process.ppid, hostname(), 'earlier');
    db.close();
    const store = RunStore.open(dir);
    assert.throws(
      () => store.acquireLock(),
      (e: unknown) => e instanceof ModelevoError && e.code === 'IO_FAILED' && e.message.includes(`run is locked by pid ${process.ppid} on ${hostname()}`),
    );
    // a dead owner (a finished child's pid) is taken over, and the takeover is logged
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const raw = new Database(join(dir, 'run.sqlite'));
    raw.prepare('UPDATE run_lock SET pid = ?').run(Number(dead.stdout));
    raw.close();
    store.acquireLock();
    assert.equal(store.lockOwner()!.pid, process.pid);
    assert.deepEqual(store.events().filter((e) => e.type === 'stale-lock-taken-over').map((e) => (e.payload as { pid: number }).pid), [Number(dead.stdout)]);
    store.close();
    const after = RunStore.open(dir);
    assert.equal(after.lockOwner(), undefined);
    after.close();
  });
});

test('a truncated store: typed CHECKPOINT_INVALID with the damaged-store hint; runs list lists the others and warns', async () => {
  await withDir((root) => {
    for (const name of ['a', 'b', 'c']) {
      const store = RunStore.create(join(root, name), manifest(name));
      for (let i = 0; i < 40; i++) store.event('filler', { text: 'x'.repeat(400), i });
      store.checkpoint();
      store.close();
    }
    const path = join(root, 'b', 'run.sqlite');
    for (const size of [Math.floor(statSync(path).size / 2), 50]) {
      truncateSync(path, size);
      assert.throws(
        () => {
          const store = RunStore.open(join(root, 'b'));
          try {
            store.manifest();
            store.individuals();
            store.events();
          } finally {
            store.close();
          }
        },
        (e: unknown) => e instanceof ModelevoError && e.code === 'CHECKPOINT_INVALID' && /damaged/.test(e.message) && e.hint!.includes('restore it or start a new run; `runs list` skips it with a warning'),
      );
      const skipped: string[] = [];
      const rows = listRuns(root, (dir, error) => skipped.push(`${dir} ${error.code}`));
      assert.deepEqual(rows.map((r) => r.id).sort(), ['a', 'c']);
      assert.deepEqual(skipped, [`${join(root, 'b')} CHECKPOINT_INVALID`]);
    }
    assert.ok(readFileSync(join(root, 'a', 'run.sqlite')).length > 0);
  });
});

test('a WAL file deleted under a live run loses no completed step (checkpointed after every step)', async () => {
  await withDir(async (dir) => {
    const { evaluateInOrder, runLoop } = await import('../../src/evolve/loop.js');
    const { randomSearch } = await import('../../src/evolve/strategies/random-search.js');
    const store = RunStore.create(dir, manifest('w'));
    await runLoop({
      strategy: randomSearch,
      params: { objective: 'min', lowerBounds: [0], upperBounds: [1], batchSize: 4, maxEvaluations: 100 },
      seed: 1,
      store,
      keyOf: (x) => String(x[0]),
      maxEvaluations: 12,
      evaluateBatch: evaluateInOrder(async (x: number[]) => ({ fitness: x[0]! })),
    });
    rmSync(join(dir, 'run.sqlite-wal'), { force: true });
    rmSync(join(dir, 'run.sqlite-shm'), { force: true });
    const other = RunStore.open(dir);
    assert.equal(other.manifest().id, 'w');
    assert.equal(other.individuals().length, 12);
    assert.equal(other.latestState<{ evaluations: number }>()!.state.evaluations, 12);
    other.close();
    store.close();
  });
});
