/**
 * Evaluation away from the coordinator (#20): the evolve run hands each candidate out as a self-contained
 * recipe (Driver.recipeOf) to an evaluator that runs elsewhere — the queue of src/queue, which sits above
 * evolve and implements this interface. The run keeps the strategy and the run store; only merging and
 * scoring move.
 */
import type { EvaluateBatch } from './loop.js';

/** One candidate as the remote side receives it. */
export interface OffloadedCandidate {
  /** the run store's individual key */
  readonly key: string;
  /** a mergekit recipe over the run's input models, as the config names them */
  readonly recipe: unknown;
  readonly parents: readonly string[];
}

export interface RemoteBatchEvaluator {
  readonly evaluateBatch: EvaluateBatch<OffloadedCandidate>;
  /** stops listening; evaluations still running elsewhere go on (a resumed run attaches to them) */
  close(): Promise<void>;
}

export interface RemoteEvaluation {
  /** a short, password-free description for the run's event log (e.g. the redacted queue URL) */
  readonly describe: string;
  /** called once the run store is open; `runId` (the manifest id) stays the same when the run is resumed */
  open(run: { readonly runId: string }): Promise<RemoteBatchEvaluator>;
}
