/**
 * The events a stored continual run (`modelevo continual run --run-dir`) appends to its run.sqlite, and the
 * view the dashboard and `--resume` rebuild from them. One `continual-task` event per trained task (that
 * task's row of the accuracy matrix and the bases per layer after it), one `continual-seed` event per
 * finished seed (its whole result, so a resumed run does not train that seed again).
 */
import type { ContinualSummary } from './metrics.js';
import type { ContinualRunResult } from './run.js';

export const CONTINUAL_RUN_KIND = 'continual';
export const CONTINUAL_TASK_EVENT = 'continual-task';
export const CONTINUAL_SEED_EVENT = 'continual-seed';

export interface ContinualTaskEvent {
  readonly seed: number;
  readonly task: number;
  /** accuracy on every task after training `task` (row `task` of the accuracy matrix) */
  readonly row: readonly number[];
  readonly seconds: number;
  /** stored basis vectors per layer after the task's memory update */
  readonly basisSizes: readonly number[];
}

export interface ContinualSeedEvent {
  readonly result: ContinualRunResult;
}

export interface ContinualSeedView {
  readonly seed: number;
  /** the rows stored so far (all of them once the seed finished) */
  readonly accuracy: number[][];
  /** bases per layer after each stored task */
  readonly basisSizesPerTask: number[][];
  /** ACC / BWT / forgetting, present once the seed finished */
  readonly summary?: ContinualSummary;
}

interface StoredEventLike {
  readonly type: string;
  readonly payload: unknown;
}

/**
 * Per-seed accuracy matrices and bases from a run's events, in seed order. A seed trained twice (an
 * interrupted session, then a resume) keeps only the rows of its latest attempt.
 */
export function continualRunView(events: readonly StoredEventLike[]): ContinualSeedView[] {
  const seeds = new Map<number, { seed: number; accuracy: number[][]; basisSizesPerTask: number[][]; summary?: ContinualSummary }>();
  for (const event of events) {
    if (event.type === CONTINUAL_TASK_EVENT) {
      const e = event.payload as ContinualTaskEvent;
      // task 0 again means the seed started over: drop the interrupted attempt's rows
      if (e.task === 0 || !seeds.has(e.seed)) seeds.set(e.seed, { seed: e.seed, accuracy: [], basisSizesPerTask: [] });
      const view = seeds.get(e.seed)!;
      view.accuracy[e.task] = [...e.row];
      view.basisSizesPerTask[e.task] = [...e.basisSizes];
    } else if (event.type === CONTINUAL_SEED_EVENT) {
      const { result } = event.payload as ContinualSeedEvent;
      const view = seeds.get(result.seed) ?? { seed: result.seed, accuracy: result.accuracy.map((row) => [...row]), basisSizesPerTask: [] };
      view.summary = result.summary;
      seeds.set(result.seed, view);
    }
  }
  return [...seeds.values()].sort((a, b) => a.seed - b.seed);
}

/** The finished seeds' results stored in a run's events (what `--resume` does not train again). */
export function completedSeeds(events: readonly StoredEventLike[]): Map<number, ContinualRunResult> {
  const done = new Map<number, ContinualRunResult>();
  for (const event of events) {
    if (event.type === CONTINUAL_SEED_EVENT) {
      const { result } = event.payload as ContinualSeedEvent;
      done.set(result.seed, result);
    }
  }
  return done;
}
