/**
 * SynEVO adaptive dynamic coupler gate (synevo.md §2.4, Eq. 14): a new group is compared with the mean
 * personality representation of every domain already in the common container,
 * D_min = min_i mean((E_new − E_i)²); it is admitted (h = 1) iff 0 < D_min < κ. D_min = 0 (an exact duplicate,
 * nothing new) and D_min ≥ κ (unrelated) are rejected. The first group founds the container (admitted with
 * D_min = NaN, no domain to compare with).
 */
export interface GateDecision {
  readonly admitted: boolean;
  /** NaN when the container is empty */
  readonly minDistance: number;
  /** the container domain at D_min ('' when empty) */
  readonly nearest: string;
}

/** D(A, B) = mean((A − B)²). */
export function meanSquaredDistance(a: Float64Array | Float32Array, b: Float64Array | Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum / Math.max(a.length, 1);
}

export function gateDecision(candidate: Float64Array, container: ReadonlyMap<string, Float64Array>, kappa: number): GateDecision {
  if (container.size === 0) return { admitted: true, minDistance: Number.NaN, nearest: '' };
  let minDistance = Number.POSITIVE_INFINITY;
  let nearest = '';
  for (const [domain, representation] of container) {
    const d = meanSquaredDistance(candidate, representation);
    if (d < minDistance) [minDistance, nearest] = [d, domain];
  }
  return { admitted: minDistance > 0 && minDistance < kappa, minDistance, nearest };
}
