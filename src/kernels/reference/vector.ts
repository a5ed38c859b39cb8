/**
 * Plain-TS vector reductions shared by the merge methods (merge-methods.md §0): every reduction accumulates
 * in float64 whatever the element type, so results do not depend on tensor size the way float32 sums do.
 * Element-wise combinations are evaluated in double and rounded once, when stored into a Float32Array.
 * These are the reference definitions; faster kernels must agree with them.
 */

export type NumericArray = Float32Array | Float64Array;

/** ⟨a, b⟩ accumulated in float64. */
export function dot(a: NumericArray, b: NumericArray): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[j]!;
  return sum;
}

/** ‖a‖² accumulated in float64. */
export function squaredNorm(a: NumericArray): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * a[j]!;
  return sum;
}


/**
 * Σ_i w_i·x_i per element, accumulated in double and rounded once to float32. Zero weights are skipped and
 * the sum starts at −0 (the identity of IEEE addition), so a one-hot sum is the chosen input bit for bit.
 */
export function weightedSum(arrays: readonly NumericArray[], weights: readonly number[], length: number): Float32Array {
  const out = new Float32Array(length);
  const used = arrays.map((array, i) => ({ array, weight: weights[i]! })).filter((term) => term.weight !== 0);
  for (let j = 0; j < length; j++) {
    let sum = -0;
    for (const term of used) sum += term.weight * term.array[j]!;
    out[j] = sum;
  }
  return out;
}

/**
 * Σ_i w_i·x_i per element in float32 arithmetic (merge-methods.md §0's convention for element-wise arithmetic):
 * each weight rounded to float32 once, then every product and every partial sum rounded to float32, adding in
 * input order from −0 and skipping weights that round to zero. The definition the float32 linear kernel
 * (assembly/merge-f32.ts `linearF32`) reproduces bit for bit; see `float32SumErrorBound` for its distance from
 * `weightedSum`.
 */
export function weightedSumFloat32(arrays: readonly NumericArray[], weights: readonly number[], length: number): Float32Array {
  const out = new Float32Array(length);
  const used = arrays.map((array, i) => ({ array, weight: Math.fround(weights[i]!) })).filter((term) => term.weight !== 0);
  for (let j = 0; j < length; j++) {
    let sum = -0;
    for (const term of used) sum = Math.fround(sum + Math.fround(term.weight * term.array[j]!));
    out[j] = sum;
  }
  return out;
}

/**
 * Largest |weightedSumFloat32 − weightedSum| for one element, both as float32, given `absTermSum` = Σ_i |w_i·x_i|
 * over `count` inputs: (count + 3)·2⁻²⁴·Σ|w_i·x_i| — one rounding per weight, product and addition (count + 1
 * units: the standard first-order bound for a recursive float32 sum), one for the float64 sum's own rounding to
 * float32, and one that covers every second-order term — plus (count + 1)·2⁻¹⁴⁹ for roundings in the subnormal
 * range, where float32's error is absolute (≤ 2⁻¹⁵⁰ each), not relative. Holds while no partial sum overflows.
 */
export function float32SumErrorBound(absTermSum: number, count: number): number {
  return (count + 3) * 2 ** -24 * absTermSum + (count + 1) * 2 ** -149;
}

/** (1−t)·a + t·b per element, rounded once to float32. t = 0 and t = 1 reproduce a and b exactly. */
export function lerp(a: NumericArray, b: NumericArray, t: number): Float32Array {
  const out = new Float32Array(a.length);
  const s = 1 - t;
  for (let j = 0; j < a.length; j++) out[j] = s * a[j]! + t * b[j]!;
  return out;
}

/** s0·a + s1·b per element, rounded once to float32. */
export function linearCombination(a: NumericArray, s0: number, b: NumericArray, s1: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let j = 0; j < a.length; j++) out[j] = s0 * a[j]! + s1 * b[j]!;
  return out;
}

const FLOAT32_MIN_NORMAL = 2 ** -126;
const FLOAT32_MAX = 3.4028234663852886e38;

/** float32 arithmetic (linear, the task-vector mix) is used only when every weight is 0 or a normal float32, so rounding it loses no term. */
export function float32Weights(weights: readonly number[]): boolean {
  return weights.every((w) => w === 0 || (Math.abs(w) >= FLOAT32_MIN_NORMAL && Math.abs(w) <= FLOAT32_MAX));
}
