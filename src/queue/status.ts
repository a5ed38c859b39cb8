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
    for (const name of (await redis.smembers(WORKERS_SET)).sort()) {
      const beat = await redis.hgetall(workerKey(name));
      // an expired heartbeat: the worker died without deregistering; forget it
      if (!beat['name']) {
        await redis.srem(WORKERS_SET, name);
        continue;
      }
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
