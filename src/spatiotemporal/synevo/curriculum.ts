/**
 * SynEVO curriculum-guided reordering (Liu et al., "SynEVO", arXiv 2505.16080; synevo.md §2.1, Eq. 5–7).
 * Pure math over per-group gradients: difficulty `sum_c = Σ_i ‖∇_i‖²`, signature `cat_c = [flat(∇_1) ‖ … ]`,
 * bench = argmin difficulty, distance `l(d_c) = ‖cat_c − cat_bench‖₂`, order by ascending l (easy → hard).
 * The gradients come from `scoreGroups` (group-scoring.ts).
 */
import { ModelevoError } from '../../core/errors.js';

/** Per-tensor gradients of one group, by tensor name. */
export type GroupGradients = Readonly<Record<string, Float32Array>>;

export interface CurriculumEntry {
  readonly group: string;
  /** Σ‖∇_i‖² (Eq. 5) */
  readonly difficulty: number;
  /** ‖cat_c − cat_bench‖₂ (Eq. 7) */
  readonly distance: number;
}

export interface Curriculum {
  readonly bench: string;
  /** groups by ascending distance (bench first) */
  readonly order: readonly CurriculumEntry[];
  /** d_max = max_c l(d_c) */
  readonly maxDistance: number;
}

/** Eq. (5): Σ_i ‖∇_i‖₂², in float64. */
export function gradientDifficulty(gradients: GroupGradients): number {
  let sum = 0;
  for (const name of Object.keys(gradients).sort()) for (const g of gradients[name]!) sum += g * g;
  return sum;
}

/** ‖cat_a − cat_b‖₂ over the tensors of `a` in name order (both must hold the same tensors and sizes). */
export function signatureDistance(a: GroupGradients, b: GroupGradients): number {
  let sum = 0;
  for (const name of Object.keys(a).sort()) {
    const x = a[name]!;
    const y = b[name];
    if (!y || y.length !== x.length) {
      throw new ModelevoError('SHAPE_MISMATCH', `signatureDistance: tensor '${name}' has ${x.length} gradient entries in one group and ${y?.length ?? 'none'} in the other`, {
        hint: 'every group must be scored with the same backbone configuration',
        details: { tensor: name },
      });
    }
    for (let i = 0; i < x.length; i++) sum += (x[i]! - y[i]!) ** 2;
  }
  return Math.sqrt(sum);
}

/**
 * Eq. (6–7): bench = argmin difficulty (ties: first in input order), then ascending distance to the bench
 * (ties: input order, so the order is deterministic).
 */
export function curriculumOrder(groups: readonly { readonly group: string; readonly gradients: GroupGradients }[]): Curriculum {
  if (groups.length === 0) throw new ModelevoError('VALUE_INVALID', 'curriculumOrder: expected at least one group, found none', { hint: 'check the domain split' });
  const difficulties = groups.map((g) => gradientDifficulty(g.gradients));
  let benchIndex = 0;
  difficulties.forEach((d, i) => {
    if (d < difficulties[benchIndex]!) benchIndex = i;
  });
  const bench = groups[benchIndex]!;
  const entries = groups.map((g, i) => ({ group: g.group, difficulty: difficulties[i]!, distance: i === benchIndex ? 0 : signatureDistance(g.gradients, bench.gradients), index: i }));
  entries.sort((a, b) => a.distance - b.distance || (a.index === benchIndex ? -1 : b.index === benchIndex ? 1 : a.index - b.index));
  return {
    bench: bench.group,
    order: entries.map(({ group, difficulty, distance }) => ({ group, difficulty, distance })),
    maxDistance: Math.max(...entries.map((e) => e.distance)),
  };
}
