/**
 * A queue-backed batch evaluator (#20): the coordinator's side. `evaluateBatch` enqueues each candidate as a
 * BullMQ job (id = run id + individual key, so a repeated enqueue attaches to the existing job) and returns
 * one promise per candidate that resolves when that job finishes: its fitness, metrics and seconds, or a NaN
 * outcome with the error text once the job has failed `attempts` times. At most `maxInFlight` of this
 * evaluator's jobs are in the queue at once; the rest wait here.
 *
 * Results arrive as QueueEvents (a Redis stream); a slow poll of the pending jobs' states covers events lost
 * while Redis restarted or the connection dropped, and a job that had already finished before it was
 * (re-)enqueued resolves at once from its stored result.
 */
import { Job, Queue, QueueEvents } from 'bullmq';
import { ModelevoError } from '../core/errors.js';
import { reachRedis } from './connect.js';
import { parseQueueUrl, readyWithin } from './redis-url.js';
import {
  DEFAULT_ATTEMPTS,
  decodeResult,
  evaluationResultSchema,
  JOB_NAME,
  jobIdOf,
  KEEP_FINISHED_SECONDS,
  PROTOCOL_VERSION,
  QUEUE_NAME,
  type EvaluationJobData,
} from './protocol.js';

import type { EvaluateBatch, EvaluationContext, EvaluationOutcome } from '../evolve/loop.js';

export type { EvaluateBatch, EvaluationContext, EvaluationOutcome };

/** What one candidate becomes on the queue: everything but the protocol version and the run id. */
export type CandidateJob = Omit<EvaluationJobData, 'protocol' | 'runId'>;

export interface QueueEvaluatorOptions<G> {
  readonly url: string;
  readonly runId: string;
  /** jobs of this evaluator in the queue at once (≥ 1) */
  readonly maxInFlight: number;
  readonly jobOf: (candidate: G, context: EvaluationContext) => CandidateJob;
  /** runs per job before it counts as a failed evaluation (default 2) */
  readonly attempts?: number;
  /** how often pending jobs' states are read in case an event was lost (ms, default 5000) */
  readonly pollIntervalMs?: number;
  /** the queue's name (default QUEUE_NAME; tests isolate themselves with their own) */
  readonly queueName?: string;
  /** how long to wait for Redis at start (ms, default CONNECT_TIMEOUT_MS) */
  readonly connectTimeoutMs?: number;
}

export interface QueueEvaluator<G> {
  readonly evaluateBatch: EvaluateBatch<G>;
  /** jobs enqueued or attached to by this evaluator and not finished yet */
  pendingCount(): number;
  /** stops listening; promises still pending reject (their jobs stay in the queue for a resumed coordinator) */
  close(): Promise<void>;
}

function failedOutcome(reason: string, attempts: number): EvaluationOutcome {
  return { fitness: NaN, failure: `failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}` };
}

function outcomeOfResult(value: unknown): EvaluationOutcome {
  const parsed = evaluationResultSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  if (!parsed.success) return { fitness: NaN, failure: `the worker returned a malformed result: ${parsed.error.issues[0]?.message ?? 'unknown'}` };
  const { fitness, failure, metrics, seconds } = decodeResult(parsed.data);
  return { fitness, ...(failure === undefined ? {} : { failure }), ...(metrics ? { metrics } : {}), seconds };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function queueEvaluator<G>(options: QueueEvaluatorOptions<G>): Promise<QueueEvaluator<G>> {
  if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
    throw new ModelevoError('VALUE_INVALID', `maxInFlight: expected an integer ≥ 1, got ${options.maxInFlight}`, { hint: 'e.g. --max-in-flight 8' });
  }
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const connection = parseQueueUrl(options.url);
  await reachRedis(options.url, options.connectTimeoutMs);
  const name = options.queueName ?? QUEUE_NAME;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  // connection errors are retried by ioredis; without listeners they would crash the process
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  try {
    await readyWithin(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), options.url, options.connectTimeoutMs);
  } catch (error) {
    // Redis answered the probe but went away again: close() (not disconnect(), which awaits a ready client)
    void events.close().catch(() => undefined);
    void queue.close().catch(() => undefined);
    throw error;
  }

  /** job id → settle functions of every promise waiting on it (one job may be awaited by repeated keys) */
  const pending = new Map<string, { resolve: (outcome: EvaluationOutcome) => void; reject: (error: Error) => void }[]>();
  const settle = (jobId: string, outcome: EvaluationOutcome): void => {
    const waiters = pending.get(jobId);
    if (!waiters) return; // another run's job, or one already settled: ignored
    pending.delete(jobId);
    for (const waiter of waiters) waiter.resolve(outcome);
  };
  events.on('completed', ({ jobId, returnvalue }) => settle(jobId, outcomeOfResult(returnvalue)));
  events.on('failed', ({ jobId, failedReason }) => settle(jobId, failedOutcome(failedReason, attempts)));

  /** reads a job's state; settles it when it has finished (covers lost events and already-finished jobs) */
  async function settleIfFinished(jobId: string): Promise<void> {
    // the state first, then the job: a job read while active and finished before getState() would carry no
    // return value yet (read that way round, a completed job was seen as a malformed null result)
    const state = await queue.getJobState(jobId);
    if (state !== 'completed' && state !== 'failed') return;
    const job = await Job.fromId(queue, jobId);
    if (!job) return;
    if (state === 'completed') settle(jobId, outcomeOfResult(job.returnvalue));
    else settle(jobId, failedOutcome(job.failedReason, attempts));
  }
  let polling = false;
  const poll = setInterval(() => {
    if (polling || pending.size === 0) return;
    polling = true;
    Promise.allSettled([...pending.keys()].map(settleIfFinished)).finally(() => (polling = false));
  }, options.pollIntervalMs ?? 5000);
  poll.unref();

  // the in-flight bound: a slot is taken when a job is enqueued and given back when its promise settles
  let inFlight = 0;
  const waitingForSlot: (() => void)[] = [];
  const takeSlot = (): Promise<void> => {
    if (inFlight < options.maxInFlight) {
      inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolveSlot) => waitingForSlot.push(resolveSlot));
  };
  const giveSlot = (): void => {
    const next = waitingForSlot.shift();
    if (next) next(); // the slot passes straight to the next candidate
    else inFlight--;
  };

  let closed = false;
  async function submit(candidate: G, context: EvaluationContext): Promise<EvaluationOutcome> {
    const job = options.jobOf(candidate, context);
    const data: EvaluationJobData = { protocol: PROTOCOL_VERSION, runId: options.runId, ...job };
    const jobId = jobIdOf(options.runId, job.key);
    await takeSlot();
    try {
      if (closed) throw new ModelevoError('STRATEGY_FAILED', 'the queue evaluator was closed before this candidate was enqueued');
      const result = new Promise<EvaluationOutcome>((resolve, reject) => {
        const waiters = pending.get(jobId) ?? [];
        waiters.push({ resolve, reject });
        pending.set(jobId, waiters);
      });
      await queue.add(JOB_NAME, data, {
        jobId,
        attempts,
        removeOnComplete: { age: KEEP_FINISHED_SECONDS },
        removeOnFail: { age: KEEP_FINISHED_SECONDS },
      });
      // the id may belong to a job that finished before this enqueue (resume, repeated key): no event will come
      await settleIfFinished(jobId);
      return await result;
    } finally {
      giveSlot();
    }
  }

  return {
    evaluateBatch: (candidates, contexts) => candidates.map((candidate, i) => submit(candidate, contexts[i] ?? { step: 0, index: i })),
    pendingCount: () => pending.size,
    async close() {
      closed = true;
      clearInterval(poll);
      const error = new ModelevoError('STRATEGY_FAILED', 'the queue evaluator was closed while jobs were still running', {
        hint: 'their jobs stay in the queue; a resumed run attaches to them by id',
      });
      for (const waiters of pending.values()) for (const waiter of waiters) waiter.reject(error);
      pending.clear();
      for (const resolveSlot of waitingForSlot.splice(0)) resolveSlot();
      await Promise.allSettled([events.close(), queue.close()]);
    },
  };
}
