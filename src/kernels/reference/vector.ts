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

/** ‖a‖₂ (float64). */
export function norm(a: NumericArray): number {
  return Math.sqrt(squaredNorm(a));
}

/** ⟨a − c, b − c⟩ without materialising the differences (task-vector dots against a shared base). */
export function offsetDot(a: NumericArray, b: NumericArray, center: NumericArray): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += (a[j]! - center[j]!) * (b[j]! - center[j]!);
  return sum;
}

/** ‖a − c‖² without materialising the difference. */
export function offsetSquaredNorm(a: NumericArray, center: NumericArray): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) {
    const d = a[j]! - center[j]!;
    sum += d * d;
  }
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
