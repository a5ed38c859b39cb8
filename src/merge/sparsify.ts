/**
 * Task-vector sparsifiers and rescaling (merge-methods.md §3.6 "Sparsifiers" and "Rescale", §6 P1–P3, P15,
 * P17):
 * - magnitude — TIES trim (Yadav et al., NeurIPS 2023, arXiv 2306.01708), exact top-k by histogram select;
 * - random — DARE drop-and-rescale (Yu et al., arXiv 2311.03099), a counter-based draw per element keyed by
 *   (seed, tensor, model) and the element's flat index (core/counter-rng.ts);
 * - magnitude_outliers — Model Breadcrumbs (Davari & Belilovsky, arXiv 2312.06795), a band in |δ| order;
 * - della_magprune — DELLA MagPrune (Deep, Bhardwaj & Poria, arXiv 2406.11617), rank-based keep odds per row,
 *   the same counter-based draws.
 * Each takes one task vector and returns a new array; kept entries keep their value (then rescale).
 * assembly/sparsify.ts computes the same results in the kernel (src/merge/fast-path.ts), bit for bit.
 */
import { ConfigError, invariant } from '../core/errors.js';
import { counterUniform, type CounterStream } from '../core/counter-rng.js';
import { keepByCut, magnitudeCut, maskFromCut } from '../kernels/reference/select.js';

export type SparsifierName = 'magnitude' | 'random' | 'magnitude_outliers' | 'della_magprune';
export type RescaleMode = 'none' | 'l1' | 'inverse_density';

export interface SparsifyOptions {
  /** fraction of entries kept (≥ 1 returns the input unchanged) */
  readonly density: number;
  readonly rescale: RescaleMode;
  /** tensor shape; della ranks along the last dimension */
  readonly shape: readonly number[];
  /** magnitude_outliers: fraction of largest entries dropped (default 0.01) */
  readonly gamma?: number;
  /** della_magprune: half-width of the keep-probability window (default 0.15) */
  readonly epsilon?: number;
  /** magnitude_outliers: reproduce mergekit's empty band when n_top = 0 (P3) */
  readonly emptyBand?: boolean;
  /** random and della_magprune: element j's draw is `counterUniform(stream, j)` (j the flat index) */
  readonly stream?: CounterStream;
  /**
   * magnitude: a precomputed cut (whole-model trim, P4) instead of the per-tensor top-k: keep |δ| above
   * `threshold` plus the first `tiesToKeep` entries equal to it (lower index first)
   */
  readonly cut?: { readonly threshold: number; readonly tiesToKeep: number };
  /** the sparsifier may overwrite `delta` (the pipeline owns its task vectors) */
  readonly inPlace?: boolean;
  /** for messages */
  readonly tensorName: string;
  readonly modelRef: string;
  readonly warn?: (message: string) => void;
}

/** Sparsify one task vector (and rescale it when `options.rescale` is not 'none'). */
export function sparsify(name: SparsifierName, delta: Float32Array, options: SparsifyOptions): Float32Array {
  checkDensity(options);
  if (options.density >= 1 || delta.length === 0) return delta;
  const originalNorm = options.rescale === 'l1' ? l1Norm(delta) : 0;
  let kept: Float32Array;
  switch (name) {
    case 'magnitude':
      kept = magnitudeSparsify(delta, options);
      break;
    case 'random':
      kept = randomSparsify(delta, options);
      break;
    case 'magnitude_outliers':
      kept = outlierBandSparsify(delta, options);
      break;
    case 'della_magprune':
      kept = dellaSparsify(delta, options);
      break;
  }
  if (options.rescale === 'l1') rescaleToL1(kept, originalNorm);
  return kept;
}

/** The parameter errors `sparsify` throws for a task vector it would change (density < 1, non-empty). */
export function checkSparsifyParameters(name: SparsifierName, options: SparsifyOptions): void {
  if (name === 'magnitude_outliers') checkUnitInterval(options.gamma ?? 0.01, 'gamma', options, true);
  if (name === 'della_magprune') dellaWindow(options);
}

/** `density` must be a number ≥ 0 (checked before anything else). */
export function checkDensity(options: SparsifyOptions): void {
  checkUnitInterval(options.density, 'density', options, false);
}

/** multiplier of kept entries: 1/density for `inverse_density` (density > 0), else 1 */
export function inverseDensityScale(options: SparsifyOptions): number {
  return options.rescale === 'inverse_density' && options.density > 0 ? 1 / options.density : 1;
}

function checkUnitInterval(value: number, key: string, options: SparsifyOptions, upperBound: boolean): void {
  if (Number.isFinite(value) && value >= 0 && (!upperBound || value <= 1)) return;
  throw new ConfigError(
    [
      {
        path: ['models', options.modelRef, 'parameters', key],
        message: `'${key}' must be a number ≥ 0${upperBound ? ' and ≤ 1' : ''}, got ${value} (tensor '${options.tensorName}')`,
      },
    ],
    { hint: `set '${key}' to a fraction such as 0.5` },
  );
}

/** Copies the entries with mask 1, multiplied by `scale`; zeros elsewhere. */
function applyMask(delta: Float32Array, mask: Uint8Array, scale: number): Float32Array {
  const out = new Float32Array(delta.length);
  for (let j = 0; j < delta.length; j++) if (mask[j] === 1) out[j] = delta[j]! * scale;
  return out;
}


/** TIES trim: the k = ⌊density·N⌋ largest |δ|, lower flat index first at the cut; k = 0 keeps nothing (P15). */
function magnitudeSparsify(delta: Float32Array, options: SparsifyOptions): Float32Array {
  let threshold: number;
  let tiesToKeep: number;
  if (options.cut) {
    ({ threshold, tiesToKeep } = options.cut);
  } else {
    const k = Math.floor(options.density * delta.length);
    if (k === 0) {
      options.warn?.(
        `magnitude trim keeps nothing for tensor '${options.tensorName}' of model '${options.modelRef}': ` +
          `density ${options.density} × ${delta.length} elements < 1`,
      );
      return options.inPlace ? delta.fill(0) : new Float32Array(delta.length);
    }
    ({ threshold, tiesToKeep } = magnitudeCut(delta, k));
  }
  const out = options.inPlace ? delta : new Float32Array(delta.length);
  return keepByCut(delta, threshold, tiesToKeep, true, inverseDensityScale(options), out);
}

/** DARE: keep each entry independently with probability `density`, the draw of its flat index. */
function randomSparsify(delta: Float32Array, options: SparsifyOptions): Float32Array {
  const stream = requireStream(options, 'random', delta.length);
  const scale = inverseDensityScale(options);
  const density = options.density;
  // in place each entry is read before it is overwritten, so both forms give the same values
  const out = options.inPlace ? delta : new Float32Array(delta.length);
  for (let j = 0; j < delta.length; j++) out[j] = counterUniform(stream, j) < density ? delta[j]! * scale : 0;
  return out;
}

/** The Breadcrumbs band sizes (§3.6): entries of ascending-|δ| rank in [nBottom, N − nTop) are kept. */
export function breadcrumbsBand(n: number, density: number, gamma: number): { nBottom: number; nTop: number } {
  let nTop = Math.floor(gamma * n);
  let nBottom = n - Math.floor(density * n) - nTop;
  if (nBottom < 0) {
    nTop += nBottom;
    nBottom = 0;
  }
  return { nBottom, nTop };
}

/**
 * Breadcrumbs: rank by ascending |δ| (stable by index) and keep ranks [nBottom, N − nTop). Ranks at or above
 * r are the N − r largest with ties resolved towards higher indices, hence `preferLowIndex = false`.
 */
function outlierBandSparsify(delta: Float32Array, options: SparsifyOptions): Float32Array {
  const gamma = options.gamma ?? 0.01;
  checkUnitInterval(gamma, 'gamma', options, true);
  const n = delta.length;
  const { nBottom, nTop } = breadcrumbsBand(n, options.density, gamma);
  if (nTop === 0 && options.emptyBand) return new Float32Array(n);
  const keep = rankAtLeast(delta, nBottom);
  if (nTop > 0) {
    const outliers = rankAtLeast(delta, n - nTop);
    for (let j = 0; j < n; j++) keep[j]! &= outliers[j]! ^ 1;
  }
  return applyMask(delta, keep, inverseDensityScale(options));
}

function rankAtLeast(delta: Float32Array, rank: number): Uint8Array {
  const cut = magnitudeCut(delta, delta.length - rank);
  return maskFromCut(delta, cut.threshold, cut.tiesToKeep, false);
}

/**
 * DELLA MagPrune: within each row (last dimension), rank r by ascending |δ| (stable by index),
 * p_keep = (density − ε) + 2ε·r/(n − 1), one Bernoulli draw per entry: the draw of its flat index.
 */
function dellaSparsify(delta: Float32Array, options: SparsifyOptions): Float32Array {
  const { low, high } = dellaWindow(options);
  const stream = requireStream(options, 'della_magprune', delta.length);
  const rowLength = dellaRowLength(options.shape, delta.length);
  const inverse = options.rescale === 'inverse_density';
  // in place: a row's keep odds are computed before its entries are overwritten, each entry read before written
  const out = options.inPlace ? delta : new Float32Array(delta.length);
  const keepProbability = new Float64Array(rowLength);
  for (let start = 0; start < delta.length; start += rowLength) {
    const row = delta.subarray(start, start + rowLength);
    rowKeepProbabilities(row, low, high, keepProbability);
    for (let j = 0; j < row.length; j++) {
      const p = keepProbability[j]!;
      out[start + j] = counterUniform(stream, start + j) < p ? (inverse ? row[j]! / p : row[j]!) : 0;
    }
  }
  return out;
}

/** DELLA ranks within rows along the last dimension (the whole tensor for 0-D and 1-D shapes). */
export function dellaRowLength(shape: readonly number[], numel: number): number {
  return shape.length >= 2 ? shape[shape.length - 1]! : numel;
}

/** DELLA's keep-probability window [density − ε, density + ε], which must lie inside (0, 1). */
export function dellaWindow(options: SparsifyOptions): { low: number; high: number } {
  const epsilon = options.epsilon ?? 0.15;
  const low = options.density - epsilon;
  const high = options.density + epsilon;
  if (!(epsilon >= 0) || !(low > 0) || !(high < 1)) {
    throw new ConfigError(
      [
        {
          path: ['models', options.modelRef, 'parameters', 'epsilon'],
          message:
            `della keep probabilities density ± epsilon = [${low}, ${high}] must lie inside (0, 1) ` +
            `(density ${options.density}, epsilon ${epsilon}, tensor '${options.tensorName}')`,
        },
      ],
      { hint: 'lower epsilon or move density away from 0 and 1 so that epsilon < density < 1 − epsilon' },
    );
  }
  return { low, high };
}

/** p_keep per entry of one row; exported for tests. */
export function rowKeepProbabilities(row: Float32Array, low: number, high: number, out = new Float64Array(row.length)): Float64Array {
  const n = row.length;
  if (n === 1) {
    out[0] = (low + high) / 2;
    return out;
  }
  const order = ascendingMagnitudeOrder(row);
  for (let r = 0; r < n; r++) out[order[r]!] = low + ((high - low) * r) / (n - 1);
  return out;
}

/** Indices sorted by ascending |x|, ties by index, via one numeric sort of packed (|x| bits, index) keys. */
function ascendingMagnitudeOrder(row: Float32Array): Uint32Array {
  const n = row.length;
  const bits = new Uint32Array(row.buffer, row.byteOffset, n);
  if (n <= 2 ** 22) {
    // 31 bits of |x| pattern × n + index < 2^53: exact in a double
    const keys = new Float64Array(n);
    for (let j = 0; j < n; j++) keys[j] = (bits[j]! & 0x7fffffff) * n + j;
    keys.sort();
    return Uint32Array.from(keys, (key) => key % n);
  }
  const order = Uint32Array.from({ length: n }, (_, j) => j);
  return order.sort((a, b) => (bits[a]! & 0x7fffffff) - (bits[b]! & 0x7fffffff) || a - b);
}

export function requireStream(options: SparsifyOptions, name: SparsifierName, length: number): CounterStream {
  invariant(options.stream !== undefined, () => `sparsifier '${name}' called without a seeded stream (pass input.streamFor(i))`);
  invariant(length <= 2 ** 32, () => `sparsifier '${name}': ${length} elements exceed the 2^32 indices of a counter stream`);
  return options.stream;
}

/** Elements per block of `l1Norm`: assembly/stats.ts STATS_BLOCK, the kernel pool's range alignment. */
export const L1_BLOCK = 16384;

/**
 * Σ|x| in float64 in a fixed order that parallel kernels reproduce (assembly/sparsify.ts `absSumBlocks`):
 * blocks of L1_BLOCK elements; inside a block element i goes to lane i mod 4, each lane summed in index order,
 * the block's sum (lane0 + lane1) + (lane2 + lane3); block sums added in order.
 */
export function l1Norm(values: Float32Array): number {
  let norm = 0;
  for (let start = 0; start < values.length; start += L1_BLOCK) {
    const end = Math.min(values.length, start + L1_BLOCK);
    let l0 = 0;
    let l1 = 0;
    let l2 = 0;
    let l3 = 0;
    let j = start;
    for (; j + 4 <= end; j += 4) {
      l0 += Math.abs(values[j]!);
      l1 += Math.abs(values[j + 1]!);
      l2 += Math.abs(values[j + 2]!);
      l3 += Math.abs(values[j + 3]!);
    }
    if (j < end) l0 += Math.abs(values[j++]!);
    if (j < end) l1 += Math.abs(values[j++]!);
    if (j < end) l2 += Math.abs(values[j]!);
    norm += l0 + l1 + (l2 + l3);
  }
  return norm;
}

/**
 * P1/P2 `l1`: scale the kept entries so their L1 norm equals the unmasked delta's (`originalNorm`, summed
 * in float64); skipped when either norm is < 1e-7.
 */
export function rescaleToL1(kept: Float32Array, originalNorm: number): void {
  const factor = l1RescaleFactor(originalNorm, l1Norm(kept));
  if (factor === 1) return;
  for (let j = 0; j < kept.length; j++) kept[j] = kept[j]! * factor;
}

/** The factor `rescaleToL1` multiplies by: 1 when either norm is < 1e-7. */
export function l1RescaleFactor(originalNorm: number, keptNorm: number): number {
  return originalNorm < 1e-7 || keptNorm < 1e-7 ? 1 : originalNorm / keptNorm;
}
