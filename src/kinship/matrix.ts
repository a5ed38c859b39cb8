/**
 * Kinship matrices (kinship.md §1): the N×N table of pairwise kinship between models and the kinship of a
 * set, r = 2/(n(n−1)) · Σ_{i<j} sim(δ_i, δ_j) (paper Eq. 2, Hu et al., arXiv:2410.12613).
 */
import { ModelevoError, invariant } from '../core/errors.js';

/** square, symmetric, row-major; `values[i][j]` = sim(δ_i, δ_j) */
export type KinshipMatrix = number[][];

export function filledMatrix(size: number, value: number): KinshipMatrix {
  return Array.from({ length: size }, () => new Array<number>(size).fill(value));
}

export function matrixEntry(matrix: KinshipMatrix, i: number, j: number): number {
  const value = matrix[i]?.[j];
  invariant(value !== undefined, () => `kinship matrix index (${i}, ${j}) outside ${matrix.length}×${matrix.length}`);
  return value;
}

/** writes value at (i, j) and (j, i) */
export function setSymmetric(matrix: KinshipMatrix, i: number, j: number, value: number): void {
  const rowI = matrix[i];
  const rowJ = matrix[j];
  invariant(rowI !== undefined && rowJ !== undefined, () => `kinship matrix row ${i} or ${j} missing`);
  rowI[j] = value;
  rowJ[i] = value;
}

/** true when every (i, j) equals (j, i) exactly, NaN matching NaN */
export function isSymmetric(matrix: KinshipMatrix): boolean {
  for (let i = 0; i < matrix.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = matrixEntry(matrix, i, j);
      const b = matrixEntry(matrix, j, i);
      if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) return false;
    }
  }
  return true;
}

/**
 * Mean pairwise kinship of the models at `members` (all models when omitted), Eq. (2). A set of fewer than
 * two models has no pairs, which is a caller error.
 */
export function meanPairwiseKinship(matrix: KinshipMatrix, members?: readonly number[]): number {
  const indices = members ?? matrix.map((_, i) => i);
  if (indices.length < 2) {
    throw new ModelevoError('VALUE_INVALID', `mean pairwise kinship needs at least 2 models, got ${indices.length}`, {
      hint: 'pass two or more model indices',
      details: { members: indices },
    });
  }
  if (new Set(indices).size !== indices.length) {
    throw new ModelevoError('VALUE_INVALID', `mean pairwise kinship got repeated model indices [${indices.join(', ')}]`, {
      hint: 'list each model once',
    });
  }
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < indices.length; a++) {
    for (let b = a + 1; b < indices.length; b++) {
      const i = indices[a]!;
      const j = indices[b]!;
      if (i < 0 || j < 0 || i >= matrix.length || j >= matrix.length) {
        throw new ModelevoError('VALUE_INVALID', `model index ${i < 0 || i >= matrix.length ? i : j} is outside the ${matrix.length}×${matrix.length} kinship matrix`, {
          hint: `use indices 0..${matrix.length - 1}`,
        });
      }
      sum += matrixEntry(matrix, i, j);
      pairs++;
    }
  }
  return sum / pairs;
}
