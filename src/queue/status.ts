/**
 * What a queue holds (#20, `modelevo queue status`): the workers whose heartbeat has not expired, and the jobs
 * per run by state. Reads only; safe to run beside live coordinators and workers.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { reachRedis } from './connect.js';
import { parseQueueUrl, readyWithin } from './redis-url.js';
import { QUEUE_NAME } from './protocol.js';
import { WORKERS_SET, workerKey } from './worker.js';

export interface WorkerSeen {
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly lastHeartbeat: string;
  /** job ids the worker holds */
  readonly active: readonly string[];
  readonly finished: number;
}

export const JOB_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface QueueStatus {
  readonly workers: readonly WorkerSeen[];
  /** per run id, the number of its jobs in each state */
  readonly runs: Readonly<Record<string, Record<JobState, number>>>;
}

/** Names of the workers whose heartbeat has not expired; entries of workers that died without deregistering are dropped. */
async function liveWorkerNames(redis: Redis): Promise<string[]> {
  const live: string[] = [];
  for (const name of (await redis.smembers(WORKERS_SET)).sort()) {
    if (await redis.exists(workerKey(name))) live.push(name);
    else await redis.srem(WORKERS_SET, name);
  }
  return live;
}

/** How many workers beat now (the coordinator's default --max-in-flight is twice that). */
export async function countLiveWorkers(options: { url: string; connectTimeoutMs?: number }): Promise<number> {
  await reachRedis(options.url, options.connectTimeoutMs);
  const redis = new Redis({ ...parseQueueUrl(options.url), lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await readyWithin(redis.connect(), options.url, options.connectTimeoutMs);
    return (await liveWorkerNames(redis)).length;
  } finally {
    redis.disconnect();
  }
}

export async function queueStatus(options: { url: string; queueName?: string; connectTimeoutMs?: number }): Promise<QueueStatus> {
  const connection = parseQueueUrl(options.url);
  await reachRedis(options.url, options.connectTimeoutMs);
  const redis = new Redis({ ...connection, lazyConnect: true });
  const queue = new Queue(options.queueName ?? QUEUE_NAME, { connection });
  redis.on('error', () => undefined);
  queue.on('error', () => undefined);
  try {
    await readyWithin(Promise.all([redis.connect(), queue.waitUntilReady()]), options.url, options.connectTimeoutMs);
    const workers: WorkerSeen[] = [];
    for (const name of await liveWorkerNames(redis)) {
      const beat = await redis.hgetall(workerKey(name));
      if (!beat['name']) continue; // expired between the two reads
      workers.push({
        name,
        host: beat['host'] ?? '',
        pid: Number(beat['pid'] ?? 0),
        lastHeartbeat: beat['lastHeartbeat'] ?? '',
        active: beat['active'] ? beat['active'].split(',') : [],
        finished: Number(beat['finished'] ?? 0),
      });
    }
    const runs: Record<string, Record<JobState, number>> = {};
    for (const state of JOB_STATES) {
      for (const job of await queue.getJobs([state])) {
        if (!job) continue;
        const runId = typeof job.data?.runId === 'string' ? job.data.runId : '(unknown)';
        runs[runId] ??= { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
        runs[runId][state]++;
      }
    }
    return { workers, runs };
  } finally {
    redis.disconnect();
    await queue.close().catch(() => undefined);
  }
}
