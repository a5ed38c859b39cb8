/**
 * A driver binds one strategy to models: it turns the strategy's candidates into merged models
 * (`materialise`) and names them for the run record. The orchestrator (evolve/run.ts) owns the loop, the
 * fitness and the store; drivers own no I/O beyond reading models.
 */
import type { Checkpoint } from '../../io/checkpoint.js';
import type { BaseParams, Objective, Strategy } from '../strategy.js';

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
  /**
   * The candidate as a self-contained mergekit recipe over the run's input models, without merging it: what
   * a queue worker on another machine needs to rebuild it (#20). Absent for strategies whose candidates
   * depend on models made during the run (kinship-greedy's children) or on adapters (LoraHub).
   */
  recipeOf?(candidate: G): { readonly recipe: unknown; readonly parents: readonly string[] };
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

/** The run-level settings a driver reads; an `EvolveConfig` is one. */
export interface RunSettings {
  readonly seed: number;
  /** maximum number of fitness evaluations */
  readonly budget: number;
  readonly base_model?: string | undefined;
  readonly models: readonly string[];
}

/** What a registered strategy's driver factory gets: its own config block and the opened run. */
export interface DriverContext<C> {
  /** the strategy's block of the evolve config (`strategy:`), already validated by its schema */
  readonly strategy: C;
  readonly config: RunSettings;
  readonly models: ModelMap;
  readonly objective: Objective;
  /** folder model and adapter paths resolve against */
  readonly cwd: string;
  /** num_hidden_layers of the donor model; a ConfigError when it has none */
  numLayers(): number;
  /** what the run store recorded for an individual key (rebuilds offspring after a restart) */
  recordOf(key: string): { readonly recipe?: unknown; readonly parents?: readonly string[] } | undefined;
}
