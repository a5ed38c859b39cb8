/**
 * AD-NEv level 3 — gradient-free fine-tuning of trained weights (ad-nev.md §1.3; defaults from the paper's
 * convergence figure: population 24, 64 iterations, ω = 1/256, p = 0.02). Each iteration asks for a
 * population of perturbation seeds; a candidate's weights are the current parent with every weight moved
 * with probability p by w ← w + ω·z, z ~ N(0, 1) (option: multiplicative w·(1 + ω·z)); the fittest of
 * parent and candidates survives (elitist). The state stores only the accepted seeds, so weights are
 * replayed exactly from the level-2 model on resume. BatchNorm running statistics are not perturbed.
 */
import { createRng, rngFromState } from '../../core/rng.js';
import { type BaseParams, type Strategy, isBetter } from '../strategy.js';

/** named float tensors (AD-NEv's `ModelWeights` has this shape); BatchNorm running statistics are skipped by name */
export type ModelWeights = Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

export interface WeightTuningParams extends BaseParams {
  readonly populationSize: number;
  readonly iterations: number;
  readonly mutationProbability: number;
  readonly step: number;
  readonly multiplicative: boolean;
  /** fitness of the unperturbed (level-2) model under the same objective */
  readonly parentFitness: number;
}

export interface WeightTuningState {
  readonly rng: [number, number, number, number];
  readonly iteration: number;
  /** perturbation seeds accepted so far, in order */
  readonly accepted: readonly number[];
  readonly fitness: number;
}

export interface PerturbationGenome {
  /** seeds applied before this candidate's own (the parent's lineage) */
  readonly lineage: readonly number[];
  readonly seed: number;
}

export const DEFAULT_WEIGHT_TUNING = { populationSize: 24, iterations: 64, mutationProbability: 0.02, step: 1 / 256, multiplicative: false } as const;

const isPerturbable = (name: string): boolean => !name.endsWith('running_mean') && !name.endsWith('running_var');

/** Applies one seeded perturbation; a new object, the input is not modified. */
export function perturbWeights(weights: ModelWeights, seed: number, params: Pick<WeightTuningParams, 'mutationProbability' | 'step' | 'multiplicative'>): ModelWeights {
  const out: ModelWeights = {};
  for (const [name, tensor] of Object.entries(weights)) {
    if (!isPerturbable(name) || params.mutationProbability <= 0) {
      out[name] = tensor;
      continue;
    }
    const rng = createRng('ad-nev-weight-perturbation', seed, name);
    const data = tensor.data.slice();
    for (let i = 0; i < data.length; i++) {
      if (rng.next() >= params.mutationProbability) continue;
      const z = rng.normal();
      data[i] = params.multiplicative ? data[i]! * (1 + params.step * z) : data[i]! + params.step * z;
    }
    out[name] = { shape: tensor.shape, data };
  }
  return out;
}

/** The weights of a lineage of accepted seeds applied in order to the base weights. */
export function replayLineage(base: ModelWeights, lineage: readonly number[], params: Pick<WeightTuningParams, 'mutationProbability' | 'step' | 'multiplicative'>): ModelWeights {
  return lineage.reduce((w, seed) => perturbWeights(w, seed, params), base);
}

export const weightTuning: Strategy<WeightTuningParams, WeightTuningState, PerturbationGenome> = {
  name: 'weight-tuning',
  title: 'AD-NEv level 3: elitist gradient-free weight fine-tuning',
  reference: 'Faber et al., AD-NEv, arXiv 2303.11358 (ad-nev.md §1.3)',
  init(params, seed) {
    return { rng: createRng('ad-nev-weight-tuning', seed).state(), iteration: 0, accepted: [], fitness: params.parentFitness };
  },
  ask(params, state) {
    const rng = rngFromState(state.rng);
    const candidates = Array.from({ length: params.populationSize }, () => ({ lineage: state.accepted, seed: rng.nextUint32() }));
    return { candidates, state: { ...state, rng: rng.state() } };
  },
  tell(params, state, candidates, fitness) {
    let best = -1;
    let bestFitness = state.fitness;
    fitness.forEach((f, i) => {
      if (isBetter(params.objective, f, bestFitness)) {
        best = i;
        bestFitness = f;
      }
    });
    const accepted = best >= 0 ? [...state.accepted, candidates[best]!.seed] : state.accepted;
    return {
      state: { ...state, iteration: state.iteration + 1, accepted, fitness: bestFitness },
      metrics: { iteration: state.iteration + 1, best: bestFitness, improved: best >= 0 ? 1 : 0 },
    };
  },
  stopReason(params, state) {
    return state.iteration >= params.iterations ? 'iterations' : undefined;
  },
  best(state) {
    return { genome: { lineage: state.accepted.slice(0, -1), seed: state.accepted[state.accepted.length - 1] ?? -1 }, fitness: state.fitness };
  },
};
