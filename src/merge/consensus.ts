/**
 * Sign consensus and mixing of weighted task vectors (merge-methods.md §3.6 steps 3–7, §6 P9): TIES "elect"
 * and "disjoint merge" (Yadav et al., NeurIPS 2023, arXiv 2306.01708) as mergekit computes them — the
 * elected sign is +1 where Σ_i w_i·δ_i ≥ 0 (an exact zero goes to +1), pruned zeros never agree, and the
 * divisor is the sum of the agreeing models' weights. Per-element sums run in float64 and the output is
 * rounded once to float32.
 */
import { invariant } from '../core/errors.js';

/** Elected sign per element, +1 or −1, from Σ_i weights[i]·deltas[i] (ties → +1). */
export function electSigns(deltas: readonly Float32Array[], weights: readonly number[]): Int8Array {
  const n = deltas[0]?.length ?? 0;
  const signs = new Int8Array(n);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let i = 0; i < deltas.length; i++) sum += weights[i]! * deltas[i]![j]!;
    signs[j] = sum >= 0 ? 1 : -1;
  }
  return signs;
}

export interface CombineOptions {
  /** base tensor B */
  readonly base: Float32Array;
  /** sparsified (and rescaled) task vectors δ_i */
  readonly deltas: readonly Float32Array[];
  /** per-model weights w_i (may be negative) */
  readonly weights: readonly number[];
  /** TIES sign election and disjoint mixing */
  readonly consensus: boolean;
  /** divide by the (agreeing) weight sum */
  readonly normalize: boolean;
  /** λ */
  readonly lambda: number;
}

/** Divisors this close to zero are replaced by 1 (§3.6 step 5). */
const DIVISOR_FLOOR = 1e-8;

/** out = B + λ·Δ with Δ the (consensus-masked, optionally normalised) sum of w_i·δ_i (§3.6 steps 3–7). */
export function combineTaskVectors(options: CombineOptions): Float32Array {
  const { base, deltas, weights, consensus, normalize, lambda } = options;
  const n = base.length;
  const models = deltas.length;
  invariant(weights.length === models, () => `${weights.length} weights for ${models} task vectors`);
  for (const delta of deltas) invariant(delta.length === n, () => `task vector length ${delta.length} != base length ${n}`);
  const out = new Float32Array(n);
  const weighted = new Float64Array(models);
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  const plainDivisor = Math.abs(weightSum) < DIVISOR_FLOOR ? 1 : weightSum;

  for (let j = 0; j < n; j++) {
    let total = 0;
    for (let i = 0; i < models; i++) {
      const d = weights[i]! * deltas[i]![j]!; // D_i = w_i·δ_i
      weighted[i] = d;
      total += d;
    }
    let mixed = total;
    let divisor = plainDivisor;
    if (consensus) {
      const positive = total >= 0;
      mixed = 0;
      divisor = 0;
      for (let i = 0; i < models; i++) {
        const d = weighted[i]!;
        if (positive ? d > 0 : d < 0) {
          mixed += d;
          divisor += weights[i]!;
        }
      }
      if (Math.abs(divisor) < DIVISOR_FLOOR) divisor = 1;
    }
    out[j] = base[j]! + lambda * (normalize ? mixed / divisor : mixed);
  }
  return out;
}
