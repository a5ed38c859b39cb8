/**
 * The kinship-metric extension point (kinship.md §1, §3): a metric is data plus pure functions over
 * streaming sufficient statistics of two delta vectors x = δ_1, y = δ_2. Statistics are plain immutable
 * objects of float64 numbers, so they can be combined across chunks, tensors and threads in any order.
 * Reading, deltas, chunking and the pair loop live in `compute.ts`, never here.
 */

/** a chunk of delta values; float64 keeps the delta subtraction exact enough for 1e-9 agreement */
export type DeltaChunk = Float64Array | Float32Array;

/**
 * Centred moments of a pair of deltas x, y over a set of elements, the form the wasm kernel produces
 * (assembly/kinship.ts; compute-pool.ts): everything a metric needs, without cancellation-prone raw sums.
 */
export interface PairMoments {
  readonly count: number;
  readonly meanX: number;
  readonly meanY: number;
  /** Σ(x − x̄)² */
  readonly m2x: number;
  /** Σ(y − ȳ)² */
  readonly m2y: number;
  /** Σ(x − x̄)(y − ȳ) */
  readonly coMoment: number;
  /** Σ((x − x̄) − (y − ȳ))², summed directly; NaN unless the metric asked for it (`needsSquaredDifference`) */
  readonly centredSquaredDifference: number;
}

export interface KinshipMetric<Stats = unknown> {
  /** registry name, snake_case (`pcc`, `cs`, `cs_abs`, `ed`) */
  readonly name: string;
  readonly title: string;
  /** 'similarity': larger = more kin; 'distance': smaller = more kin */
  readonly sense: 'similarity' | 'distance';
  /** the value of sim(a, a) for a non-degenerate delta */
  readonly selfValue: number;
  /** statistics of the empty vector */
  init(): Stats;
  /** statistics of `stats` extended by the paired elements x[i], y[i]; must not mutate `stats` */
  accumulate(stats: Stats, x: DeltaChunk, y: DeltaChunk): Stats;
  /** statistics of the concatenation of two disjoint element sets (order-independent up to rounding) */
  combine(a: Stats, b: Stats): Stats;
  /** the metric value; NaN when undefined (e.g. a constant delta for PCC) */
  finish(stats: Stats): number;
  /**
   * sim(a, a) read off a pair's statistics for one side (x or y): `selfValue`, or NaN when that delta alone is
   * degenerate. Saves computing the matrix diagonal as extra pairs.
   */
  selfOf(stats: Stats, side: 'x' | 'y'): number;
  /** why `finish` returned NaN, for the report; undefined when the value is a number */
  explainNaN(stats: Stats): string | undefined;
  /**
   * The statistics of an element set given its pair moments. Optional: a metric without it is computed by the
   * plain TypeScript path (compute.ts) only.
   */
  fromMoments?(moments: PairMoments): Stats;
  /** `fromMoments` reads `centredSquaredDifference` (the kernel then accumulates it) */
  readonly needsSquaredDifference?: boolean;
}

/** Erases the statistics type for registries and orchestration (statistics stay opaque there). */
export type AnyKinshipMetric = KinshipMetric<unknown>;

export function eraseStats<S>(metric: KinshipMetric<S>): AnyKinshipMetric {
  return metric as unknown as AnyKinshipMetric;
}
