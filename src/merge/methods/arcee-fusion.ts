/**
 * Arcee Fusion — mergekit `arcee_fusion.py` (MergeKit v0.1 announcement). merge-methods.md §3.10: take the
 * fine-tune's entries whose importance |X − B|·KL(softmax(X_row) ‖ softmax(B_row)) is an upper outlier
 * (at least median + 1.5·IQR); keep the base elsewhere. By default (`mergekit_compat: true`) the numbers follow
 * current mergekit: softmax, KL and importance in float32, and each quartile is the LOWER order statistic
 * `sorted[⌊q·(n−1)⌋]` (mergekit's `approximate_quantiles`). `mergekit_compat: false` computes KL in float64 and
 * interpolates between order statistics. All n elements are used; `quantile_sample_size` switches to a seeded
 * sample like mergekit's 10⁶-element sample for larger tensors. Allowed differences: docs/mergekit-compat.md.
 */
import type { Rng } from '../../core/rng.js';
import type { MergeMethod } from '../method.js';
import { checkElementCounts, numberParam, requireBase, requireModelCount } from '../method-params.js';

const NAME = 'arcee_fusion';
const PROBABILITY_FLOOR = 1e-8;

export const arceeFusion: MergeMethod = {
  name: NAME,
  title: 'Arcee Fusion (KL-weighted outlier selection)',
  reference: 'mergekit arcee_fusion.py',
  baseModel: 'required',
  models: { min: 1, max: 1 },
  params: [
    {
      name: 'quantile_sample_size',
      scope: 'global',
      type: 'number',
      default: 0,
      description: 'estimate the threshold quantiles on this many seeded random elements (mergekit samples 1e6); 0 = exact',
    },
    {
      name: 'mergekit_compat',
      scope: 'global',
      type: 'boolean',
      default: true,
      description: 'true: float32 KL and lower-order-statistic quartiles (current mergekit); false: float64 KL, interpolated quartiles',
    },
  ],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1, 1);
    const base = requireBase(input, NAME);
    const numel = checkElementCounts(input);
    const tuned = input.models[0]!;
    const rowLength = input.shape.length > 0 ? input.shape[input.shape.length - 1]! : numel;
    const compat = input.params['mergekit_compat'] !== false;
    const importance = new Float64Array(numel);
    for (let start = 0; start < numel; start += Math.max(rowLength, 1)) {
      const end = Math.min(numel, start + rowLength);
      if (compat) {
        const kl = rowDivergenceFloat32(tuned, base, start, end);
        for (let j = start; j < end; j++) importance[j] = Math.fround(Math.abs(Math.fround(tuned[j]! - base[j]!)) * kl); // step 2
      } else {
        const kl = rowDivergence(tuned, base, start, end);
        for (let j = start; j < end; j++) importance[j] = Math.abs(tuned[j]! - base[j]!) * kl; // step 2
      }
    }
    const sampleSize = numberParam(input.params, 'quantile_sample_size', NAME, input.tensorName);
    const scores = sampleSize > 0 && sampleSize < numel ? sampleWithReplacement(importance, sampleSize, input.rngFor(0)) : importance;
    const threshold = compat ? outlierThresholdLowerFloat32(scores) : outlierThreshold(scores);
    const out = new Float32Array(numel);
    // B + [I ≥ τ]·(X − B) is exactly X or B, so select instead of adding the difference back
    for (let j = 0; j < numel; j++) out[j] = importance[j]! >= threshold ? tuned[j]! : base[j]!;
    return out;
  },
};

/** KL(p ‖ q) with p = softmax(X_row) + 1e-8, q = softmax(B_row) + 1e-8, in double (step 1). */
export function rowDivergence(tuned: Float32Array, base: Float32Array, start: number, end: number): number {
  return rowDivergenceRounded(tuned, base, start, end, (x) => x);
}

/**
 * The same KL with every operation rounded to float32, as torch computes it for float32 tensors (the
 * summation order differs from torch's vectorised reduction: last-bit differences, docs/mergekit-compat.md).
 */
export function rowDivergenceFloat32(tuned: Float32Array, base: Float32Array, start: number, end: number): number {
  return rowDivergenceRounded(tuned, base, start, end, Math.fround);
}

/** one KL loop for both precisions: `f` rounds every intermediate (identity: double, Math.fround: float32) */
function rowDivergenceRounded(tuned: Float32Array, base: Float32Array, start: number, end: number, f: (x: number) => number): number {
  const floor = f(PROBABILITY_FLOOR);
  let maxTuned = -Infinity;
  let maxBase = -Infinity;
  for (let j = start; j < end; j++) {
    maxTuned = Math.max(maxTuned, tuned[j]!);
    maxBase = Math.max(maxBase, base[j]!);
  }
  let sumTuned = 0;
  let sumBase = 0;
  for (let j = start; j < end; j++) {
    sumTuned = f(sumTuned + f(Math.exp(f(tuned[j]! - maxTuned))));
    sumBase = f(sumBase + f(Math.exp(f(base[j]! - maxBase))));
  }
  let kl = 0;
  for (let j = start; j < end; j++) {
    const p = f(f(f(Math.exp(f(tuned[j]! - maxTuned))) / sumTuned) + floor);
    const q = f(f(f(Math.exp(f(base[j]! - maxBase))) / sumBase) + floor);
    kl = f(kl + f(p * f(Math.log(f(p / q)))));
  }
  return kl;
}

/** mergekit's threshold: median + 1.5·(Q3 − Q1) in float32, each quantile the lower order statistic. */
export function outlierThresholdLowerFloat32(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => (sorted.length === 0 ? 0 : sorted[Math.floor(q * (sorted.length - 1))]!);
  const f = Math.fround;
  return f(at(0.5) + f(1.5 * f(at(0.75) - at(0.25))));
}

/** median + 1.5·(Q3 − Q1), quantiles by linear interpolation between order statistics (step 3). */
export function outlierThreshold(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const q1 = quantileOfSorted(sorted, 0.25);
  const median = quantileOfSorted(sorted, 0.5);
  const q3 = quantileOfSorted(sorted, 0.75);
  return median + 1.5 * (q3 - q1);
}

/** `size` elements drawn uniformly with replacement from the tensor's seeded stream (§0). */
function sampleWithReplacement(values: Float64Array, size: number, rng: Rng): Float64Array {
  const sample = new Float64Array(Math.floor(size));
  for (let k = 0; k < sample.length; k++) sample[k] = values[rng.int(values.length)]!;
  return sample;
}

export function quantileOfSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const fraction = position - below;
  return sorted[below]! + fraction * (sorted[above]! - sorted[below]!);
}
