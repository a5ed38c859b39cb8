/**
 * Truncated SVD for LoRA extraction (merge-methods.md §4.3). Two paths over a row-major float64 matrix:
 *
 * - exact: ml-matrix's `SingularValueDecomposition` (Golub–Kahan–Reinsch, as in JAMA), all min(m, n)
 *   singular values, sorted descending;
 * - randomized: Halko, Martinsson & Tropp, "Finding structure with randomness", SIAM Review 2011,
 *   arXiv 0909.4061, Algorithm 4.4 (randomized subspace iteration) + Algorithm 5.1 (direct SVD). A seeded
 *   Gaussian test matrix Ω (n × ℓ, ℓ = k + p, oversampling p = 10), q = 2 power iterations with the basis
 *   re-orthonormalised after every product (so rounding does not collapse it onto σ₁), then the exact SVD of
 *   the small ℓ × n matrix QᵀA. Only the top ℓ singular values are returned.
 *
 * Bases are stored as rows (a set of vectors, each contiguous), so every inner loop runs over contiguous
 * memory.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { Rng } from '../core/rng.js';

export const RANDOMIZED_OVERSAMPLING = 10;
export const RANDOMIZED_POWER_ITERATIONS = 2;

/** A = U·diag(s)·Vᵀ restricted to `s.length` components. */
export interface SvdResult {
  /** singular values, descending */
  readonly s: Float64Array;
  /** rows × s.length, row-major (left singular vectors as columns) */
  readonly u: Float64Array;
  /** cols × s.length, row-major (right singular vectors as columns) */
  readonly v: Float64Array;
}

/** Every singular triple of the `rows × cols` matrix `a` (row-major). */
export function exactSvd(a: Float64Array, rows: number, cols: number): SvdResult {
  const matrix = new Matrix(Array.from({ length: rows }, (_, r) => a.subarray(r * cols, (r + 1) * cols)));
  const svd = new SingularValueDecomposition(matrix, { autoTranspose: true });
  const p = Math.min(rows, cols);
  const s = Float64Array.from(svd.diagonal.slice(0, p));
  const left = svd.leftSingularVectors;
  const right = svd.rightSingularVectors;
  const u = new Float64Array(rows * p);
  const v = new Float64Array(cols * p);
  for (let r = 0; r < rows; r++) for (let j = 0; j < p; j++) u[r * p + j] = left.get(r, j);
  for (let c = 0; c < cols; c++) for (let j = 0; j < p; j++) v[c * p + j] = right.get(c, j);
  return { s, u, v };
}

/** Each row x of `vectors` (count × cols) → A·x (count × rows). */
function applyA(a: Float64Array, rows: number, cols: number, vectors: Float64Array, count: number): Float64Array {
  const out = new Float64Array(count * rows);
  for (let i = 0; i < count; i++) {
    const x = vectors.subarray(i * cols, (i + 1) * cols);
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      const offset = r * cols;
      for (let c = 0; c < cols; c++) dot += a[offset + c]! * x[c]!;
      out[i * rows + r] = dot;
    }
  }
  return out;
}

/** Each row y of `vectors` (count × rows) → Aᵀ·y (count × cols). */
function applyAT(a: Float64Array, rows: number, cols: number, vectors: Float64Array, count: number): Float64Array {
  const out = new Float64Array(count * cols);
  for (let i = 0; i < count; i++) {
    const target = out.subarray(i * cols, (i + 1) * cols);
    for (let r = 0; r < rows; r++) {
      const y = vectors[i * rows + r]!;
      if (y === 0) continue;
      const offset = r * cols;
      for (let c = 0; c < cols; c++) target[c] = target[c]! + y * a[offset + c]!;
    }
  }
  return out;
}

/**
 * Orthonormalises the `count` rows (length `length`) in place by modified Gram–Schmidt, run twice per vector
 * ("twice is enough", Giraud et al. 2005) so the basis stays orthogonal to rounding. A vector with nothing
 * left after projection (the range has lower dimension) becomes zero.
 */
export function orthonormalizeRows(vectors: Float64Array, count: number, length: number): void {
  for (let i = 0; i < count; i++) {
    const x = vectors.subarray(i * length, (i + 1) * length);
    let before = 0;
    for (let t = 0; t < length; t++) before += x[t]! * x[t]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const q = vectors.subarray(j * length, (j + 1) * length);
        let dot = 0;
        for (let t = 0; t < length; t++) dot += q[t]! * x[t]!;
        for (let t = 0; t < length; t++) x[t] = x[t]! - dot * q[t]!;
      }
    }
    let norm = 0;
    for (let t = 0; t < length; t++) norm += x[t]! * x[t]!;
    // below this the vector is rounding noise of earlier directions, not a new direction
    if (!(norm > before * 1e-28)) {
      x.fill(0);
      continue;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let t = 0; t < length; t++) x[t] = x[t]! * inv;
  }
}

export interface RandomizedSvdOptions {
  readonly rng: Rng;
  readonly oversampling?: number;
  readonly powerIterations?: number;
}

/** The top min(k + p, rows, cols) singular triples, approximately (Halko et al. 2011, Alg. 4.4 + 5.1). */
export function randomizedSvd(a: Float64Array, rows: number, cols: number, k: number, options: RandomizedSvdOptions): SvdResult {
  const oversampling = options.oversampling ?? RANDOMIZED_OVERSAMPLING;
  const powerIterations = options.powerIterations ?? RANDOMIZED_POWER_ITERATIONS;
  const width = Math.min(k + oversampling, rows, cols);
  const omega = new Float64Array(width * cols);
  for (let j = 0; j < omega.length; j++) omega[j] = options.rng.normal();
  let q = applyA(a, rows, cols, omega, width); // Y = AΩ, as rows
  orthonormalizeRows(q, width, rows);
  for (let iteration = 0; iteration < powerIterations; iteration++) {
    const z = applyAT(a, rows, cols, q, width); // Z = AᵀQ
    orthonormalizeRows(z, width, cols);
    q = applyA(a, rows, cols, z, width); // Y = AZ
    orthonormalizeRows(q, width, rows);
  }
  const small = applyAT(a, rows, cols, q, width); // rows of QᵀA: width × cols
  const reduced = exactSvd(small, width, cols);
  const p = reduced.s.length;
  // U = Q·Ũ, with Q's columns stored as the rows of q
  const u = new Float64Array(rows * p);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) {
      const basis = q[i * rows + r]!;
      if (basis === 0) continue;
      for (let j = 0; j < p; j++) u[r * p + j] = u[r * p + j]! + basis * reduced.u[i * p + j]!;
    }
  }
  return { s: reduced.s, u, v: reduced.v };
}
