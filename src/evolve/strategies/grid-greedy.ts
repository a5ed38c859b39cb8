/**
 * Greedy grid walk ("prior model evolution" coefficient search) — Li et al., AnyFit, NeurIPS 2024,
 * arXiv:2405.18172, §3.3 Eq. 3; spec: evolutionary-merging.md §3. Start on a grid point, evaluate the 2n
 * axis neighbours inside the bounds, move to the best one if it beats the current point, stop when none
 * does. Points live on integer grid indices so no grid point is ever evaluated twice (cached by index).
 */
import { ModelevoError } from '../../core/errors.js';
import { type BaseParams, type Strategy, isBetter } from '../strategy.js';

export interface GridGreedyParams extends BaseParams {
  readonly start: readonly number[];
  readonly step: number;
  readonly lowerBounds: readonly number[];
  readonly upperBounds: readonly number[];
  readonly maxEvaluations?: number;
}

export interface GridGreedyState {
  /** grid index of the current point: value = start + index·step */
  readonly current: number[];
  /** coefficient values of `current` */
  readonly currentPoint: number[];
  /** fitness by grid index key "i,j,…" (null for a failed evaluation) */
  readonly evaluated: Record<string, number | null>;
  readonly evaluations: number;
  readonly moves: number;
  readonly stop: string | null;
}

const keyOf = (index: readonly number[]): string => index.join(',');

function pointOf(params: GridGreedyParams, index: readonly number[]): number[] {
  // rounded to 12 digits so 0.1-steps print as 0.3, not 0.30000000000000004
  return index.map((k, i) => Number((params.start[i]! + k * params.step).toPrecision(12)));
}

function inBounds(params: GridGreedyParams, index: readonly number[]): boolean {
  const eps = 1e-9 * params.step;
  return pointOf(params, index).every((v, i) => v >= params.lowerBounds[i]! - eps && v <= params.upperBounds[i]! + eps);
}

function neighbours(params: GridGreedyParams, index: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < index.length; i++) {
    for (const delta of [-1, 1]) {
      const next = [...index];
      next[i]! += delta;
      if (inBounds(params, next)) out.push(next);
    }
  }
  return out;
}

function fitnessAt(state: GridGreedyState, index: readonly number[]): number {
  const value = state.evaluated[keyOf(index)];
  return value === null || value === undefined ? NaN : value;
}

/** grid indices still to evaluate before the walk can decide its next move */
function pending(params: GridGreedyParams, state: GridGreedyState): number[][] {
  if (!(keyOf(state.current) in state.evaluated)) return [state.current];
  return neighbours(params, state.current).filter((n) => !(keyOf(n) in state.evaluated));
}

/** moves while every needed point is cached; stops when no neighbour beats the current point */
function advance(params: GridGreedyParams, state: GridGreedyState): GridGreedyState {
  let s = state;
  for (;;) {
    if (params.maxEvaluations !== undefined && s.evaluations >= params.maxEvaluations && pending(params, s).length > 0) {
      return { ...s, stop: 'budget' };
    }
    if (pending(params, s).length > 0) return s;
    let best = s.current;
    let bestFitness = fitnessAt(s, s.current);
    for (const n of neighbours(params, s.current)) {
      const f = fitnessAt(s, n);
      if (isBetter(params.objective, f, bestFitness)) {
        best = n;
        bestFitness = f;
      }
    }
    if (best === s.current) return { ...s, stop: 'converged' };
    s = { ...s, current: best, currentPoint: pointOf(params, best), moves: s.moves + 1 };
  }
}

export const gridGreedy: Strategy<GridGreedyParams, GridGreedyState, number[]> = {
  name: 'grid-greedy',
  title: 'Greedy grid walk over merge coefficients (AnyFit prior model evolution)',
  reference: 'Li et al., AnyFit, NeurIPS 2024, arXiv:2405.18172',

  init(params) {
    const n = params.start.length;
    if (params.lowerBounds.length !== n || params.upperBounds.length !== n || !(params.step > 0)) {
      throw new ModelevoError('VALUE_INVALID', `grid-greedy needs bounds of length ${n} and a positive step`, {
        hint: 'set lower/upper bounds for every coefficient and step > 0',
      });
    }
    const current = new Array<number>(n).fill(0);
    if (!inBounds(params, current)) {
      throw new ModelevoError('VALUE_INVALID', `grid-greedy start ${JSON.stringify(params.start)} lies outside the bounds`);
    }
    return { current, currentPoint: pointOf(params, current), evaluated: {}, evaluations: 0, moves: 0, stop: null };
  },

  ask(params, state) {
    return { candidates: pending(params, state).map((index) => pointOf(params, index)), state };
  },

  tell(params, state, candidates, fitness) {
    const expected = pending(params, state);
    if (candidates.length !== expected.length || fitness.length !== expected.length) {
      throw new ModelevoError('VALUE_INVALID', `grid-greedy tell expected ${expected.length} results, got ${candidates.length}`);
    }
    const evaluated = { ...state.evaluated };
    expected.forEach((index, k) => {
      const f = fitness[k]!;
      evaluated[keyOf(index)] = Number.isFinite(f) ? f : null;
    });
    const next = advance(params, { ...state, evaluated, evaluations: state.evaluations + expected.length });
    return { state: next, metrics: { evaluations: next.evaluations, moves: next.moves, fitness: fitnessAt(next, next.current) } };
  },

  stopReason(_params, state) {
    return state.stop ?? undefined;
  },

  best(state) {
    const f = fitnessAt(state, state.current);
    return Number.isNaN(f) ? undefined : { genome: state.currentPoint, fitness: f };
  },
};
