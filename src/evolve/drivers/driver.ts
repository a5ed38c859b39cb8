/**
 * A driver binds one strategy to models: it turns the strategy's candidates into merged models
 * (`materialise`) and names them for the run record. The orchestrator (evolve/run.ts) owns the loop, the
 * fitness and the store; drivers own no I/O beyond reading models.
 */
import type { Checkpoint } from '../../io/checkpoint.js';
import type { BaseParams, Strategy } from '../strategy.js';

export interface Materialised {
  readonly checkpoint: Checkpoint;
  /** a mergekit config that reproduces the candidate with `modelevo merge`, when one exists */
  readonly recipe?: unknown;
  /** ids of the models it was made from */
  readonly parents?: readonly string[];
  /** the parents as models, aligned with `parents`, when they are at hand (for kinship to parents) */
  readonly parentCheckpoints?: readonly Checkpoint[];
}

export interface Driver<P extends BaseParams, S, G> {
  readonly strategy: Strategy<P, S, G>;
  readonly params: P;
  /** a readable name per gene when the candidate is a real vector (model × layer group …), for reports */
  readonly geneNames?: readonly string[];
  keyOf(candidate: G): string;
  materialise(candidate: G): Promise<Materialised>;
  /** deterministic state preparation before each ask (kinship values for kinship-greedy) */
  beforeAsk?(state: S): Promise<S>;
  /** the candidate the run returns (the strategy's best, as a genome) */
  bestCandidate(state: S): { candidate: G; fitness: number } | undefined;
  /** a plain description of the best candidate for reports */
  describe(candidate: G): string;
  close(): void;
}

/** Opened input models keyed by the reference string as written in the config. */
export type ModelMap = ReadonlyMap<string, Checkpoint>;
