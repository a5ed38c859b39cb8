/**
 * Distributed evaluation against a real redis-server (#20): the queue evaluator (coordinator side) and queue
 * workers, in this process and as separate processes (test/support/queue-worker.ts, fitness = x²).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueEvaluator, type CandidateJob, type EvaluationOutcome } from '../../src/queue/evaluator.js';
import { parseQueueUrl } from '../../src/queue/redis-url.js';
import { startQueueWorker, workerKey, WORKERS_SET } from '../../src/queue/worker.js';
import { ModelevoError } from '../../src/core/errors.js';
import { budget } from '../support/budget.js';
import { freeLoopbackPort, withRedisServer } from '../support/redis-server.js';

interface Recipe {
  x: number;
  sleepMs?: number;
  throws?: boolean;
}
const jobOf = (recipe: Recipe & { key?: string }): CandidateJob => ({
  key: recipe.key ?? `x=${recipe.x}`,
  candidate: { recipe },
  fitness: { command: { run: 'unused' } },
  models: { refs: ['unused'] },
  cwd: '/',
});
const contexts = (n: number) => Array.from({ length: n }, (_, index) => ({ step: 0, index }));
const FAST = { lockDurationMs: 1500, stalledIntervalMs: 1000, maxStalledCount: 1 };

/** the same stand-in evaluation as test/support/queue-worker.ts, counting starts per key */
function countingEvaluate(starts: Map<string, number>) {
  return async (job: { key: string; candidate: { recipe: unknown } }) => {
    starts.set(job.key, (starts.get(job.key) ?? 0) + 1);
    const recipe = job.candidate.recipe as Recipe;
    await new Promise((resolve) => setTimeout(resolve, recipe.sleepMs ?? 0));
    if (recipe.throws) throw new Error(`candidate ${job.key} is always broken`);
    return { fitness: recipe.x * recipe.x };
  };
}

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

function spawnWorker(url: string, queueName: string, name: string): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/queue-worker.ts', url, queueName, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  return {
    child,
    lines,
    waitFor(pattern, timeoutMs = 20_000) {
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
          reject(new Error(`${name}: no line matching ${pattern} in ${timeoutMs} ms; got ${JSON.stringify(lines)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

async function stopProcess(worker: WorkerProcess): Promise<void> {
  const { child } = worker;
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const keysIn = (lines: readonly string[], verb: string) => lines.filter((l) => l.startsWith(`${verb} `)).map((l) => l.slice(verb.length + 1));

test('two worker processes (one Redis, started once for both parts)', async (t) => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    const workers = [spawnWorker(server.url, queueName, 'w1'), spawnWorker(server.url, queueName, 'w2')];
    const evaluator = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-a', maxInFlight: 4, jobOf, queueName, pollIntervalMs: 500 });
    try {
      await Promise.all(workers.map((w) => w.waitFor(/^ready /)));
      await t.test('a batch is spread over both: each candidate evaluated once, fitness x² and metrics back in order', async () => {
        const xs = [0, 1, 2, 3, -4, 5, 6, 7];
        const outcomes: EvaluationOutcome[] = await Promise.all(evaluator.evaluateBatch(xs.map((x) => ({ x, sleepMs: 150 })), contexts(xs.length)));
        assert.deepEqual(outcomes.map((o) => o.fitness), xs.map((x) => x * x));
        assert.deepEqual(outcomes.map((o) => o.metrics), xs.map((x) => ({ x })));
        assert.ok(outcomes.every((o) => typeof o.seconds === 'number' && o.seconds >= 0.15 && o.failure === undefined));
        const done = workers.flatMap((w) => keysIn(w.lines, 'done'));
        assert.deepEqual([...done].sort(), xs.map((x) => `x=${x}`).sort(), 'every key evaluated exactly once');
        assert.ok(workers.every((w) => keysIn(w.lines, 'done').length > 0), 'both workers took jobs');
        assert.equal(evaluator.pendingCount(), 0);
      });
      await t.test('kill -9 the worker running a job → the stalled-job check hands it to the other, which finishes it', async () => {
        const outcome = evaluator.evaluateBatch([{ x: 9, sleepMs: 2000 }], contexts(1))[0]!;
        const victim = await Promise.race(workers.map((w) => w.waitFor(/^start x=9$/).then(() => w)));
        const survivor = workers.find((w) => w !== victim)!;
        victim.child.kill('SIGKILL');
        assert.equal((await outcome).fitness, 81);
        assert.ok(keysIn(survivor.lines, 'done').includes('x=9'));
        assert.ok(!keysIn(victim.lines, 'done').includes('x=9'));
      });
    } finally {
      await evaluator.close();
      await Promise.all(workers.map(stopProcess));
    }
  });
});

test('the same key enqueued twice (in one batch, and again by a second coordinator) is one job, evaluated once', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    const starts = new Map<string, number>();
    const worker = await startQueueWorker({ url: server.url, queueName, evaluate: countingEvaluate(starts), timing: FAST, heartbeatMs: 200 });
    const first = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-b', maxInFlight: 2, jobOf, queueName });
    try {
      const twice = await Promise.all(first.evaluateBatch([{ x: 3, sleepMs: 100 }, { x: 3, sleepMs: 100 }, { x: 2 }], contexts(3)));
      assert.deepEqual(twice.map((o) => o.fitness), [9, 9, 4]);
      // a resumed coordinator re-attaches by id: the finished job's stored result, no new evaluation
      const second = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-b', maxInFlight: 2, jobOf, queueName });
      try {
        const again = await Promise.all(second.evaluateBatch([{ x: 3 }], contexts(1)));
        assert.equal(again[0]!.fitness, 9);
      } finally {
        await second.close();
      }
      assert.deepEqual(Object.fromEntries(starts), { 'x=3': 1, 'x=2': 1 });
      const queue = new Queue(queueName, { connection: parseQueueUrl(server.url) });
      try {
        assert.equal((await queue.getJobCounts('completed')).completed, 2);
      } finally {
        await queue.close();
      }
    } finally {
      await first.close();
      await worker.stop();
    }
  });
});

test('a job that always throws becomes a NaN outcome with the error text after the retry limit; the batch goes on', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    const starts = new Map<string, number>();
    const worker = await startQueueWorker({ url: server.url, queueName, evaluate: countingEvaluate(starts), timing: FAST, heartbeatMs: 200 });
    const evaluator = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-c', maxInFlight: 2, attempts: 3, jobOf, queueName });
    try {
      const [broken, fine] = await Promise.all(evaluator.evaluateBatch([{ x: 1, throws: true }, { x: 5 }], contexts(2)));
      assert.ok(Number.isNaN(broken!.fitness));
      assert.equal(broken!.failure, 'failed after 3 attempts: candidate x=1 is always broken');
      assert.equal(fine!.fitness, 25);
      assert.equal(starts.get('x=1'), 3);
    } finally {
      await evaluator.close();
      await worker.stop();
    }
  });
});

test('heartbeats list a live worker (name, host, active job); maxJobs stops it after that many jobs and clears its entry', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    const starts = new Map<string, number>();
    const worker = await startQueueWorker({ url: server.url, queueName, name: 'hb', maxJobs: 2, evaluate: countingEvaluate(starts), timing: FAST, heartbeatMs: 100 });
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const evaluator = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-e', maxInFlight: 1, jobOf, queueName, pollIntervalMs: 200 });
    try {
      assert.deepEqual(await redis.smembers(WORKERS_SET), ['hb']);
      const outcomes = evaluator.evaluateBatch([{ x: 1, sleepMs: 1500 }, { x: 2 }, { x: 3 }], contexts(3));
      // no worker is left for the third: closing the evaluator rejects it (its job stays queued)
      const third = assert.rejects(outcomes[2]!, /closed while jobs were still running/);
      // the beat while the first job runs (a loaded machine may take a while to start it)
      let beat: Record<string, string> = {};
      for (let tries = 0; tries < 60 && !beat['active']; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        beat = await redis.hgetall(workerKey('hb'));
      }
      assert.equal(beat['name'], 'hb');
      assert.equal(beat['active'], 'run-e|x%3D1');
      assert.ok(Date.now() - Date.parse(beat['lastHeartbeat']!) < 2000);
      assert.deepEqual(await worker.stopped, { jobs: 2 });
      assert.deepEqual([...starts.keys()], ['x=1', 'x=2']);
      assert.deepEqual(await Promise.all(outcomes.slice(0, 2)).then((o) => o.map((x) => x.fitness)), [1, 4]);
      assert.equal(await redis.exists(workerKey('hb')), 0);
      assert.deepEqual(await redis.smembers(WORKERS_SET), []);
      await evaluator.close();
      await third;
    } finally {
      await evaluator.close().catch(() => undefined);
      redis.disconnect();
      await worker.stop();
    }
  });
});

test('Redis unreachable at start: evaluator and worker give up with IO_FAILED and never print the password', async () => {
  const url = `redis://:hunter2@127.0.0.1:${await freeLoopbackPort()}`;
  const refused = (error: unknown): boolean => {
    assert.ok(error instanceof ModelevoError && error.code === 'IO_FAILED', String(error));
    assert.ok(error.message.includes('redis://:***@127.0.0.1') && !error.message.includes('hunter2'), error.message);
    return true;
  };
  await assert.rejects(queueEvaluator<Recipe>({ url, runId: 'r', maxInFlight: 1, jobOf, connectTimeoutMs: 300 }), refused);
  await assert.rejects(startQueueWorker({ url, evaluate: countingEvaluate(new Map()), connectTimeoutMs: 300, onLog: () => undefined }), refused);
});

test('redis-server restarted mid-batch (AOF on): worker and coordinator reconnect and every outcome arrives', async () => {
  await withRedisServer(
    async (server) => {
      const queueName = `t-${randomUUID()}`;
      const starts = new Map<string, number>();
      const worker = await startQueueWorker({ url: server.url, queueName, evaluate: countingEvaluate(starts), timing: FAST, heartbeatMs: 200, onLog: () => undefined });
      const evaluator = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-f', maxInFlight: 2, jobOf, queueName, pollIntervalMs: 300 });
      try {
        const xs = budget([1, 2], [1, 2, 3, 4, 5, 6]);
        const outcomes = Promise.all(evaluator.evaluateBatch(xs.map((x) => ({ x, sleepMs: 600 })), contexts(xs.length)));
        await new Promise((resolve) => setTimeout(resolve, 300));
        await server.restart();
        assert.deepEqual((await outcomes).map((o) => o.fitness), xs.map((x) => x * x));
        assert.deepEqual([...starts.keys()].sort(), xs.map((x) => `x=${x}`).sort());
      } finally {
        await evaluator.close();
        await worker.stop();
      }
    },
    { persistence: 'aof' },
  );
});
