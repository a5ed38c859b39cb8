/**
 * The evolution-strategy extension point (style.md §1.3, evosax-style ask/tell). `Params` are
 * hyperparameters, `State` is everything that changes; both are plain JSON-serialisable data, so a run can be
 * stored after every `tell` and resumed bit-identically. Every strategy states its objective explicitly.
 */

export type Objective = 'min' | 'max';

export interface BaseParams {
  readonly objective: Objective;
}

export interface AskResult<S, G> {
  readonly candidates: G[];
  readonly state: S;
}

export interface TellResult<S> {
  readonly state: S;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface Strategy<P extends BaseParams, S, G> {
  readonly name: string;
  readonly title: string;
  readonly reference: string;
  init(params: P, seed: number): S;
  /** proposes the next candidates; pure: the same (params, state) gives the same candidates */
  ask(params: P, state: S): AskResult<S, G>;
  /** fitness values in candidate order; NaN marks a failed evaluation (treated as the worst) */
  tell(params: P, state: S, candidates: readonly G[], fitness: readonly number[]): TellResult<S>;
  /** why the strategy has nothing more to do, or undefined while it goes on */
  stopReason(params: P, state: S): string | undefined;
  best(state: S): { genome: G; fitness: number } | undefined;
}

/**
 * A failed evaluation: NaN, or the null a NaN becomes when a state goes through JSON (the run store saves
 * states as JSON, so a resumed state holds null where the running one held NaN).
 */
export function isFailed(fitness: number | null | undefined): boolean {
  return fitness === null || fitness === undefined || Number.isNaN(fitness);
}

/** true when `a` is strictly better than `b` under the objective; a failure is never better than anything */
export function isBetter(objective: Objective, a: number | null, b: number | null): boolean {
  if (isFailed(a)) return false;
  if (isFailed(b)) return true;
  return objective === 'max' ? a! > b! : a! < b!;
}

/** maps fitness to a cost to minimise; a failure becomes +Infinity (the worst) */
export function toCost(objective: Objective, fitness: number | null): number {
  if (isFailed(fitness)) return Infinity;
  return objective === 'max' ? -fitness! : fitness!;
}

export interface Scored<G> {
  readonly genome: G;
  readonly fitness: number;
}

/**
 * The best-so-far record, kept the same way everywhere (strategies that remember their best evaluation and
 * the run's final choice among told and untold evaluations): replaced only by a strictly better fitness, so
 * the first of equals stays and a failure never becomes the best. Returns `best` itself when nothing beats it.
 */
export function trackBest<G>(objective: Objective, best: Scored<G> | null, candidates: readonly G[], fitness: readonly number[]): Scored<G> | null {
  let current = best;
  candidates.forEach((genome, k) => {
    if (isBetter(objective, fitness[k] ?? NaN, current?.fitness ?? NaN)) current = { genome, fitness: fitness[k]! };
  });
  return current;
}
