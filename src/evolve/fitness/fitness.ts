/**
 * Fitness sources for evolution runs (issue: evolution engine, item 2). A source scores one candidate model
 * on development data. Sources that run in-process take the candidate as an in-memory Checkpoint; sources
 * that run another program need it written to a folder (`needsFolder`), which the orchestrator creates in a
 * temp directory and removes afterwards. Failures are values: a NaN score with a reason, never a throw.
 */
import type { Checkpoint } from '../../io/checkpoint.js';
import type { Objective } from '../strategy.js';

export interface CandidateModel {
  /** the merged candidate, lazily readable */
  readonly checkpoint: Checkpoint;
  /** folder holding the candidate when the source needs one */
  readonly dir?: string;
  /** the recipe that produced it (mergekit-style config), for logging */
  readonly recipe?: unknown;
}

export interface FitnessResult {
  /** NaN marks a failed evaluation */
  readonly score: number;
  readonly failure?: string;
  /** extra numbers to store with the individual (e.g. per-domain losses) */
  readonly metrics?: Record<string, number>;
}

export interface FitnessSource {
  readonly name: string;
  readonly objective: Objective;
  readonly needsFolder: boolean;
  /** the text windows [first, first + count) this source reads, when it reads windows (built-in LM loss) */
  readonly windows?: { readonly first: number; readonly count: number };
  evaluate(candidate: CandidateModel): Promise<FitnessResult>;
  /**
   * Checks every input the source will need (files exist, windows fit the model and the text) without
   * evaluating anything, so a fitness that can never succeed is refused before the run starts. `model` is
   * the donor checkpoint candidates are built like.
   */
  preflight?(model: Checkpoint): Promise<void>;
  close?(): Promise<void>;
}

export function failed(reason: string): FitnessResult {
  return { score: NaN, failure: reason };
}
