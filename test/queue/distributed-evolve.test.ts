/**
 * `modelevo evolve --queue` end to end against a real redis-server (#20 acceptance (a)–(e)): the coordinator
 * (the evolve command) keeps the strategy and the run store, `modelevo worker`s merge and score. A tiny
 * random-search run over the fixture experts (linear merge, a deterministic JS-module fitness) is run once
 * locally as the reference; each distributed run must store the same fitness under every individual key,
 * each individual exactly once. Every test has its own redis-server (own port and data folder).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEvolveCommand } from '../../src/cli/commands/evolve.js';
import { ConfigError } from '../../src/core/errors.js';
import { candidateEvaluator } from '../../src/evolve/candidate-evaluation.js';
import { loadEvolveConfig } from '../../src/evolve/config.js';
import { buildFitness } from '../../src/evolve/fitness/build.js';
import { runEvolution } from '../../src/evolve/run.js';
import type { EvaluationJobData } from '../../src/queue/protocol.js';
import { startQueueWorker, type RunningQueueWorker } from '../../src/queue/worker.js';
import { RunStore, type IndividualRecord } from '../../src/runs/store.js';
import { BASE, EXPERTS } from '../evolve/fixture-fitness.js';
import { budget } from '../support/budget.js';
import { withRedisServer, type RedisServerHandle } from '../support/redis-server.js';

const root = mkdtempSync(join(tmpdir(), 'modelevo-distributed-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** deterministic and cheap; QUEUE_TEST_SLEEP_MS (worker processes only) stretches each evaluation so a test can kill mid-job */
const MODULE = `
export async function evaluate({ checkpoint }) {
  const ms = Number(process.env.QUEUE_TEST_SLEEP_MS ?? 0);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  const v = checkpoint.readFloat32('model.layers.1.input_layernorm.weight');
  let s = 0;
  for (const x of v) s += Math.abs(x - 0.5);
  return { score: -s, last: v[v.length - 1] };
}
`;
const BUDGET = budget(8, 16); // steps of four: two under npm test, four under test:full
writeFileSync(join(root, 'fitness.mjs'), MODULE);
const configPath = join(root, 'evolve.yml');
writeFileSync(
  configPath,
  JSON.stringify({
    name: 'queue-test',
    seed: 5,
    models: EXPERTS,
    budget: BUDGET,
    fitness: { module: { path: join(root, 'fitness.mjs'), objective: 'max' } },
    strategy: { name: 'random', genome: { merge_method: 'linear' }, batch: 4 },
  }),
);
/**
 * Worker timing. Only (b) kills a worker: its victim holds a 1 s lock and the survivor checks for stalled jobs
 * every 0.5 s, so the killed job moves on within ~1.5 s. Every other worker holds long locks: a short one on a
 * loaded machine (an event loop stalled past it, e.g. while loading a model) lets a job run twice, which the
 * tests count as a failure.
 */
const SHORT_LOCK = { lockDurationMs: 1000, stalledIntervalMs: 500, maxStalledCount: 2 };
const LONG_LOCK = { lockDurationMs: 30_000, stalledIntervalMs: 500, maxStalledCount: 2 };

interface Stored {
  readonly byKey: Map<string, IndividualRecord>;
  readonly rows: number;
}
function readStore(runDir: string): Stored & { best: IndividualRecord } {
  const store = RunStore.open(runDir);
  try {
    const rows = store.individuals();
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const best = rows.filter((r) => Number.isFinite(r.fitness)).reduce((a, b) => (b.fitness > a.fitness ? b : a));
    return { byKey, rows: rows.length, best };
  } finally {
    store.close();
  }
}

let localRun: Promise<Stored & { best: IndividualRecord }> | undefined;
/** the reference: the same config evaluated here, one candidate after the other (computed once per file) */
function local(): Promise<Stored & { best: IndividualRecord }> {
  localRun ??= (async () => {
    const config = loadEvolveConfig(configPath);
    const runDir = join(root, 'local');
    const fitness = await buildFitness(config, process.cwd());
    await runEvolution({ config, runDir, fitness, writeBest: false });
    await fitness.close?.();
    return readStore(runDir);
  })();
  return localRun;
}

/** every individual of the local run, stored once under the same key with the same fitness and metrics */
async function assertSameAsLocal(runDir: string, except: ReadonlySet<string> = new Set()): Promise<Stored> {
  const reference = await local();
  const stored = readStore(runDir);
  assert.equal(stored.rows, BUDGET, 'each individual stored exactly once');
  assert.deepEqual([...stored.byKey.keys()].sort(), [...reference.byKey.keys()].sort());
  for (const [key, record] of reference.byKey) {
    if (except.has(key)) continue;
    const got = stored.byKey.get(key)!;
    assert.equal(got.fitness, record.fitness, key);
    assert.deepEqual(got.metrics, record.metrics, key);
    assert.deepEqual(got.recipe, record.recipe, key);
  }
  return stored;
}

interface Proc {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** resolves with the exit code or signal */
  readonly exited: Promise<number | string>;
}

function spawnScript(script: string, args: readonly string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      lines.push(...parts);
      for (const listener of listeners) listener();
    });
  }
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const line = lines.find((l) => pattern.test(l));
          if (line === undefined) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(line);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${script}: no line matching ${pattern} in ${timeoutMs} ms; got ${JSON.stringify(lines.slice(-20))}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

function workerProcess(server: RedisServerHandle, queueName: string, name: string, sleepMs: number, timing = LONG_LOCK): Proc {
  const args = [server.url, queueName, name, String(timing.lockDurationMs), String(timing.stalledIntervalMs)];
  return spawnScript('test/support/evolve-worker.ts', args, { QUEUE_TEST_SLEEP_MS: String(sleepMs) });
}

async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  await proc.exited;
}

/** job ids a worker process started, one entry per start (a job started twice appears twice) */
const startedJobs = (proc: Proc): string[] => proc.lines.flatMap((l) => /job (\S+) \(run/.exec(l)?.[1] ?? []);

/** a worker in this process, evaluating with the same code as `modelevo worker`; counts starts per job id */
async function inProcessWorker(server: RedisServerHandle, queueName: string, options: { sleepMs?: number; throwsFor?: (job: EvaluationJobData) => boolean } = {}) {
  const evaluator = candidateEvaluator();
  const starts = new Map<string, number>();
  const worker: RunningQueueWorker = await startQueueWorker({
    url: server.url,
    queueName,
    timing: LONG_LOCK,
    heartbeatMs: 200,
    async evaluate(job) {
      starts.set(job.key, (starts.get(job.key) ?? 0) + 1);
      if (options.sleepMs) await new Promise((resolve) => setTimeout(resolve, options.sleepMs));
      if (options.throwsFor?.(job)) throw new Error(`simulated worker fault on ${job.key}`);
      return evaluator.evaluate({ recipe: job.candidate.recipe, fitness: job.fitness, models: job.models, cwd: job.cwd });
    },
  });
  return {
    starts,
    async stop() {
      await worker.stop();
      await evaluator.close();
    },
  };
}

/** the evolve command in this process, quiet (--json), on the given queue */
async function evolveHere(server: RedisServerHandle, queueName: string, runDir: string, extra: { resume?: boolean; maxInFlight?: string } = {}) {
  const write = process.stdout.write;
  // the --json summary would land in the test runner's output
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    typeof chunk === 'string' ? true : (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest)) as typeof process.stdout.write;
  try {
    return await runEvolveCommand(configPath, { runDir, queue: server.url, queueName, queuePollMs: '300', json: true, ...extra });
  } finally {
    process.stdout.write = write;
  }
}

test('(a) two worker processes: every individual stored once with the fitness, metrics and recipe of a local run', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    const workers = [workerProcess(server, queueName, 'w1', 100), workerProcess(server, queueName, 'w2', 100)];
    try {
      await Promise.all([local(), ...workers.map((w) => w.waitFor(/worker w\d on /))]);
      const runDir = join(root, 'a');
      const summary = await evolveHere(server, queueName, runDir);
      await assertSameAsLocal(runDir);
      assert.equal(summary.best?.key, (await local()).best.key);
      // the time spent waiting for the workers counts as evaluation, not as framework overhead
      assert.ok(summary.seconds.evaluate > 0 && summary.seconds.evaluate <= summary.seconds.total, JSON.stringify(summary.seconds));
      const started = workers.flatMap(startedJobs);
      assert.equal(started.length, BUDGET, 'each job evaluated once');
      assert.ok(workers.every((w) => startedJobs(w).length > 0), 'both workers took jobs');
    } finally {
      await Promise.all(workers.map(stop));
    }
  });
});

test('(b) kill -9 the worker process holding a job: another worker finishes it; every individual stored exactly once', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    // the victim is alone until it holds a job; the survivor (in this process) starts after the kill
    const victim = workerProcess(server, queueName, 'victim', 3000, SHORT_LOCK); // killed long before it finishes
    let survivor: Awaited<ReturnType<typeof inProcessWorker>> | undefined;
    try {
      await Promise.all([local(), victim.waitFor(/worker victim on /)]);
      const runDir = join(root, 'b');
      const run = evolveHere(server, queueName, runDir);
      await victim.waitFor(/job \S+ \(run/);
      const [killedJob] = startedJobs(victim);
      victim.child.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      survivor = await inProcessWorker(server, queueName);
      await run;
      await assertSameAsLocal(runDir);
      const killedKey = decodeURIComponent(killedJob!.slice(killedJob!.indexOf('|') + 1));
      assert.equal(survivor.starts.get(killedKey), 1, `the survivor took over ${killedKey}`);
      assert.equal([...survivor.starts.values()].reduce((a, b) => a + b, 0), BUDGET, 'and every other job, once');
    } finally {
      await stop(victim);
      await survivor?.stop();
    }
  });
});

test('(c) kill -9 the coordinator mid-run, --resume: it re-attaches to its queued jobs; same best, nothing evaluated twice; no password anywhere', async () => {
  await withRedisServer(
    async (server) => {
      const queueName = `t-${randomUUID()}`;
      const worker = await inProcessWorker(server, queueName, { sleepMs: 300 });
      const runDir = join(root, 'c');
      try {
        await local();
        const coordinator = spawnScript('test/support/evolve-coordinator.ts', [configPath, runDir, server.url, queueName, '300']);
        // killed while step 2's jobs are queued or running (two in flight: the default with one worker seen)
        await coordinator.waitFor(/step 1 ·/);
        for (let tries = 0; tries < 400 && [...worker.starts.values()].reduce((a, b) => a + b, 0) < 5; tries++) await new Promise((resolve) => setTimeout(resolve, 25));
        coordinator.child.kill('SIGKILL');
        assert.equal(await coordinator.exited, 'SIGKILL');
        const before = readStore(runDir).rows;
        assert.ok(before >= 4 && before < BUDGET, `killed mid-run (${before} stored)`);

        const summary = await evolveHere(server, queueName, runDir, { resume: true });
        await assertSameAsLocal(runDir);
        assert.equal(summary.best?.key, (await local()).best.key);
        assert.equal(summary.best?.fitness, (await local()).best.fitness);
        assert.deepEqual([...worker.starts.values()], new Array(BUDGET).fill(1), 'no job evaluated twice');

        const secret = 'pw-distributed';
        assert.ok(!coordinator.lines.join('\n').includes(secret));
        assert.ok(coordinator.lines.some((l) => l.includes('redis://:***@127.0.0.1')), 'the redacted URL is shown');
        for (const file of filesUnder(runDir)) assert.ok(!readFileSync(file).includes(secret), `${file} holds the password`);
      } finally {
        await worker.stop();
      }
    },
    { password: 'pw-distributed' },
  );
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('(d) redis-server restarted mid-run (AOF on): worker and coordinator reconnect; the run completes like a local one', async () => {
  await withRedisServer(
    async (server) => {
      const queueName = `t-${randomUUID()}`;
      const worker = await inProcessWorker(server, queueName, { sleepMs: 200 });
      try {
        await local();
        const runDir = join(root, 'd');
        const run = evolveHere(server, queueName, runDir);
        for (let tries = 0; tries < 400 && [...worker.starts.values()].reduce((a, b) => a + b, 0) < 3; tries++) await new Promise((resolve) => setTimeout(resolve, 25));
        await server.restart();
        await run;
        await assertSameAsLocal(runDir);
      } finally {
        await worker.stop();
      }
    },
    { persistence: 'aof' },
  );
});

test('(e) a job that always throws on its worker is stored as failed after the retry limit; the run goes on', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    let broken: string | undefined;
    const worker = await inProcessWorker(server, queueName, { throwsFor: (job) => (broken ??= job.key) === job.key });
    try {
      await local();
      const runDir = join(root, 'e');
      await evolveHere(server, queueName, runDir);
      const brokenKey = broken!.replace(/@[0-9a-f]{12}$/, '');
      const stored = await assertSameAsLocal(runDir, new Set([brokenKey]));
      const failed = stored.byKey.get(brokenKey)!;
      assert.ok(Number.isNaN(failed.fitness));
      assert.equal(failed.failure, `failed after 2 attempts: simulated worker fault on ${broken}`);
      assert.equal(worker.starts.get(broken!), 2);
      const store = RunStore.open(runDir);
      try {
        assert.equal(store.manifest().status, 'finished');
      } finally {
        store.close();
      }
    } finally {
      await worker.stop();
    }
  });
});

test('refused before any run is created: --max-in-flight without --queue, a malformed --queue URL, a strategy whose candidates are not recipes', async () => {
  await assert.rejects(runEvolveCommand(configPath, { runDir: join(root, 'r1'), maxInFlight: '4' }), (error: unknown) => error instanceof ConfigError && /only applies with --queue/.test(error.message));
  await assert.rejects(runEvolveCommand(configPath, { runDir: join(root, 'r2'), queue: 'http://:pw-x@host:6379' }), (error: unknown) => {
    assert.ok(error instanceof Error && /expected redis:\/\//.test(error.message) && !error.message.includes('pw-x'), String(error));
    return true;
  });
  const kinshipConfig = join(root, 'kinship.yml');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(kinshipConfig, JSON.stringify({ ...config, base_model: BASE, strategy: { name: 'kinship-greedy', max_generations: 1 } }));
  await assert.rejects(runEvolveCommand(kinshipConfig, { runDir: join(root, 'r3'), queue: 'redis://127.0.0.1:1' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError && /kinship-greedy cannot be evaluated on a queue/.test(error.message), String(error));
    return true;
  });
  for (const dir of ['r1', 'r2', 'r3']) assert.equal(RunStore.existsIn(join(root, dir)), false, dir);
});
