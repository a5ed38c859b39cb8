/**
 * Distributed evaluation against a real redis-server (#20): the queue evaluator (coordinator side) and queue
 * workers in this process (fitness = x²). Worker processes killed mid-job: distributed-evolve.test.ts (b).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
/**
 * No test here kills a worker, so locks are long: a short lock on a loaded machine (an event loop stalled past
 * it) lets a job run twice, which these tests count as a failure.
 */
const TIMING = { lockDurationMs: 30_000, stalledIntervalMs: 15_000, maxStalledCount: 1 };

/** the stand-in evaluation (as in test/support/queue-worker.ts, which bench:queue runs), counting starts per key */
function countingEvaluate(starts: Map<string, number>) {
  return async (job: { key: string; candidate: { recipe: unknown } }) => {
    starts.set(job.key, (starts.get(job.key) ?? 0) + 1);
    const recipe = job.candidate.recipe as Recipe;
    await new Promise((resolve) => setTimeout(resolve, recipe.sleepMs ?? 0));
    if (recipe.throws) throw new Error(`candidate ${job.key} is always broken`);
    return { fitness: recipe.x * recipe.x };
  };
}

test('two workers share a batch: each candidate evaluated once, fitness x² and metrics back in order', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    const starts = [new Map<string, number>(), new Map<string, number>()];
    // each worker's first job waits until the other worker has started one too: both take jobs, whatever the load
    const arrived = [false, false];
    const log: string[] = [];
    let bothArrived!: () => void;
    const barrier = new Promise<void>((resolve) => (bothArrived = resolve));
    const arrive = async (i: number): Promise<void> => {
      if (arrived[i]) return;
      arrived[i] = true;
      if (arrived.every(Boolean)) bothArrived();
      // bounded: a worker that never takes a job fails the assertion below instead of hanging the test
      await Promise.race([barrier, new Promise((resolve) => setTimeout(resolve, 60_000).unref())]);
    };
    const workers = await Promise.all(
      starts.map((counts, i) =>
        startQueueWorker({
          url: server.url,
          queueName,
          name: `w${i}`,
          timing: TIMING,
          onLog: (line) => log.push(`w${i} ${line}`),
          heartbeatMs: 200,
          evaluate: async (job) => {
            await arrive(i);
            return { ...(await countingEvaluate(counts)(job)), metrics: { x: (job.candidate.recipe as Recipe).x } };
          },
        }),
      ),
    );
    const evaluator = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-a', maxInFlight: 4, jobOf, queueName, pollIntervalMs: 500 });
    try {
      const xs = [0, 1, 2, 3, -4, 5, 6, 7];
      const outcomes: EvaluationOutcome[] = await Promise.all(evaluator.evaluateBatch(xs.map((x) => ({ x, sleepMs: 100 })), contexts(xs.length)));
      // a 100 ms timer may fire up to ~1 ms early by another clock (Node timers have 1 ms granularity): 95 ms bound
      assert.deepEqual(outcomes.map((o) => o.fitness), xs.map((x) => x * x));
      assert.deepEqual(outcomes.map((o) => o.metrics), xs.map((x) => ({ x })));
      assert.ok(outcomes.every((o) => typeof o.seconds === 'number' && o.seconds >= 0.095 && o.failure === undefined), `outcomes ${JSON.stringify(outcomes)}; worker log: ${log.join(' | ')}`);
      const done = starts.flatMap((counts) => [...counts.entries()]);
      assert.deepEqual(done.map(([key]) => key).sort(), xs.map((x) => `x=${x}`).sort(), 'every key evaluated by one worker');
      assert.ok(done.every(([, n]) => n === 1), 'and once');
      assert.ok(starts.every((counts) => counts.size > 0), `both workers took jobs; worker log: ${log.join(' | ')}`);
      assert.equal(evaluator.pendingCount(), 0);
    } finally {
      await evaluator.close();
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});

test('the same key enqueued twice (in one batch, and again by a second coordinator) is one job, evaluated once', async () => {
  await withRedisServer(async (server) => {
    const queueName = `t-${randomUUID()}`;
    const starts = new Map<string, number>();
    const worker = await startQueueWorker({ url: server.url, queueName, evaluate: countingEvaluate(starts), timing: TIMING, heartbeatMs: 200 });
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
    const worker = await startQueueWorker({ url: server.url, queueName, evaluate: countingEvaluate(starts), timing: TIMING, heartbeatMs: 200 });
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
    // the first job holds until the test has seen it in a heartbeat (no race with a loaded machine's timing)
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const counting = countingEvaluate(starts);
    const evaluate = async (job: { key: string; candidate: { recipe: unknown } }) => {
      if (job.key === 'x=1') await gate;
      return counting(job);
    };
    const worker = await startQueueWorker({ url: server.url, queueName, name: 'hb', maxJobs: 2, evaluate, timing: TIMING, heartbeatMs: 100 });
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const evaluator = await queueEvaluator<Recipe>({ url: server.url, runId: 'run-e', maxInFlight: 1, jobOf, queueName, pollIntervalMs: 200 });
    try {
      assert.deepEqual(await redis.smembers(WORKERS_SET), ['hb']);
      const outcomes = evaluator.evaluateBatch([{ x: 1 }, { x: 2 }, { x: 3 }], contexts(3));
      for (const outcome of outcomes) outcome.catch(() => undefined); // a failed assertion below must not leave them unhandled
      let beat: Record<string, string> = {};
      for (let tries = 0; tries < 600 && !beat['active']; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        beat = await redis.hgetall(workerKey('hb'));
      }
      openGate();
      assert.equal(beat['name'], 'hb');
      assert.equal(beat['active'], 'run-e|x%3D1');
      // the entry expires 3 beats after the last one, so a visible beat is recent
      assert.ok(Date.now() - Date.parse(beat['lastHeartbeat']!) < 5000);
      assert.deepEqual(await worker.stopped, { jobs: 2 });
      assert.deepEqual([...starts.keys()], ['x=1', 'x=2']);
      assert.deepEqual(await Promise.all(outcomes.slice(0, 2)).then((o) => o.map((x) => x.fitness)), [1, 4]);
      assert.equal(await redis.exists(workerKey('hb')), 0);
      assert.deepEqual(await redis.smembers(WORKERS_SET), []);
      // no worker is left for the third: closing the evaluator rejects it (its job stays queued)
      const third = assert.rejects(outcomes[2]!, /closed while jobs were still running/);
      await evaluator.close();
      await third;
    } finally {
      openGate();
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
      const worker = await startQueueWorker({ url: server.url, queueName, evaluate: countingEvaluate(starts), timing: TIMING, heartbeatMs: 200, onLog: () => undefined });
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
