/**
 * The queue side of a distributed evolution run (#20): `modelevo evolve --queue` passes this to runEvolution
 * as its RemoteEvaluation. Each candidate becomes one job carrying everything a worker needs — the recipe,
 * the run's `fitness:` block, its input models and the coordinator's working folder (paths resolve against
 * it on storage every worker shares). The run store stays the single source of truth: the evolve loop stores
 * each outcome once under its (step, index), whatever happened to the job.
 *
 * Job id = run id (the manifest id, unchanged by --resume) + individual key + a short hash of the recipe. A
 * resumed coordinator asks the interrupted step again, gets the same ids, and attaches to the jobs still
 * queued or running (or collects the results of those that finished meanwhile) instead of enqueueing new
 * ones. The hash keeps two candidates whose keys print alike (genomes rounded to 3 decimals) two jobs.
 */
import { createHash } from 'node:crypto';
import type { OffloadedCandidate, RemoteEvaluation } from '../evolve/remote.js';
import { queueEvaluator } from './evaluator.js';
import { redactQueueUrl } from './redis-url.js';
import { countLiveWorkers } from './status.js';

export interface QueueRunOptions {
  readonly url: string;
  /** jobs of this run in the queue at once; default 2 × the workers beating when the run starts (at least 2) */
  readonly maxInFlight?: number;
  /** the run's `fitness:` block, the input models and base model as written in its config */
  readonly fitness: unknown;
  readonly models: readonly string[];
  readonly baseModel?: string;
  /** the folder relative paths of the config resolve against */
  readonly cwd: string;
  readonly attempts?: number;
  readonly queueName?: string;
  readonly pollIntervalMs?: number;
  /** told the in-flight bound chosen (the CLI prints it) */
  onStart?(info: { readonly maxInFlight: number; readonly workers: number | undefined }): void;
}

export function jobKeyOf(candidate: OffloadedCandidate): string {
  const hash = createHash('sha256').update(JSON.stringify(candidate.recipe) ?? 'undefined').digest('hex').slice(0, 12);
  return `${candidate.key}@${hash}`;
}

export function queueRunEvaluation(options: QueueRunOptions): RemoteEvaluation {
  return {
    describe: `queue ${redactQueueUrl(options.url)}`,
    async open({ runId }) {
      const workers = options.maxInFlight === undefined ? await countLiveWorkers({ url: options.url }) : undefined;
      const maxInFlight = options.maxInFlight ?? 2 * Math.max(1, workers!);
      options.onStart?.({ maxInFlight, workers });
      return queueEvaluator<OffloadedCandidate>({
        url: options.url,
        runId,
        maxInFlight,
        ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
        ...(options.queueName === undefined ? {} : { queueName: options.queueName }),
        ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
        jobOf: (candidate) => ({
          key: jobKeyOf(candidate),
          candidate: { recipe: candidate.recipe, parents: [...candidate.parents] },
          fitness: options.fitness,
          models: { refs: [...options.models], ...(options.baseModel === undefined ? {} : { base: options.baseModel }) },
          cwd: options.cwd,
        }),
      });
    },
  };
}
