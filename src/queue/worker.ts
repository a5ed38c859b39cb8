/**
 * A queue worker (#20): takes evaluation jobs from the BullMQ queue, runs the caller's `evaluate` on each
 * (the CLI passes the same merge + fitness code as local runs) and returns the encoded result. It writes a
 * heartbeat (name, host, pid, active jobs, jobs done) every `heartbeatMs` to a Redis hash that expires when
 * the worker stops beating, so `queue status` lists live workers only. `stop()` (the CLI calls it on SIGTERM)
 * stops taking jobs and waits for the active ones to finish. With `maxJobs`, the worker stops by itself after
 * taking that many jobs.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ModelevoError } from '../core/errors.js';
import { reachRedis } from './connect.js';
import { parseQueueUrl, readyWithin, redactQueueUrl } from './redis-url.js';
import { DEFAULT_TIMING, encodeResult, parseJobData, QUEUE_NAME, type EvaluationJobData, type EvaluationJobResult, type QueueTiming, type WorkerOutcome } from './protocol.js';

export const WORKERS_SET = 'modelevo:workers';
export const workerKey = (name: string): string => `modelevo:worker:${name}`;

export interface QueueWorkerOptions {
  readonly url: string;
  readonly evaluate: (job: EvaluationJobData) => Promise<WorkerOutcome>;
  readonly name?: string;
  readonly concurrency?: number;
  readonly maxJobs?: number;
  readonly timing?: QueueTiming;
  readonly heartbeatMs?: number;
  readonly queueName?: string;
  readonly onLog?: (line: string) => void;
  /** how long to wait for Redis at start (ms, default CONNECT_TIMEOUT_MS) */
  readonly connectTimeoutMs?: number;
}

export interface RunningQueueWorker {
  readonly name: string;
  /** resolves once the worker has stopped (after `stop()`, or after `maxJobs` jobs) with the jobs it finished */
  readonly stopped: Promise<{ readonly jobs: number }>;
  stop(): Promise<void>;
}

function positiveInteger(value: number | undefined, what: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw new ModelevoError('VALUE_INVALID', `${what}: expected an integer ≥ 1, got ${value}`, { hint: `e.g. ${what} 2` });
  }
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<RunningQueueWorker> {
  positiveInteger(options.concurrency, '--concurrency');
  positiveInteger(options.maxJobs, '--max-jobs');
  const connection = parseQueueUrl(options.url);
  await reachRedis(options.url, options.connectTimeoutMs);
  const timing = options.timing ?? DEFAULT_TIMING;
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const log = options.onLog ?? (() => undefined);
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const active = new Set<string>();
  let taken = 0;
  let finished = 0;

  const heartbeat = new Redis({ ...connection });
  heartbeat.on('error', () => undefined); // ioredis reconnects; a missed beat only ages the entry
  async function beat(): Promise<void> {
    const key = workerKey(name);
    await heartbeat
      .multi()
      .sadd(WORKERS_SET, name)
      .hset(key, { name, host: hostname(), pid: String(process.pid), lastHeartbeat: new Date().toISOString(), active: [...active].join(','), finished: String(finished) })
      .pexpire(key, heartbeatMs * 3)
      .exec();
  }

  let stopping: Promise<void> | undefined;
  let worker: Worker<EvaluationJobData, EvaluationJobResult>;
  const processor = async (job: Job<EvaluationJobData, EvaluationJobResult>): Promise<EvaluationJobResult> => {
    let data: EvaluationJobData;
    try {
      data = parseJobData(job.data);
    } catch (error) {
      // a job this worker cannot read will not read better on a retry
      throw new UnrecoverableError((error as Error).message);
    }
    taken++;
    if (options.maxJobs !== undefined && taken >= options.maxJobs) void stop(); // finish this one, take no more
    active.add(job.id!);
    log(`job ${job.id} (run ${data.runId}, ${data.key}) attempt ${job.attemptsMade + 1}`);
    const t0 = performance.now();
    try {
      const outcome = await options.evaluate(data);
      return encodeResult(outcome, (performance.now() - t0) / 1000, name);
    } finally {
      active.delete(job.id!);
      finished++;
    }
  };

  worker = new Worker<EvaluationJobData, EvaluationJobResult>(options.queueName ?? QUEUE_NAME, processor, {
    connection,
    concurrency: options.concurrency ?? 1,
    lockDuration: timing.lockDurationMs,
    stalledInterval: timing.stalledIntervalMs,
    maxStalledCount: timing.maxStalledCount,
    // after a failed fetch (a Redis hiccup) try again in 2 s, not BullMQ's 15 s: an idle GPU costs more than a retry
    runRetryDelay: 2000,
    autorun: false,
  });
  worker.on('error', (error) => log(`queue error: ${error.message}`));
  worker.on('failed', (job, error) => log(`job ${job?.id ?? '?'} failed: ${error.message}`));

  try {
    await readyWithin(Promise.all([worker.waitUntilReady(), heartbeat.ping(), beat()]), options.url, options.connectTimeoutMs);
  } catch (error) {
    heartbeat.disconnect();
    void worker.close(true).catch(() => undefined);
    throw error;
  }
  const timer = setInterval(() => void beat().catch(() => undefined), heartbeatMs);
  let markStopped!: (value: { jobs: number }) => void;
  const stopped = new Promise<{ jobs: number }>((resolve) => (markStopped = resolve));

  function stop(): Promise<void> {
    stopping ??= (async () => {
      log(`worker ${name} stopping (waiting for ${active.size} active job${active.size === 1 ? '' : 's'})`);
      await worker.close(); // waits for the active jobs; takes no new ones
      clearInterval(timer);
      await heartbeat.multi().del(workerKey(name)).srem(WORKERS_SET, name).exec().catch(() => undefined);
      heartbeat.disconnect();
      markStopped({ jobs: finished });
    })();
    return stopping;
  }

  void worker.run().catch((error: Error) => log(`worker stopped on error: ${error.message}`));
  log(`worker ${name} on ${redactQueueUrl(options.url)} (concurrency ${options.concurrency ?? 1})`);
  return { name, stopped, stop };
}
