/**
 * The job protocol between a coordinator and its workers (#20), on one BullMQ queue in Redis.
 *
 * - One queue for every run (`QUEUE_NAME`); a job names its run, so a coordinator ignores results of runs
 *   that are not its own.
 * - Job id = run id + individual key (`jobIdOf`): BullMQ keeps one job per id, so enqueueing a candidate twice
 *   (a repeated key in a batch, a resumed coordinator) attaches to the existing job instead of adding another.
 * - Job data and results are checked with zod on both sides: a worker of another version fails a job with a
 *   readable reason instead of evaluating something it misread.
 * - A result's fitness is a number, or null for NaN (JSON has no NaN): failed evaluations are values.
 */
import { z } from 'zod';
import { ModelevoError } from '../core/errors.js';

export const PROTOCOL_VERSION = 1;
export const QUEUE_NAME = 'modelevo-evaluations';
export const JOB_NAME = 'evaluate';

/**
 * Fault timing, set explicitly rather than left to BullMQ's defaults so the arithmetic is on record:
 * - a worker holds each active job's lock for `lockDurationMs` and renews it every lockDurationMs / 2 from
 *   its event loop. A worker killed mid-job (kill -9, lost machine) stops renewing; the lock expires;
 * - every `stalledIntervalMs` each live worker looks for active jobs without a lock and moves them back to
 *   waiting, where another worker takes them. So a lost job is picked up again within
 *   lockDurationMs + stalledIntervalMs (45 s by default) of its worker's death;
 * - a job that stalls more than `maxStalledCount` times (it keeps killing its workers, e.g. out of memory)
 *   fails instead of cycling forever;
 * - `attempts`: a job whose evaluation throws is retried until it has run this many times, then it is a
 *   failed evaluation (NaN fitness with the error text); the run goes on.
 * A worker whose event loop is blocked longer than the lock (a long synchronous merge) loses the lock and its
 * job may run twice; the coordinator stores one result per individual key either way.
 */
export interface QueueTiming {
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
}

export const DEFAULT_TIMING: QueueTiming = { lockDurationMs: 30_000, stalledIntervalMs: 15_000, maxStalledCount: 2 };
export const DEFAULT_ATTEMPTS = 2;
/** finished jobs stay in Redis this long, so a resumed coordinator can collect results that arrived while it was down */
export const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

/** BullMQ forbids ':' in custom ids and ids that are plain integers; percent-encoding and '|' avoid both. */
export function jobIdOf(runId: string, key: string): string {
  return `${encodeURIComponent(runId)}|${encodeURIComponent(key)}`;
}

const finiteOrNull = z.number().nullable();

export const evaluationJobSchema = z.strictObject({
  protocol: z.literal(PROTOCOL_VERSION),
  runId: z.string().min(1),
  /** names the candidate within its run: for evolve, the individual key + '@' + a short recipe hash (run-evaluation.ts) */
  key: z.string().min(1),
  /** what to evaluate: a mergekit-style recipe (with model paths on storage the workers share) and its parents */
  candidate: z.strictObject({ recipe: z.unknown(), parents: z.array(z.string()).optional() }),
  /** the run's fitness spec as written in its evolve config (`fitness:`), checked by the worker */
  fitness: z.unknown(),
  /** the input models as written in the config; relative paths resolve against `cwd` */
  models: z.strictObject({ refs: z.array(z.string()).min(1), base: z.string().optional() }),
  cwd: z.string().min(1),
});
export type EvaluationJobData = z.infer<typeof evaluationJobSchema>;

export const evaluationResultSchema = z.strictObject({
  fitness: finiteOrNull,
  failure: z.string().optional(),
  metrics: z.record(z.string(), finiteOrNull).optional(),
  seconds: z.number().nonnegative(),
  worker: z.string(),
});
export type EvaluationJobResult = z.infer<typeof evaluationResultSchema>;

/** What a worker's evaluation function returns (NaN allowed); encoded for JSON by `encodeResult`. */
export interface WorkerOutcome {
  readonly fitness: number;
  readonly failure?: string;
  readonly metrics?: Record<string, number>;
}

const toJson = (value: number): number | null => (Number.isNaN(value) ? null : value);
const fromJson = (value: number | null): number => (value === null ? NaN : value);

export function encodeResult(outcome: WorkerOutcome, seconds: number, worker: string): EvaluationJobResult {
  if (!Number.isNaN(outcome.fitness) && !Number.isFinite(outcome.fitness)) {
    throw new ModelevoError('VALUE_INVALID', `fitness must be a finite number or NaN, got ${outcome.fitness}`, {
      hint: 'a fitness source reports a failed evaluation as NaN with a reason',
    });
  }
  return {
    fitness: toJson(outcome.fitness),
    ...(outcome.failure === undefined ? {} : { failure: outcome.failure }),
    ...(outcome.metrics ? { metrics: Object.fromEntries(Object.entries(outcome.metrics).map(([k, v]) => [k, toJson(v)])) } : {}),
    seconds,
    worker,
  };
}

export function decodeResult(result: EvaluationJobResult): WorkerOutcome & { seconds: number; worker: string } {
  return {
    fitness: fromJson(result.fitness),
    ...(result.failure === undefined ? {} : { failure: result.failure }),
    ...(result.metrics ? { metrics: Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [k, fromJson(v)])) } : {}),
    seconds: result.seconds,
    worker: result.worker,
  };
}

/** Job data as a checked value; the message names the first offending field. */
export function parseJobData(data: unknown): EvaluationJobData {
  const parsed = evaluationJobSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelevoError('VALUE_INVALID', `job data at '${issue.path.join('.') || '<root>'}': ${issue.message}`, {
      hint: `coordinator and worker must speak protocol ${PROTOCOL_VERSION}: run the same modelevo version on both`,
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    });
  }
  return parsed.data;
}
