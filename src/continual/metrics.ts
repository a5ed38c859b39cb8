/**
 * Continual-learning metrics over the accuracy matrix (fs-dgpm.md §6). `R[i][j]` is the test accuracy on
 * task j after training task i (0-based here; T tasks, so the final row is R[T-1]).
 *
 * - ACC = (1/T)·Σ_j R[T-1][j]
 * - BWT, `bwtOver: 'previous'` (default; GEM, Lopez-Paz & Ranzato NeurIPS 2017, and GPM/SGP):
 *   mean over j < T-1 of (R[T-1][j] − R[j][j]).
 *   `bwtOver: 'all'` (FS-DGPM's main.py): the same sum divided by T (the last task's term is 0), so it is
 *   (T−1)/T times the default.
 * - Forgetting (Chaudhry et al., ECCV 2018): mean over j < T-1 of (max_{l<T-1} R[l][j] − R[T-1][j]).
 *   Avalanche's per-experience forgetting uses the accuracy right after training instead of the max, and
 *   reports BWT = −forgetting; that equals −BWT(previous) here.
 * - Learning accuracy LA (Riemer et al., ICLR 2019, "learning accuracy"): (1/T)·Σ_j R[j][j], the accuracy on each
 *   task right after training it (plasticity). ACC = LA + BWT(all) exactly, so an ACC gap between two methods
 *   splits into a plasticity part and a forgetting part.
 * Accuracies are fractions in [0, 1]; results keep that unit.
 */
import { ModelevoError } from '../core/errors.js';

export type AccuracyMatrix = readonly (readonly number[])[];
export type BwtConvention = 'previous' | 'all';

function checkSquare(R: AccuracyMatrix, fn: string): number {
  const T = R.length;
  if (T === 0 || R.some((row) => row.length !== T)) {
    throw new ModelevoError('VALUE_INVALID', `${fn}: expected a non-empty T×T accuracy matrix, got rows of lengths [${R.map((r) => r.length).join(', ')}]`, {
      hint: 'R[i][j] must hold the accuracy on every task j after training each task i',
    });
  }
  return T;
}

const at = (R: AccuracyMatrix, i: number, j: number): number => R[i]![j]!;

export function averageAccuracy(R: AccuracyMatrix): number {
  const T = checkSquare(R, 'averageAccuracy');
  let sum = 0;
  for (let j = 0; j < T; j++) sum += at(R, T - 1, j);
  return sum / T;
}

export function backwardTransfer(R: AccuracyMatrix, bwtOver: BwtConvention = 'previous'): number {
  const T = checkSquare(R, 'backwardTransfer');
  if (T === 1) return 0;
  let sum = 0;
  for (let j = 0; j < T - 1; j++) sum += at(R, T - 1, j) - at(R, j, j);
  return sum / (bwtOver === 'all' ? T : T - 1);
}

export function learningAccuracy(R: AccuracyMatrix): number {
  const T = checkSquare(R, 'learningAccuracy');
  let sum = 0;
  for (let j = 0; j < T; j++) sum += at(R, j, j);
  return sum / T;
}

export function forgetting(R: AccuracyMatrix): number {
  const T = checkSquare(R, 'forgetting');
  if (T === 1) return 0;
  let sum = 0;
  for (let j = 0; j < T - 1; j++) {
    let best = -Infinity;
    for (let l = 0; l < T - 1; l++) best = Math.max(best, at(R, l, j));
    sum += best - at(R, T - 1, j);
  }
  return sum / (T - 1);
}

export interface ContinualSummary {
  acc: number;
  bwt: number;
  bwtAll: number;
  forgetting: number;
}

export function summarize(R: AccuracyMatrix): ContinualSummary {
  return { acc: averageAccuracy(R), bwt: backwardTransfer(R), bwtAll: backwardTransfer(R, 'all'), forgetting: forgetting(R) };
}

/** Mean and sample standard deviation (n − 1); std is 0 for a single value. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance) };
}
