/**
 * The task-vector sparsifiers of src/merge/sparsify.ts on the kernel pool (assembly/sparsify.ts), bit for bit:
 * - magnitude (TIES) and magnitude_outliers (Breadcrumbs): the exact top-k cut by a three-level histogram
 *   select (bits 30..20, 19..10, 9..0 of |δ|), each level one parallel pass with a histogram per worker range;
 *   the last level's per-range count of entries equal to the cut numbers the ties across ranges, so the keep
 *   pass honours "lower (TIES) or higher (Breadcrumbs) flat index first" exactly as the reference;
 * - random (DARE) and della_magprune (DELLA): masks from the counter-based draws of core/counter-rng.ts, so
 *   any worker computes any range (DELLA: whole rows) without a shared random stream;
 * - the l1 rescale: both norms summed per STATS_BLOCK block in the lane order of sparsify.ts `l1Norm`; the
 *   factor is returned for the mixing kernel to apply (tiesCombineF64 `factors`).
 * Only the task vector `delta` (arena-resident) is touched; it is overwritten with the kept values.
 */
import { invariant } from '../core/errors.js';
import { descendHistogram } from '../kernels/reference/select.js';
import type { KernelPool } from '../kernels/pool.js';
import {
  breadcrumbsBand,
  checkDensity,
  checkSparsifyParameters,
  dellaRowLength,
  dellaWindow,
  inverseDensityScale,
  L1_BLOCK,
  l1RescaleFactor,
  requireStream,
  type SparsifierName,
  type SparsifyOptions,
} from './sparsify.js';

const TOP_BINS = 2048;
/** `high` of keepBand when there is no upper cut: no |δ| bit pattern reaches it */
const NO_CUT = 0xffffffff;

/** One cut for keepBand: the k-th largest |δ| pattern, and for each worker range its first tie number. */
interface KernelCut {
  readonly pattern: number;
  readonly countEqual: number;
  readonly tiesToKeep: number;
  readonly tieStarts: readonly number[];
}

export class KernelSparsifier {
  private readonly histograms: Uint32Array;
  private readonly partials: Float64Array;
  private readonly dellaScratch: { readonly base: number; readonly stride: number };
  /** the first select level of the task vector being sparsified, when its loader counted it already */
  private topHistogram: Uint32Array | undefined;

  /** Buffers for tensors of up to `maxNumel` elements and DELLA rows of up to `maxRowLength`. */
  constructor(
    private readonly pool: KernelPool,
    maxNumel: number,
    maxRowLength: number,
  ) {
    invariant(pool.splitAlignment === L1_BLOCK, () => `kernel range alignment ${pool.splitAlignment} != l1Norm block ${L1_BLOCK}`);
    const parts = pool.partCount;
    this.histograms = pool.arena.u32(parts * TOP_BINS);
    this.partials = pool.arena.f64(Math.max(1, Math.ceil(maxNumel / L1_BLOCK)));
    const stride = maxRowLength > 0 ? Math.ceil(pool.dellaScratchBytes(maxRowLength) / 64) * 64 : 0;
    const scratch = pool.arena.u32(Math.max(1, (parts * stride) / 4));
    this.dellaScratch = { base: scratch.byteOffset, stride };
  }

  /**
   * sparsify(name, delta, options) in place, without its l1 step: returns the l1 factor the reference would
   * multiply the kept entries by (1 when rescale is not 'l1'). `options.inPlace` is implied. `topHistogram`:
   * the 2048-bin histogram of |delta| bits 30..20 when the caller has it (the file loader counts it).
   */
  async sparsify(name: SparsifierName, delta: Float32Array, options: SparsifyOptions, topHistogram?: Uint32Array): Promise<number> {
    checkDensity(options);
    const n = delta.length;
    if (options.density >= 1 || n === 0) return 1;
    checkSparsifyParameters(name, options);
    const l1 = options.rescale === 'l1';
    const originalNorm = l1 ? await this.l1Norm(delta) : 0;
    this.topHistogram = topHistogram;
    if (name === 'magnitude') await this.magnitude(delta, options);
    else if (name === 'magnitude_outliers') await this.outlierBand(delta, options);
    else if (name === 'random') await this.random(delta, options);
    else await this.della(delta, options);
    return l1 ? l1RescaleFactor(originalNorm, await this.l1Norm(delta)) : 1;
  }

  private async magnitude(delta: Float32Array, options: SparsifyOptions): Promise<void> {
    const k = Math.floor(options.density * delta.length);
    if (k === 0) {
      options.warn?.(
        `magnitude trim keeps nothing for tensor '${options.tensorName}' of model '${options.modelRef}': ` +
          `density ${options.density} × ${delta.length} elements < 1`,
      );
      delta.fill(0);
      return;
    }
    const cut = await this.cut(delta, k);
    await this.keepBand(delta, cut, 0, cut.tiesToKeep, undefined, 0, 0, inverseDensityScale(options));
  }

  private async outlierBand(delta: Float32Array, options: SparsifyOptions): Promise<void> {
    const n = delta.length;
    const { nBottom, nTop } = breadcrumbsBand(n, options.density, options.gamma ?? 0.01);
    if ((nTop === 0 && options.emptyBand) || n - nBottom === 0) {
      delta.fill(0);
      return;
    }
    // ranks ≥ r are the N − r largest with ties towards higher indices: keep the last tiesToKeep tie numbers
    const low = await this.cut(delta, n - nBottom);
    const high = nTop > 0 ? await this.cut(delta, nTop) : undefined;
    await this.keepBand(
      delta,
      low,
      low.countEqual - low.tiesToKeep,
      low.countEqual,
      high,
      high === undefined ? 0 : high.countEqual - high.tiesToKeep,
      high === undefined ? 0 : high.countEqual,
      inverseDensityScale(options),
    );
  }

  private async random(delta: Float32Array, options: SparsifyOptions): Promise<void> {
    const stream = requireStream(options, 'random', delta.length);
    const keepBelow = options.density * 4294967296;
    const scale = inverseDensityScale(options);
    const at = delta.byteOffset;
    await this.pool.runSplit('dareKeep', delta.length, (start, length) => [at + start * 4, at + start * 4, length, start, stream.k0, stream.k1, keepBelow, scale]);
  }

  private async della(delta: Float32Array, options: SparsifyOptions): Promise<void> {
    const { low, high } = dellaWindow(options);
    const stream = requireStream(options, 'della_magprune', delta.length);
    const rowLength = dellaRowLength(options.shape, delta.length);
    const rows = delta.length / rowLength;
    invariant(Number.isInteger(rows), () => `della: ${delta.length} elements are not whole rows of ${rowLength}`);
    invariant(this.dellaScratch.stride >= this.pool.dellaScratchBytes(rowLength), () => `della: no scratch sized for rows of ${rowLength}`);
    const inverse = options.rescale === 'inverse_density' ? 1 : 0;
    const at = delta.byteOffset;
    const { base, stride } = this.dellaScratch;
    // whole rows per worker; parallel once a call covers a few blocks' worth of elements
    await this.pool.runSplit(
      'dellaRows',
      rows,
      (row, count, part) => [at + row * rowLength * 4, count, rowLength, row * rowLength, stream.k0, stream.k1, low, high, inverse, base + part * stride],
      { align: 1, minParallel: Math.max(2, Math.ceil((4 * L1_BLOCK) / rowLength)) },
    );
  }

  /** Σ|δ| in the block and lane order of sparsify.ts `l1Norm`. */
  private async l1Norm(delta: Float32Array): Promise<number> {
    const n = delta.length;
    const partials = this.partials;
    const at = delta.byteOffset;
    await this.pool.runSplit('absSumBlocks', n, (start, length) => [at + start * 4, length, partials.byteOffset + (start / L1_BLOCK) * 8]);
    let norm = 0;
    const blocks = Math.ceil(n / L1_BLOCK);
    for (let b = 0; b < blocks; b++) norm += partials[b]!;
    return norm;
  }

  /** The cut keeping the k largest |δ| (1 ≤ k ≤ N): src/kernels/reference/select.ts `magnitudeCut`'s answer. */
  private async cut(delta: Float32Array, k: number): Promise<KernelCut> {
    const first = this.topHistogram ?? (await this.histogramLevel(delta, 31, 0, 20, 0x7ff)).total;
    const top = descendHistogram(first, k);
    const second = await this.histogramLevel(delta, 20, top.bucket, 10, 0x3ff);
    const mid = descendHistogram(second.total, k - top.above);
    const prefix = (top.bucket << 10) | mid.bucket;
    const third = await this.histogramLevel(delta, 10, prefix, 0, 0x3ff);
    const low = descendHistogram(third.total, k - top.above - mid.above);
    const countAbove = top.above + mid.above + low.above;
    const tieStarts: number[] = [];
    let ties = 0;
    for (const counts of third.perPart) {
      tieStarts.push(ties);
      ties += counts[low.bucket]!;
    }
    return { pattern: ((prefix << 10) | low.bucket) >>> 0, countEqual: third.total[low.bucket]!, tiesToKeep: k - countAbove, tieStarts };
  }

  /** One histogram level over [0, N), one histogram per worker range (same ranges as every other call on N). */
  private async histogramLevel(
    delta: Float32Array,
    prefixShift: number,
    prefix: number,
    shift: number,
    mask: number,
  ): Promise<{ total: Uint32Array; perPart: Uint32Array[] }> {
    const bins = mask + 1;
    const parts = this.pool.partCount;
    const histograms = this.histograms;
    histograms.fill(0, 0, parts * bins);
    let used = 0;
    const at = delta.byteOffset;
    await this.pool.runSplit('absHistogramPrefix', delta.length, (start, length, part) => {
      used = Math.max(used, part + 1);
      return [at + start * 4, length, prefixShift, prefix, shift, mask, histograms.byteOffset + part * bins * 4];
    });
    const perPart = Array.from({ length: used }, (_, p) => histograms.slice(p * bins, (p + 1) * bins));
    const total = new Uint32Array(bins);
    for (const counts of perPart) for (let b = 0; b < bins; b++) total[b] = total[b]! + counts[b]!;
    return { total, perPart };
  }

  private async keepBand(
    delta: Float32Array,
    low: KernelCut,
    lowFirst: number,
    lowLast: number,
    high: KernelCut | undefined,
    highFirst: number,
    highLast: number,
    scale: number,
  ): Promise<void> {
    const at = delta.byteOffset;
    await this.pool.runSplit('keepBand', delta.length, (start, length, part) => {
      const p = at + start * 4;
      return [
        p,
        p,
        length,
        low.pattern,
        low.tieStarts[part] ?? 0,
        lowFirst,
        lowLast,
        high?.pattern ?? NO_CUT,
        high?.tieStarts[part] ?? 0,
        highFirst,
        highLast,
        scale,
      ];
    });
  }
}

