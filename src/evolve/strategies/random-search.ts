/**
 * Random search baseline: uniform samples in a box, in batches, best kept. The control every other
 * strategy should beat at equal evaluation budget.
 */
import { createRng, rngFromState } from '../../core/rng.js';
import { ModelevoError } from '../../core/errors.js';
import { type BaseParams, type Strategy, trackBest } from '../strategy.js';

export interface RandomSearchParams extends BaseParams {
  readonly lowerBounds: readonly number[];
  readonly upperBounds: readonly number[];
  readonly batchSize: number;
  readonly maxEvaluations: number;
}

export interface RandomSearchState {
  readonly rng: [number, number, number, number];
  readonly evaluations: number;
  readonly best: { genome: number[]; fitness: number } | null;
}

export const randomSearch: Strategy<RandomSearchParams, RandomSearchState, number[]> = {
  name: 'random',
  title: 'Uniform random search in a box',
  reference: 'baseline',

  init(params, seed) {
    if (params.lowerBounds.length !== params.upperBounds.length || params.lowerBounds.length === 0 || !(params.batchSize >= 1)) {
      throw new ModelevoError('VALUE_INVALID', 'random search needs lower/upper bounds of equal non-zero length and batchSize ≥ 1');
    }
    return { rng: createRng('random-search', seed).state(), evaluations: 0, best: null };
  },

  ask(params, state) {
    const rng = rngFromState(state.rng);
    const count = Math.min(params.batchSize, params.maxEvaluations - state.evaluations);
    const candidates = Array.from({ length: count }, () =>
      params.lowerBounds.map((lo, i) => lo + rng.next() * (params.upperBounds[i]! - lo)),
    );
    return { candidates, state: { ...state, rng: rng.state() } };
  },

  tell(params, state, candidates, fitness) {
    if (candidates.length !== fitness.length) {
      throw new ModelevoError('VALUE_INVALID', `random search tell got ${candidates.length} candidates but ${fitness.length} fitness values`);
    }
    const tracked = trackBest(params.objective, state.best, candidates, fitness);
    const best = tracked === state.best || tracked === null ? state.best : { genome: [...tracked.genome], fitness: tracked.fitness };
    const evaluations = state.evaluations + candidates.length;
    return { state: { ...state, evaluations, best }, metrics: { evaluations, best: best?.fitness ?? NaN } };
  },

  stopReason(params, state) {
    return state.evaluations >= params.maxEvaluations ? 'budget' : undefined;
  },

  best(state) {
    return state.best ?? undefined;
  },
};
