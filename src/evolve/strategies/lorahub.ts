/**
 * LoraHub: gradient-free composition weights over LoRA adapters — Huang et al., COLM 2024, arXiv:2307.13269;
 * spec: evolutionary-merging.md §4 and merge-methods.md §4.2. Minimises few-shot loss + 0.05·mean|w| over
 * w ∈ [−1.5, 1.5]^N from w = 0. The reference uses Nevergrad NGOpt; modelevo uses its CMA-ES with box
 * handling (clipped evaluation + quadratic penalty, §6.4). The candidate to evaluate is `lorahubWeights(w)`.
 */
import { type Strategy } from '../strategy.js';
import { cmaEs, evaluationPoint, type CmaEsParams, type CmaEsState } from './cma-es.js';

export interface LoraHubParams {
  readonly objective: 'min';
  readonly adapters: number;
  /** evaluation budget (reference: 40) */
  readonly maxEvaluations: number;
  readonly bound: number;
  readonly l1Weight: number;
  readonly sigma0: number;
  readonly populationSize?: number;
}

export const LORAHUB_DEFAULTS = { bound: 1.5, l1Weight: 0.05, sigma0: 0.5, maxEvaluations: 40 } as const;

function cmaParams(params: LoraHubParams): CmaEsParams {
  return {
    objective: 'min',
    x0: new Array(params.adapters).fill(0),
    sigma0: params.sigma0,
    lowerBounds: new Array(params.adapters).fill(-params.bound),
    upperBounds: new Array(params.adapters).fill(params.bound),
    maxEvaluations: params.maxEvaluations,
    ...(params.populationSize !== undefined ? { populationSize: params.populationSize } : {}),
  };
}

/** The composition weights to evaluate for a sampled genome (clipped into the bounds). */
export function lorahubWeights(params: LoraHubParams, genome: readonly number[]): number[] {
  return evaluationPoint(cmaParams(params), genome);
}

/** LoraHub's objective: the mean loss plus l1Weight·mean|w| (w already within bounds). */
export function lorahubObjective(params: LoraHubParams, loss: number, weights: readonly number[]): number {
  const meanAbs = weights.reduce((a, w) => a + Math.abs(w), 0) / weights.length;
  return loss + params.l1Weight * meanAbs;
}

export const lorahub: Strategy<LoraHubParams, CmaEsState, number[]> = {
  name: 'lorahub',
  title: 'LoraHub composition weights (CMA-ES, L1 penalty, box bounds)',
  reference: 'Huang et al., LoraHub, COLM 2024, arXiv:2307.13269',
  init: (params, seed) => cmaEs.init(cmaParams(params), seed),
  ask: (params, state) => cmaEs.ask(cmaParams(params), state),
  /** `fitness` is the mean few-shot loss of each candidate; the L1 term is added here */
  tell(params, state, candidates, fitness) {
    const penalised = candidates.map((c, k) => lorahubObjective(params, fitness[k]!, lorahubWeights(params, c)));
    return cmaEs.tell(cmaParams(params), state, candidates, penalised);
  },
  stopReason: (params, state) => cmaEs.stopReason(cmaParams(params), state),
  best: (state) => cmaEs.best(state),
};
