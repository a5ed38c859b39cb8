/**
 * Pearson correlation of two delta vectors (kinship.md §1 "PCC", §3 full-vector mode).
 * Paper: Hu et al., "Exploring Model Kinship for Merging Large Language Models", arXiv:2410.12613, Eq. (3).
 * Centred streaming moments with the pairwise update of Chan, Golub & LeVeque (1979) so a large common
 * offset in the deltas cannot cancel the co-moment, as plain raw sums would.
 */
import type { DeltaChunk, KinshipMetric } from '../metric.js';

export interface PearsonStats {
  readonly count: number;
  readonly meanX: number;
  readonly meanY: number;
  /** Σ(x − x̄)² */
  readonly m2x: number;
  /** Σ(y − ȳ)² */
  readonly m2y: number;
  /** Σ(x − x̄)(y − ȳ) */
  readonly coMoment: number;
}

const EMPTY: PearsonStats = { count: 0, meanX: 0, meanY: 0, m2x: 0, m2y: 0, coMoment: 0 };

/** Two passes over one chunk: means first, then centred sums (the chunk is hot in cache). */
export function pearsonOfChunk(x: DeltaChunk, y: DeltaChunk): PearsonStats {
  const count = x.length;
  if (count === 0) return EMPTY;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < count; i++) {
    sumX += x[i]!;
    sumY += y[i]!;
  }
  const meanX = sumX / count;
  const meanY = sumY / count;
  let m2x = 0;
  let m2y = 0;
  let coMoment = 0;
  for (let i = 0; i < count; i++) {
    const dx = x[i]! - meanX;
    const dy = y[i]! - meanY;
    m2x += dx * dx;
    m2y += dy * dy;
    coMoment += dx * dy;
  }
  return { count, meanX, meanY, m2x, m2y, coMoment };
}

/** Chan et al. pairwise combination of disjoint sets A and B (kinship.md §3). */
export function combinePearson(a: PearsonStats, b: PearsonStats): PearsonStats {
  if (a.count === 0) return b;
  if (b.count === 0) return a;
  const count = a.count + b.count;
  const dx = b.meanX - a.meanX;
  const dy = b.meanY - a.meanY;
  const weight = (a.count * b.count) / count;
  return {
    count,
    meanX: a.meanX + (dx * b.count) / count,
    meanY: a.meanY + (dy * b.count) / count,
    m2x: a.m2x + b.m2x + dx * dx * weight,
    m2y: a.m2y + b.m2y + dy * dy * weight,
    coMoment: a.coMoment + b.coMoment + dx * dy * weight,
  };
}

export const pearson: KinshipMetric<PearsonStats> = {
  name: 'pcc',
  title: 'Pearson correlation of task vectors',
  sense: 'similarity',
  selfValue: 1,
  init: () => EMPTY,
  accumulate: (stats, x, y) => combinePearson(stats, pearsonOfChunk(x, y)),
  combine: combinePearson,
  // One square root of the product keeps PCC(a, a) exactly 1: sqrt(fl(m²)) = m in IEEE arithmetic.
  finish: (s) => (s.m2x > 0 && s.m2y > 0 ? s.coMoment / Math.sqrt(s.m2x * s.m2y) : Number.NaN),
  selfOf: (s, side) => ((side === 'x' ? s.m2x : s.m2y) > 0 ? 1 : Number.NaN),
  fromMoments: (m) =>
    m.count === 0 ? EMPTY : { count: m.count, meanX: m.meanX, meanY: m.meanY, m2x: m.m2x, m2y: m.m2y, coMoment: m.coMoment },
  explainNaN: (s) => {
    if (s.count === 0) return 'no elements were compared';
    if (s.m2x > 0 && s.m2y > 0) return undefined;
    return 'a delta is constant (zero variance), so the correlation is undefined';
  },
};
