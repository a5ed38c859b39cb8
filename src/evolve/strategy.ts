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

/** true when `a` is strictly better than `b` under the objective; NaN is never better than anything */
export function isBetter(objective: Objective, a: number, b: number): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return objective === 'max' ? a > b : a < b;
}

/** maps fitness to a cost to minimise; NaN becomes +Infinity (the worst) */
export function toCost(objective: Objective, fitness: number): number {
  if (Number.isNaN(fitness)) return Infinity;
  return objective === 'max' ? -fitness : fitness;
}
