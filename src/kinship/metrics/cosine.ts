/**
 * Cosine similarity of two delta vectors (kinship.md §1 "CS"). Paper: Hu et al., arXiv:2410.12613, Eq. (3).
 * `cs` is the signed cosine ⟨x,y⟩/(‖x‖‖y‖); `cs_abs` is the reference code's √((x·y)²/((x·x)(y·y))) = |cs|.
 */
import type { DeltaChunk, KinshipMetric, PairMoments } from '../metric.js';

export interface CosineStats {
  readonly count: number;
  /** Σxy */
  readonly dot: number;
  /** Σx² */
  readonly sumSqX: number;
  /** Σy² */
  readonly sumSqY: number;
}

const EMPTY: CosineStats = { count: 0, dot: 0, sumSqX: 0, sumSqY: 0 };

export function accumulateCosine(stats: CosineStats, x: DeltaChunk, y: DeltaChunk): CosineStats {
  let dot = 0;
  let sumSqX = 0;
  let sumSqY = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    dot += xi * yi;
    sumSqX += xi * xi;
    sumSqY += yi * yi;
  }
  return {
    count: stats.count + x.length,
    dot: stats.dot + dot,
    sumSqX: stats.sumSqX + sumSqX,
    sumSqY: stats.sumSqY + sumSqY,
  };
}

export function combineCosine(a: CosineStats, b: CosineStats): CosineStats {
  return { count: a.count + b.count, dot: a.dot + b.dot, sumSqX: a.sumSqX + b.sumSqX, sumSqY: a.sumSqY + b.sumSqY };
}

/** raw sums from centred moments: Σxy = C + n·x̄·ȳ, Σx² = M2 + n·x̄² (the squares cannot cancel) */
export function cosineFromMoments(m: PairMoments): CosineStats {
  return {
    count: m.count,
    dot: m.coMoment + m.count * m.meanX * m.meanY,
    sumSqX: m.m2x + m.count * m.meanX * m.meanX,
    sumSqY: m.m2y + m.count * m.meanY * m.meanY,
  };
}

function signedCosine(s: CosineStats): number {
  return s.sumSqX > 0 && s.sumSqY > 0 ? s.dot / Math.sqrt(s.sumSqX * s.sumSqY) : Number.NaN;
}

function selfCosine(s: CosineStats, side: 'x' | 'y'): number {
  return (side === 'x' ? s.sumSqX : s.sumSqY) > 0 ? 1 : Number.NaN;
}

function explainCosineNaN(s: CosineStats): string | undefined {
  if (s.count === 0) return 'no elements were compared';
  if (s.sumSqX > 0 && s.sumSqY > 0) return undefined;
  return 'a delta is all zeros (the model equals the base), so the angle is undefined';
}

export const cosine: KinshipMetric<CosineStats> = {
  name: 'cs',
  title: 'cosine similarity of task vectors (signed)',
  sense: 'similarity',
  selfValue: 1,
  init: () => EMPTY,
  accumulate: accumulateCosine,
  combine: combineCosine,
  finish: signedCosine,
  selfOf: selfCosine,
  explainNaN: explainCosineNaN,
  fromMoments: cosineFromMoments,
};

export const absoluteCosine: KinshipMetric<CosineStats> = {
  name: 'cs_abs',
  title: 'absolute cosine similarity of task vectors (reference code)',
  sense: 'similarity',
  selfValue: 1,
  init: () => EMPTY,
  accumulate: accumulateCosine,
  combine: combineCosine,
  finish: (s) => Math.abs(signedCosine(s)),
  selfOf: selfCosine,
  explainNaN: explainCosineNaN,
  fromMoments: cosineFromMoments,
};
