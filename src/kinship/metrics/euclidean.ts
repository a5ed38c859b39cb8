/**
 * Euclidean distance of two delta vectors (kinship.md §1 "ED"): ‖x − y‖₂, a distance (larger = less kin).
 * Paper: Hu et al., arXiv:2410.12613, Eq. (3). Σ(x − y)² is summed directly rather than derived from
 * Σx² + Σy² − 2Σxy, which cancels catastrophically for near-identical models.
 */
import type { DeltaChunk, KinshipMetric } from '../metric.js';

export interface EuclideanStats {
  readonly count: number;
  /** Σ(x − y)² */
  readonly sumSqDiff: number;
}

const EMPTY: EuclideanStats = { count: 0, sumSqDiff: 0 };

function accumulateEuclidean(stats: EuclideanStats, x: DeltaChunk, y: DeltaChunk): EuclideanStats {
  let sumSqDiff = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - y[i]!;
    sumSqDiff += d * d;
  }
  return { count: stats.count + x.length, sumSqDiff: stats.sumSqDiff + sumSqDiff };
}

export const euclidean: KinshipMetric<EuclideanStats> = {
  name: 'ed',
  title: 'Euclidean distance of task vectors',
  sense: 'distance',
  selfValue: 0,
  init: () => EMPTY,
  accumulate: accumulateEuclidean,
  combine: (a, b) => ({ count: a.count + b.count, sumSqDiff: a.sumSqDiff + b.sumSqDiff }),
  finish: (s) => (s.count > 0 ? Math.sqrt(s.sumSqDiff) : Number.NaN),
  selfOf: (s) => (s.count > 0 ? 0 : Number.NaN),
  explainNaN: (s) => (s.count > 0 ? undefined : 'no elements were compared'),
  // Σ(x − y)² = Σ((x − x̄) − (y − ȳ))² + n(x̄ − ȳ)²: two non-negative terms, so nothing cancels
  fromMoments: (m) => ({
    count: m.count,
    sumSqDiff: m.centredSquaredDifference + m.count * (m.meanX - m.meanY) * (m.meanX - m.meanY),
  }),
  needsSquaredDifference: true,
};
