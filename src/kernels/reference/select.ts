/**
 * Exact k-th largest magnitude by radix/histogram select on IEEE-754 float32 bits (engines.md §5; used by
 * the TIES trim and Breadcrumbs band of merge-methods.md §3.6 and the whole-model trim of §6 P4).
 *
 * For finite float32 values, clearing the sign bit leaves a 31-bit pattern whose unsigned integer order is
 * the order of |x| (±0 both map to 0). The select therefore walks the bit pattern from the top: an 11-bit
 * histogram of bits 30..20 finds the bucket holding the k-th largest, then two 10-bit histograms of bits
 * 19..10 and 9..0 restricted to that bucket pin down the exact pattern. No sort and no full copy: the
 * refinement works on a gathered copy of the candidate bucket when that bucket is small, and rescans the
 * input with a prefix filter otherwise (heavily tied inputs). The streamed variant does the same over many
 * arrays in two passes, the second with one 20-bit histogram.
 */
import { invariant } from '../../core/errors.js';

const TOP_BITS = 11;
const TOP_SHIFT = 20; // bits 30..20
const MID_SHIFT = 10; // bits 19..10
const LOW_MASK = 0x3ff; // bits 9..0
const LOW_BITS_20 = 0xfffff;
const ABS_MASK = 0x7fffffff;

/** Where the cut falls for "keep the k largest |x|". */
export interface MagnitudeCut {
  /** the k-th largest |x| (as a non-negative float32 value); +Infinity when k = 0 */
  readonly threshold: number;
  /** entries with |x| strictly above the threshold */
  readonly countAbove: number;
  /** entries with |x| exactly equal to the threshold (0 when k = 0) */
  readonly countEqual: number;
  /** how many of the tied entries belong to the k largest: k − countAbove */
  readonly tiesToKeep: number;
}

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

function floatFromAbsBits(bits: number): number {
  scratchBits[0] = bits;
  return scratchFloat[0]!;
}

/** The sign-free bit pattern of |x| for a float32 value x (order-preserving for finite values). */
export function absBitsOf(x: number): number {
  scratchFloat[0] = x;
  return scratchBits[0]! & ABS_MASK;
}

function bitsView(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/**
 * Walks a histogram from the highest bucket down and returns the bucket holding the `rank`-th largest
 * (1-based) together with the number of entries in higher buckets.
 */
export function descendHistogram(histogram: Uint32Array, rank: number): { bucket: number; above: number } {
  let above = 0;
  for (let bucket = histogram.length - 1; bucket >= 0; bucket--) {
    const count = histogram[bucket]!;
    if (above + count >= rank) return { bucket, above };
    above += count;
  }
  invariant(false, () => `histogram holds fewer than ${rank} entries`);
}

/** Candidate buckets up to this fraction of the input are gathered; larger ones are rescanned. */
const GATHER_FRACTION = 4;

/**
 * The cut for keeping the k largest |x| of `values` (every element), exactly and deterministically.
 * `k` is clamped to [0, N]; k = 0 yields threshold +Infinity (nothing kept).
 */
export function magnitudeCut(values: Float32Array, k: number): MagnitudeCut {
  const n = values.length;
  const want = Math.max(0, Math.min(n, Math.floor(k)));
  if (want === 0) return { threshold: Infinity, countAbove: 0, countEqual: 0, tiesToKeep: 0 };
  const bits = bitsView(values);

  const top = new Uint32Array(1 << TOP_BITS);
  for (let j = 0; j < n; j++) top[(bits[j]! & ABS_MASK) >>> TOP_SHIFT]!++;
  const first = descendHistogram(top, want);
  const candidates = top[first.bucket]!;
  const prefix = first.bucket;

  let rank = want - first.above;
  let above = first.above;
  const mid = new Uint32Array(1 << 10);
  const low = new Uint32Array(1 << 10);

  if (candidates * GATHER_FRACTION <= n) {
    const gathered = new Uint32Array(candidates);
    let g = 0;
    for (let j = 0; j < n; j++) {
      const a = bits[j]! & ABS_MASK;
      if (a >>> TOP_SHIFT === prefix) gathered[g++] = a & LOW_BITS_20;
    }
    for (let j = 0; j < candidates; j++) mid[gathered[j]! >>> MID_SHIFT]!++;
    const second = descendHistogram(mid, rank);
    rank -= second.above;
    above += second.above;
    for (let j = 0; j < candidates; j++) {
      const rest = gathered[j]!;
      if (rest >>> MID_SHIFT === second.bucket) low[rest & LOW_MASK]!++;
    }
    const third = descendHistogram(low, rank);
    above += third.above;
    const pattern = (prefix << TOP_SHIFT) | (second.bucket << MID_SHIFT) | third.bucket;
    return finishCut(pattern, above, low[third.bucket]!, want);
  }

  for (let j = 0; j < n; j++) {
    const a = bits[j]! & ABS_MASK;
    if (a >>> TOP_SHIFT === prefix) mid[(a >>> MID_SHIFT) & LOW_MASK]!++;
  }
  const second = descendHistogram(mid, rank);
  rank -= second.above;
  above += second.above;
  const prefix21 = (prefix << 10) | second.bucket;
  for (let j = 0; j < n; j++) {
    const a = bits[j]! & ABS_MASK;
    if (a >>> MID_SHIFT === prefix21) low[a & LOW_MASK]!++;
  }
  const third = descendHistogram(low, rank);
  above += third.above;
  return finishCut((prefix21 << MID_SHIFT) | third.bucket, above, low[third.bucket]!, want);
}

function finishCut(pattern: number, countAbove: number, countEqual: number, k: number): MagnitudeCut {
  return { threshold: floatFromAbsBits(pattern >>> 0), countAbove, countEqual, tiesToKeep: k - countAbove };
}

/** The k-th largest |x| (1 ≤ k ≤ N), bit-identical to sorting |x| descending and taking index k − 1. */
export function kthLargestMagnitude(values: Float32Array, k: number): number {
  invariant(Number.isInteger(k) && k >= 1 && k <= values.length, () => `k = ${k} outside [1, ${values.length}]`);
  return magnitudeCut(values, k).threshold;
}

/**
 * Exact cut over the concatenation of many arrays in two passes, without concatenating or copying: feed
 * every array to `countTop`, call `chooseBucket(k)`, feed the same arrays again to `countRest`, then read
 * `result()`. The caller may stream the arrays from disk (sync or async) between the calls.
 */
export class StreamedMagnitudeSelect {
  private readonly top = new Uint32Array(1 << TOP_BITS);
  private rest: Uint32Array | undefined;
  private total = 0;
  private want = 0;
  private prefix = -1;
  private above = 0;

  /** pass 1: 11-bit histogram of the top bits of |x| */
  countTop(values: Float32Array): void {
    const bits = bitsView(values);
    const top = this.top;
    for (let j = 0; j < bits.length; j++) top[(bits[j]! & ABS_MASK) >>> TOP_SHIFT]!++;
    this.total += bits.length;
  }

  /** elements seen in pass 1 */
  get totalCount(): number {
    return this.total;
  }

  /** between the passes: fixes k (clamped to [0, total]) and the candidate bucket */
  chooseBucket(k: number): void {
    this.want = Math.max(0, Math.min(this.total, Math.floor(k)));
    if (this.want === 0) return;
    const first = descendHistogram(this.top, this.want);
    this.prefix = first.bucket;
    this.above = first.above;
    this.rest = new Uint32Array(1 << TOP_SHIFT);
  }

  /** pass 2: 20-bit histogram of the remaining bits inside the candidate bucket */
  countRest(values: Float32Array): void {
    const rest = this.rest;
    if (rest === undefined) return;
    const bits = bitsView(values);
    const prefix = this.prefix;
    for (let j = 0; j < bits.length; j++) {
      const a = bits[j]! & ABS_MASK;
      if (a >>> TOP_SHIFT === prefix) rest[a & LOW_BITS_20]!++;
    }
  }

  result(): MagnitudeCut {
    if (this.want === 0 || this.rest === undefined) return { threshold: Infinity, countAbove: 0, countEqual: 0, tiesToKeep: 0 };
    const second = descendHistogram(this.rest, this.want - this.above);
    const pattern = (this.prefix << TOP_SHIFT) | second.bucket;
    return finishCut(pattern, this.above + second.above, this.rest[second.bucket]!, this.want);
  }
}

/**
 * The cut over the concatenation of several arrays, in two passes over `forEachArray` (which must visit
 * the same arrays in the same order each time).
 */
export function magnitudeCutStreamed(forEachArray: (visit: (values: Float32Array) => void) => void, k: number): MagnitudeCut {
  const select = new StreamedMagnitudeSelect();
  forEachArray((values) => select.countTop(values));
  select.chooseBucket(k);
  forEachArray((values) => select.countRest(values));
  return select.result();
}

/** Entries of `values` whose |x| equals the threshold exactly (the tie count one array contributes). */
export function countEqualMagnitude(values: Float32Array, threshold: number): number {
  if (!Number.isFinite(threshold)) return 0;
  const target = absBitsOf(threshold);
  const bits = bitsView(values);
  let count = 0;
  for (let j = 0; j < bits.length; j++) if ((bits[j]! & ABS_MASK) === target) count++;
  return count;
}

/**
 * Keep mask for a cut: every |x| above `threshold`, plus `tiesToKeep` of the entries equal to it — the
 * lowest flat indices when `preferLowIndex`, else the highest. Writes 1 (kept) / 0 into `mask`.
 */
export function maskFromCut(
  values: Float32Array,
  threshold: number,
  tiesToKeep: number,
  preferLowIndex = true,
  mask: Uint8Array = new Uint8Array(values.length),
): Uint8Array {
  invariant(mask.length === values.length, () => `mask length ${mask.length} != values length ${values.length}`);
  const bits = bitsView(values);
  if (!Number.isFinite(threshold)) {
    mask.fill(0);
    return mask;
  }
  const target = absBitsOf(threshold);
  // ties are numbered in index order; keep numbers [firstKept, firstKept + tiesToKeep)
  const firstKept = preferLowIndex ? 0 : countEqualMagnitude(values, threshold) - tiesToKeep;
  let tieNumber = 0;
  for (let j = 0; j < bits.length; j++) {
    const a = bits[j]! & ABS_MASK;
    if (a > target) mask[j] = 1;
    else if (a === target) {
      mask[j] = tieNumber >= firstKept && tieNumber < firstKept + tiesToKeep ? 1 : 0;
      tieNumber++;
    } else mask[j] = 0;
  }
  return mask;
}

/**
 * A copy of `values` holding only the entries the cut keeps (times `scale`), zeros elsewhere — `maskFromCut`
 * fused with the copy, with a branch-free common path (only exact ties take the slow branch). `out` may be
 * `values` itself (each entry is read before it is written).
 */
export function keepByCut(
  values: Float32Array,
  threshold: number,
  tiesToKeep: number,
  preferLowIndex = true,
  scale = 1,
  out: Float32Array = new Float32Array(values.length),
): Float32Array {
  invariant(out.length === values.length, () => `output length ${out.length} != values length ${values.length}`);
  if (!Number.isFinite(threshold)) return out.fill(0);
  const bits = bitsView(values);
  const target = absBitsOf(threshold);
  const firstKept = preferLowIndex ? 0 : countEqualMagnitude(values, threshold) - tiesToKeep;
  const lastKept = firstKept + tiesToKeep;
  let tieNumber = 0;
  for (let j = 0; j < bits.length; j++) {
    const a = bits[j]! & ABS_MASK;
    let keep = a > target;
    if (a === target) {
      keep = tieNumber >= firstKept && tieNumber < lastKept;
      tieNumber++;
    }
    out[j] = keep ? values[j]! * scale : 0;
  }
  return out;
}

/** Mask of exactly min(k, N) entries of largest |x|; equal magnitudes at the cut keep lower indices first. */
export function topKMagnitudeMask(values: Float32Array, k: number): Uint8Array {
  const cut = magnitudeCut(values, k);
  return maskFromCut(values, cut.threshold, cut.tiesToKeep, true);
}
