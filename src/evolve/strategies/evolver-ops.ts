/**
 * Evolver's element-wise operators (Du et al., "Knowledge Fusion By Evolving Weights of Language Models",
 * Findings of ACL 2024, arXiv:2406.12208; spec: evolver.md §2, §4). Pure per-tensor functions: an offspring
 * tensor is a function of the parent's and partners' tensors, the recipe, and a mask stream keyed by
 * (run seed, generation, slot, tensor name), so results never depend on tensor order or worker count.
 */
import { createRng } from '../../core/rng.js';

export type MutationVariant = 'interpolate' | 'rand/1' | 'current-to-best/1';

/** minimum population size per variant (evolver.md §2 table) */
export const MUTATION_MIN_POPULATION: Record<MutationVariant, number> = {
  interpolate: 2,
  'rand/1': 4,
  'current-to-best/1': 3,
};

export interface OffspringRecipe {
  readonly generation: number;
  /** population slot the offspring competes for */
  readonly slot: number;
  readonly mutation: MutationVariant;
  /** interpolate: [ref]; rand/1: [r1, r2, r3]; current-to-best/1: [best, r1, r2] — individual ids */
  readonly parent: string;
  readonly partners: readonly string[];
  readonly F: number;
  readonly CR: number;
  /** flat genome index forced to come from the mutant (`jrand: true`), or null */
  readonly jrandIndex: number | null;
  readonly runSeed: number;
}

/** the mutant's value at one element: an affine combination whose coefficients sum to 1 */
function mutant(recipe: OffspringRecipe, x: number, p: readonly Float32Array[], j: number): number {
  const F = recipe.F;
  switch (recipe.mutation) {
    case 'interpolate':
      return x + F * (p[0]![j]! - x);
    case 'rand/1':
      return p[0]![j]! + F * (p[1]![j]! - p[2]![j]!);
    case 'current-to-best/1':
      return x + F * (p[0]![j]! - x) + F * (p[1]![j]! - p[2]![j]!);
  }
}

/**
 * Offspring tensor: binomial crossover of parent and mutant. `flatOffset` is the tensor's first index in
 * the whole-model flat genome (tensor order), used only for the forced `jrand` index.
 */
export function offspringTensor(
  recipe: OffspringRecipe,
  tensorName: string,
  parent: Float32Array,
  partners: readonly Float32Array[],
  flatOffset: number,
): Float32Array {
  const out = new Float32Array(parent.length);
  const rng = createRng(recipe.runSeed, 'evolver-crossover', recipe.generation, recipe.slot, tensorName);
  const forced = recipe.jrandIndex !== null ? recipe.jrandIndex - flatOffset : -1;
  for (let j = 0; j < parent.length; j++) {
    const fromMutant = rng.next() < recipe.CR || j === forced;
    out[j] = fromMutant ? mutant(recipe, parent[j]!, partners, j) : parent[j]!;
  }
  return out;
}
