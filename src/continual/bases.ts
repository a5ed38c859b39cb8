/**
 * Basis memory for gradient projection (fs-dgpm.md §1–§2):
 * - GPM (Saha, Garg, Roy, ICLR 2021, arXiv:2103.09762): energy criterion on the representation's SVD, later
 *   tasks add bases of the residual R − MMᵀR only; Λ = I.
 * - SGP (Saha & Roy, AAAI 2023, arXiv:2302.01386): the same bases, each with importance
 *   λ = (α+1)σ/(α·σ + σ_max).
 * - FS-DGPM (Deng et al., NeurIPS 2021, arXiv:2110.04593): bases recomputed from scratch from replay samples
 *   of all tasks (importance is learned elsewhere, see projection.ts).
 *
 * Energy criterion: modelevo keeps the smallest r that **meets** the inequality (GPM/SGP's code keeps one
 * fewer; FS-DGPM's meets it, §1.3). Bases are never more than the layer's input dimension.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

/** Left singular vectors (columns) and singular values, descending. */
export function leftSvd(R: Matrix): { U: Matrix; sigma: number[] } {
  const svd = new SingularValueDecomposition(R, { computeLeftSingularVectors: true, computeRightSingularVectors: false, autoTranspose: true });
  return { U: svd.leftSingularVectors, sigma: svd.diagonal.map((s) => Math.max(s, 0)) };
}

/**
 * The smallest r with (captured + Σ_{i<r} σ_i²) / total ≥ threshold; 0 when `captured` already meets it.
 * `total` defaults to Σσ² + captured. Returns σ.length when even all of them fall short (rounding).
 */
export function energyRank(sigma: readonly number[], threshold: number, captured = 0, total?: number): number {
  const energy = total ?? sigma.reduce((a, s) => a + s * s, captured);
  if (energy <= 0) return 0;
  let accumulated = captured;
  // Eq. (GPM 8/9): compare before adding so r = 0 is possible on later tasks
  for (let r = 0; r < sigma.length; r++) {
    if (accumulated / energy >= threshold) return r;
    accumulated += sigma[r]! * sigma[r]!;
  }
  return sigma.length;
}

export function frobeniusSquared(A: Matrix): number {
  let sum = 0;
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.columns; j++) sum += A.get(i, j) ** 2;
  return sum;
}

function firstColumns(U: Matrix, r: number): Matrix {
  return U.subMatrix(0, U.rows - 1, 0, r - 1);
}

export interface BasisUpdate {
  /** input dim × rank, orthonormal columns; null while empty */
  basis: Matrix | null;
  /** how many columns this update added */
  added: number;
  /** singular values behind the added columns, descending */
  addedSigma: number[];
  /** largest singular value of this task's representation */
  sigmaMax: number;
}

/** GPM memory update (§1.3): a first SVD, or the residual's SVD after projecting out the stored basis. */
export function updateBasis(basis: Matrix | null, R: Matrix, threshold: number): BasisUpdate {
  const maxRank = R.rows;
  if (basis === null || basis.columns === 0) {
    const { U, sigma } = leftSvd(R);
    const r = Math.min(energyRank(sigma, threshold), maxRank);
    return { basis: r > 0 ? firstColumns(U, r) : null, added: r, addedSigma: sigma.slice(0, r), sigmaMax: sigma[0] ?? 0 };
  }
  const total = frobeniusSquared(R);
  const residual = R.clone().sub(basis.mmul(basis.transpose().mmul(R)));
  const residualEnergy = frobeniusSquared(residual);
  const { U, sigma } = leftSvd(residual);
  const room = Math.max(maxRank - basis.columns, 0);
  const r = Math.min(energyRank(sigma, threshold, total - residualEnergy, total), room, U.columns);
  const sigmaMax = leftSvd(R).sigma[0] ?? 0;
  if (r === 0) return { basis, added: 0, addedSigma: [], sigmaMax };
  const appended = appendOrthonormal(basis, firstColumns(U, r));
  return { basis: appended.basis, added: appended.kept.length, addedSigma: appended.kept.map((j) => sigma[j]!), sigmaMax };
}

/** FS-DGPM (§1.4): bases recomputed from scratch from a representation of replayed samples of all tasks. */
export function recomputeBasis(R: Matrix, threshold: number): BasisUpdate {
  return updateBasis(null, R, threshold);
}

export function concatColumns(A: Matrix, B: Matrix): Matrix {
  const out = new Matrix(A.rows, A.columns + B.columns);
  out.setSubMatrix(A, 0, 0);
  out.setSubMatrix(B, 0, A.columns);
  return out;
}

/**
 * [A, B] with B's columns re-orthonormalised against A's and each other (modified Gram–Schmidt, two passes):
 * residual bases are orthogonal to the stored ones only up to the SVD's rounding, and that drift would
 * accumulate over many tasks. A must already be orthonormal.
 */
export function appendOrthonormal(A: Matrix, B: Matrix): { basis: Matrix; kept: number[] } {
  const d = A.rows;
  const columns: Float64Array[] = [];
  const kept: number[] = [];
  for (let j = 0; j < A.columns; j++) columns.push(Float64Array.from(A.getColumn(j)));
  for (let j = 0; j < B.columns; j++) {
    const v = Float64Array.from(B.getColumn(j));
    for (let pass = 0; pass < 2; pass++) {
      for (const q of columns) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += q[k]! * v[k]!;
        for (let k = 0; k < d; k++) v[k] = v[k]! - dot * q[k]!;
      }
    }
    let norm = 0;
    for (let k = 0; k < d; k++) norm += v[k]! * v[k]!;
    norm = Math.sqrt(norm);
    if (norm < 1e-10) continue; // numerically inside span(A): nothing new to protect
    for (let k = 0; k < d; k++) v[k] = v[k]! / norm;
    columns.push(v);
    kept.push(j);
  }
  const out = new Matrix(d, columns.length);
  columns.forEach((column, j) => {
    for (let k = 0; k < d; k++) out.set(k, j, column[k]!);
  });
  return { basis: out, kept };
}

/** SGP's scaling (§2): (α+1)σ/(α·σ + σ_max), 1 for σ = σ_max, in [0, 1] for 0 ≤ σ ≤ σ_max. */
export function sgpScale(sigma: number, sigmaMax: number, alpha: number): number {
  if (sigmaMax <= 0) return 0;
  return ((alpha + 1) * sigma) / (alpha * sigma + sigmaMax);
}

export interface SgpMemory {
  basis: Matrix | null;
  importance: number[];
}

/**
 * SGP memory update (§2). An old basis m_i's importance on the new task is √(Σ_j (m_iᵀu_j)²σ_j²) over the
 * SVD of MMᵀR; since MMᵀR = UΣVᵀ and MᵀM = I this equals ‖m_iᵀR‖₂, computed that way. All raw values of
 * one task (old-on-new and the new residual σ̂) are scaled with that task's σ_max(R), which bounds both, so
 * the scaled values lie in [0, 1]; old importance = min(1, previous + scaled), new bases get scaled σ̂.
 */
export function updateSgpMemory(memory: SgpMemory, R: Matrix, threshold: number, alpha: number): SgpMemory {
  const update = updateBasis(memory.basis, R, threshold);
  const old = memory.basis;
  const oldImportance = memory.importance.map((previous, i) => {
    const projection = old!.getColumnVector(i).transpose().mmul(R);
    const raw = Math.sqrt(frobeniusSquared(projection));
    return Math.min(1, previous + sgpScale(raw, update.sigmaMax, alpha));
  });
  const fresh = update.addedSigma.map((s) => Math.min(1, sgpScale(s, update.sigmaMax, alpha)));
  return { basis: update.basis, importance: [...oldImportance, ...fresh] };
}
