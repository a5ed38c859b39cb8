/**
 * Bracketed top-k cuts for the block-wise task-vector passes (fused-task-vectors.ts, issue #16): instead of a
 * 65,536-bin histogram of every |δ| in the LOAD pass (scattered increments that serialise on bfloat16 task
 * vectors, whose few distinct values hit the same counters) and a second full read of the inputs (LEVEL2),
 * 1. a strided sample of the inputs, read on the calling thread, brackets each cut's |δ| bit pattern in a band
 *    [lo, hi] around the sample's quantile (± `margin` of the tensor);
 * 2. the LOAD pass counts the entries above hi (a SIMD compare) and gathers the patterns inside the band, in
 *    index order, per worker range (assembly/select-band.ts `deltaBand`);
 * 3. the exact k-th largest pattern is selected among the gathered ones by the same two histogram levels as
 *    the full select (bits 30..15, then 14..0 of the entries in the cut's bucket), and the per-range counts of
 *    entries equal to it number the ties across ranges — the same cut and tie order, so the same kept set.
 * When the cut falls outside the band or a range gathers more than its capacity, `resolve` returns undefined and
 * the caller runs the full LOAD histogram and LEVEL2 passes: slower, never different.
 */
import { invariant } from '../core/errors.js';
import { f16BitsToF32 } from '../core/float16.js';
import type { KernelPool } from '../kernels/pool.js';
import { readFullyAt } from '../kernels/wasm/read-fully.js';
import { LEVEL1_BINS, LEVEL1_SHIFT, LEVEL2_BINS } from '../kernels/wasm/task-vector-passes.js';
import { TASK_INPUT_BF16 } from '../kernels/wasm/task-vector-from-files.js';

/**
 * margin: half-width of the band, as a fraction of the tensor's elements around the sample's quantile;
 * capacity: gathered patterns one range can hold per cut, as a fraction of the largest range. Tests change them
 * to force either path.
 */
export const cutBandTuning = { margin: 0.03, capacity: 0.2 };

/** the sample: RUNS runs of RUN_LENGTH contiguous elements, evenly spaced (whole tensor when smaller) */
const RUNS = 64;
const RUN_LENGTH = 128;
/** record fields (u32) of one range and cut: above, count, capacity, buffer address */
const RECORD = 4;
const NO_UPPER = 0xffffffff;
const SPARE = 4;
/** u32 arguments of one absHistogramPrefix call */
const JOB = 7;
/**
 * most gathered patterns per range and cut (32 MiB): the wasm memory (4 GiB) also holds the whole-vector path's
 * tensor-sized buffers, so the bands of a very large tensor (a 7B model's embedding) take the fallback instead
 */
const MAX_GATHERED = 1 << 23;

/** The |δ| patterns [lo, hi] that bracket one cut. */
export type Band = readonly [number, number];

/** A cut to find: model j's k largest |δ|. */
export interface BandRequest {
  readonly model: number;
  readonly k: number;
}

/** The exact cut: pattern, entries equal to it, how many of those are kept, each range's first tie number. */
export interface BandCut {
  readonly pattern: number;
  readonly countEqual: number;
  readonly tiesToKeep: number;
  readonly tieStarts: readonly number[];
}

export interface InputRange {
  readonly fd: number;
  readonly position: number;
}

/** The sample's runs: RUNS runs of RUN_LENGTH contiguous elements, evenly spaced (the whole tensor when smaller). */
function sampleRuns(n: number): (readonly [number, number])[] {
  if (n <= RUNS * RUN_LENGTH) return [[0, n]];
  return Array.from({ length: RUNS }, (_, r) => [Math.floor((r * (n - RUN_LENGTH)) / (RUNS - 1)), RUN_LENGTH] as const);
}

/** One input's sampled elements as float32, decoded as the kernels do (bfloat16: the bits shifted up 16). */
function decodeSample(range: InputRange, runs: readonly (readonly [number, number])[], kind: number, width: number): Float32Array {
  const total = runs.reduce((sum, [, length]) => sum + length, 0);
  const raw = new Uint8Array(total * width);
  let at = 0;
  for (const [start, length] of runs) {
    // a file that ends early is a CheckpointError (a bare readSync loop would spin on its 0-byte reads)
    readFullyAt(range.fd, raw.subarray(at, at + length * width), range.position + start * width);
    at += length * width;
  }
  if (width === 4) return new Float32Array(raw.buffer, 0, total);
  const values = new Float32Array(total);
  const halves = new Uint16Array(raw.buffer, 0, total);
  if (kind === TASK_INPUT_BF16) {
    const bits = new Uint32Array(values.buffer);
    for (let i = 0; i < total; i++) bits[i] = halves[i]! << 16;
  } else {
    for (let i = 0; i < total; i++) values[i] = f16BitsToF32(halves[i]!);
  }
  return values;
}

/** |δ| bit patterns of model j from the decoded samples of the base and the model. */
export function deltaPatterns(base: Float32Array, model: Float32Array): Uint32Array {
  // float32 δ (storing the float64 difference of two float32 values rounds it as the kernels' float32 subtraction)
  const delta = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) delta[i] = model[i]! - base[i]!;
  const patterns = new Uint32Array(delta.buffer);
  for (let i = 0; i < patterns.length; i++) patterns[i] = patterns[i]! & 0x7fffffff;
  return patterns;
}

/**
 * The band [lo, hi] of patterns around the sample's k/n quantile: the entries the ascending sample would hold at
 * two positions, found by selection (the sample is reordered in place; a sort cost ~0.4 ms per model and tensor).
 */
export function bandAround(sample: Uint32Array, k: number, n: number, margin: number): Band {
  const m = sample.length;
  const q = k / n;
  // descending sample index d has about d sample entries above it
  const upper = Math.floor((q - margin) * m);
  const lower = Math.ceil((q + margin) * m);
  const lo = lower >= m ? 0 : selectAscending(sample, m - 1 - lower);
  const hi = upper < 1 ? NO_UPPER : selectAscending(sample, m - 1 - Math.min(upper, m - 1));
  return [lo, hi];
}

/** The entry at ascending position `at` of `values` (reordered in place: a quickselect, median-of-three pivots). */
export function selectAscending(values: Uint32Array, at: number): number {
  let left = 0;
  let right = values.length - 1;
  while (right > left) {
    const middle = (left + right) >>> 1;
    const [a, b, c] = [values[left]!, values[middle]!, values[right]!];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (at <= j) right = j;
    else if (at >= i) left = i;
    else return values[at]!;
  }
  return values[at]!;
}

/**
 * descendHistogram of the bin-wise sum of equally long histograms, summed while descending from the top bin, so
 * the bins below the answer are never read (the ranges' histograms are not added up into a new array first).
 */
export function descendSummed(histograms: readonly Uint32Array[], rank: number): { bucket: number; above: number } {
  let above = 0;
  const bins = histograms[0]?.length ?? 0;
  const [first, second] = histograms;
  if (histograms.length === 2 && first !== undefined && second !== undefined) {
    // the two ranges of a two-thread pool, the common case, without the inner loop (the descent runs on the
    // calling thread while the worker waits: up to 32K bins per cut, ~4× faster this way)
    for (let bucket = bins - 1; bucket >= 0; bucket--) {
      const count = first[bucket]! + second[bucket]!;
      if (above + count >= rank) return { bucket, above };
      above += count;
    }
  } else {
    for (let bucket = bins - 1; bucket >= 0; bucket--) {
      let count = 0;
      for (let h = 0; h < histograms.length; h++) count += histograms[h]![bucket]!;
      if (above + count >= rank) return { bucket, above };
      above += count;
    }
  }
  invariant(false, () => `histograms hold fewer than ${rank} entries`);
}

export class CutBands {
  private readonly records: Uint32Array;
  private readonly gathered: Uint32Array;
  private readonly level1: Uint32Array;
  private readonly level2: Uint32Array;
  /** per range and cut, the 7 arguments of one absHistogramPrefix call (absHistogramPrefixMany) */
  private readonly jobTable: Uint32Array;
  private readonly capacity: number;
  private bands: readonly Band[] = [];

  constructor(
    private readonly pool: KernelPool,
    /** most cuts of one tensor */
    private readonly slots: number,
    maxNumel: number,
  ) {
    const parts = pool.partCount;
    const align = pool.splitAlignment;
    const largestRange = Math.ceil(maxNumel / parts / align) * align;
    this.capacity = Math.min(largestRange, Math.ceil(cutBandTuning.capacity * largestRange), MAX_GATHERED) + 1;
    const arena = pool.arena;
    this.records = arena.u32(parts * slots * RECORD);
    // four spare slots per buffer take the stores past the capacity (deltaBand stores four lanes at a time)
    this.gathered = arena.u32(parts * slots * (this.capacity + SPARE));
    this.level1 = arena.u32(parts * slots * LEVEL1_BINS);
    this.level2 = arena.u32(parts * slots * LEVEL2_BINS);
    this.jobTable = arena.u32(parts * slots * JOB);
  }

  /**
   * Brackets every request from the inputs' sample: one band [lo, hi] per request. Reads the inputs and keeps no
   * state, so the next tensor's bands can be found while this tensor's passes run (`begin` takes them).
   */
  sample(requests: readonly BandRequest[], ranges: readonly InputRange[], kind: number, width: number, n: number): Band[] {
    // each input's sample read and decoded once (a model's two Breadcrumbs cuts share its patterns)
    const runs = sampleRuns(n);
    const base = decodeSample(ranges[0]!, runs, kind, width);
    const sorted = new Map<number, Uint32Array>();
    return requests.map(({ model, k }) => {
      let patterns = sorted.get(model);
      if (patterns === undefined) {
        patterns = deltaPatterns(base, decodeSample(ranges[model + 1]!, runs, kind, width));
        sorted.set(model, patterns);
      }
      return bandAround(patterns, k, n, cutBandTuning.margin);
    });
  }

  /** Takes the bands of `sample` for the LOAD pass and resets the per-range records. */
  begin(requests: readonly BandRequest[], bands: readonly Band[]): void {
    invariant(bands.length === requests.length, () => `cut bands: ${bands.length} bands for ${requests.length} cuts`);
    this.bands = bands;
    const parts = this.pool.partCount;
    for (let p = 0; p < parts; p++) {
      for (let s = 0; s < requests.length; s++) {
        const at = (p * this.slots + s) * RECORD;
        this.records.set([0, 0, this.capacity, this.gathered.byteOffset + (p * this.slots + s) * (this.capacity + SPARE) * 4], at);
      }
    }
  }

  /** The LOAD pass's band arguments of range `part`: per cut, model, lo, hi, record address. */
  loadBands(requests: readonly BandRequest[], part: number): (readonly [number, number, number, number])[] {
    return requests.map(({ model }, s) => [model, this.bands[s]![0], this.bands[s]![1], this.records.byteOffset + (part * this.slots + s) * RECORD * 4] as const);
  }

  /** The exact cuts from the gathered bands of `used` ranges, or undefined when one is not inside its band. */
  async resolve(requests: readonly BandRequest[], used: number): Promise<BandCut[] | undefined> {
    const field = (p: number, s: number, f: number): number => this.records[(p * this.slots + s) * RECORD + f]!;
    const wants: { need: number; loBin: number; hiBin: number }[] = [];
    for (let s = 0; s < requests.length; s++) {
      let above = 0;
      let count = 0;
      for (let p = 0; p < used; p++) {
        if (field(p, s, 1) > this.capacity) return undefined;
        above += field(p, s, 0);
        count += field(p, s, 1);
      }
      const need = requests[s]!.k - above;
      if (need < 1 || need > count) return undefined;
      const [lo, hi] = this.bands[s]!;
      wants.push({ need, loBin: lo >>> LEVEL1_SHIFT, hiBin: Math.min(hi, 0x7fffffff) >>> LEVEL1_SHIFT });
    }
    const slots = requests.length;
    for (let p = 0; p < used; p++) {
      for (let s = 0; s < slots; s++) {
        const at = (p * this.slots + s) * LEVEL1_BINS;
        this.level1.fill(0, at + wants[s]!.loBin, at + wants[s]!.hiBin + 1);
      }
    }
    const gatheredAt = (p: number, s: number): number => this.gathered.byteOffset + (p * this.slots + s) * (this.capacity + SPARE) * 4;
    await this.histograms(used, slots, (p, s) => [gatheredAt(p, s), field(p, s, 1), 31, 0, LEVEL1_SHIFT, LEVEL1_BINS - 1, this.level1.byteOffset + (p * this.slots + s) * LEVEL1_BINS * 4]);
    const buckets = wants.map(({ need, loBin, hiBin }, s) => {
      const perRange = Array.from({ length: used }, (_, p) => this.level1.subarray((p * this.slots + s) * LEVEL1_BINS + loBin, (p * this.slots + s) * LEVEL1_BINS + hiBin + 1));
      const top = descendSummed(perRange, need);
      return { bucket: loBin + top.bucket, above: top.above };
    });
    this.level2.fill(0, 0, used * this.slots * LEVEL2_BINS);
    await this.histograms(used, slots, (p, s) => [gatheredAt(p, s), field(p, s, 1), LEVEL1_SHIFT, buckets[s]!.bucket, 0, LEVEL2_BINS - 1, this.level2.byteOffset + (p * this.slots + s) * LEVEL2_BINS * 4]);
    return wants.map(({ need }, s) => {
      const { bucket, above } = buckets[s]!;
      const perRange = Array.from({ length: used }, (_, p) => this.level2.subarray((p * this.slots + s) * LEVEL2_BINS, (p * this.slots + s + 1) * LEVEL2_BINS));
      const low = descendSummed(perRange, need - above);
      const tieStarts: number[] = [];
      let ties = 0;
      for (const counts of perRange) {
        tieStarts.push(ties);
        ties += counts[low.bucket]!;
      }
      return { pattern: ((bucket << LEVEL1_SHIFT) | low.bucket) >>> 0, countEqual: ties, tiesToKeep: need - above - low.above, tieStarts };
    });
  }

  /** absHistogramPrefix over every cut's gathered patterns: one job per range (the ranges run in parallel) for all cuts. */
  private async histograms(used: number, slots: number, args: (part: number, slot: number) => number[]): Promise<void> {
    for (let p = 0; p < used; p++) {
      for (let s = 0; s < slots; s++) this.jobTable.set(args(p, s), (p * this.slots + s) * JOB);
    }
    await this.pool.runSplit(
      'absHistogramPrefixMany',
      used,
      (start, length) => {
        invariant(length === 1, () => `cut bands: a histogram job over ${length} ranges`);
        return [this.jobTable.byteOffset + start * this.slots * JOB * 4, slots];
      },
      { align: 1, minParallel: 1 },
    );
  }
}
