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

export interface KappaScale {
  /** κ = factor × the median pairwise distance */
  readonly kappa: number;
  readonly factor: number;
  readonly median: number;
  /** D between every pair of the given domains' representations */
  readonly pairwise: readonly { readonly a: string; readonly b: string; readonly distance: number }[];
}

/**
 * κ on the scale of the extractor's representation distances (issue #14). The paper's κ = 1e3 acts on
 * unnormalised counts; on z-scored inputs every D_min was ~1, so κ = 1e3 admitted everything and the gate was
 * a no-op. Here κ = factor × median pairwise D between the training domains' mean representations: with
 * factor 1 a group whose nearest admitted domain is farther than the typical inter-domain distance is rejected.
 * Only training domains enter (never a held-out one).
 */
export function kappaFromDistances(representations: ReadonlyMap<string, Float64Array>, factor: number): KappaScale {
  const entries = [...representations];
  const pairwise: { a: string; b: string; distance: number }[] = [];
  for (let i = 0; i < entries.length; i++) for (let j = i + 1; j < entries.length; j++) pairwise.push({ a: entries[i]![0], b: entries[j]![0], distance: meanSquaredDistance(entries[i]![1], entries[j]![1]) });
  const sorted = pairwise.map((p) => p.distance).sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { kappa: factor * median, factor, median, pairwise };
}
