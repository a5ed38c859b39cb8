/**
 * `taskVectorPass`: one worker's element range of a task-vector merge whose inputs are shards on disk, in cache-
 * sized blocks, without tensor-sized float32 vectors (issue #16). Every pass decodes base and δ_j = X_j − B of
 * the block into this thread's scratch (assembly/sparsify.ts `decodeTaskVector`, the same float32 rounding as
 * the reference) and works on the block while it is in L2:
 * Every pass reads its blocks of every input from the shards into this thread's scratch (page cache → memory, as
 * the linear file kernels do; keeping the raw bytes from LOAD for the later passes measured slower, BENCHMARKS.md).
 * - LOAD: flags NaN/±Inf, counts the first level of each δ_j's top-k select (bits 30..15 of |δ|) or, with
 *   bands (src/merge/fused-cut-bands.ts), counts the |δ| above each cut's band and gathers those inside it
 *   (assembly/select-band.ts `deltaBand`; one band per model: all models in one loop, select-bands.ts), and,
 *   for the l1 rescale of a random sparsifier, the per-block norms of δ_j before and after its DARE mask
 *   (assembly/dare-norms.ts, keeping the mask for FINAL's KEEP_MASK);
 * - LEVEL2: the second select level (bits 14..0) of the δ_j inside a first-level bucket, one histogram per cut;
 * - FINAL: each δ_j sparsified (keepBandAt with tie numbers continued from block to block, dareKeep, or
 *   zeroed), combined by `tiesCombineF64` (sign consensus, disjoint mean, λ, l1 factors) into the base block,
 *   encoded and written to the output's place in the file, or to memory; for one to four models all of it in
 *   one per-element kernel from the raw blocks to the encoded block (assembly/task-vector-final.ts), with no
 *   float32 block written and read back in between, the mix in float32 (`float32`) or float64.
 * Reads move 128 KiB of each input at a time (READ_BYTES); the blocks are processed 16K elements at a time.
 * The arithmetic is the kernels' of fast-task-vectors.ts on whole vectors, block by block, so the bytes match.
 */
import { invariant } from '../../core/errors.js';
import type { KernelExports } from './loader.js';
import { readFullyAt, writeFullyAt } from './read-fully.js';
import { TASK_INPUT_F16 } from './task-vector-from-files.js';

export const PASS_LOAD = 0;
export const PASS_LEVEL2 = 1;
export const PASS_FINAL = 2;

/** per-model sparsifier of the FINAL pass (and of the LOAD pass's l1 norms) */
export const KEEP_ALL = 0;
export const KEEP_BAND = 1;
export const KEEP_DARE = 2;
export const KEEP_NONE = 3;
/** DARE's mask as the LOAD pass stored it (fused FINAL kernel only): [mask address of element 0, 0, 0, scale] */
export const KEEP_MASK = 4;

/** output encodings of the FINAL pass */
export const OUT_F32 = 0;
export const OUT_BF16 = 1;
export const OUT_F16 = 2;

/** bins of the first select level (|δ| bits 30..15) and of the second (bits 14..0) */
export const LEVEL1_BINS = 1 << 16;
export const LEVEL2_BINS = 1 << 15;
export const LEVEL1_SHIFT = 15;

/** numbers per model record: kind, then up to 8 parameters (see `ModelRecord`) */
const RECORD = 9;
const ALIGN = 64;

const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** scratch bytes one thread needs for `inputs` inputs (base included) in blocks of `blockElements` */
export function taskVectorPassScratchBytes(inputs: number, blockElements: number): number {
  return (inputs + OUT_STAGING_BLOCKS) * alignUp(blockElements * 4) + inputs * rawStrideOf(blockElements) + 2 * alignUp(4 * inputs) + alignUp(8 * RECORD * inputs) + FINAL_WORK_BYTES;
}

/**
 * the fused FINAL kernel's work table: 128 bytes for each of up to 4 models, then λ and the divisor in float64 and
 * float32 (assembly/task-vector-final.ts); in the LOAD pass the scratch of deltaBand and dareNorms (checked per pass)
 */
const FINAL_WORK_BYTES = alignUp(4 * 128 + 64);

/**
 * float32-block sizes of the FINAL pass's output staging: encoded blocks collect there and go to the file in one
 * positional write (8 bfloat16 blocks = 256 KiB per write instead of 32 KiB: writing 448 MB to tmpfs cost 0.19
 * CPU-s in 32 KiB writes, 0.12–0.13 in 256 KiB ones, loaded box 2026-12-06)
 */
const OUT_STAGING_BLOCKS = 4;

/**
 * bytes of each input read per positional read: the blocks are processed 16K elements at a time, but reading
 * 128 KiB at once costs a third of the CPU of 32 KiB reads (page cache → memory, 4.4 GB of bench:merge's family
 * on this machine, 2026-12-06: 0.90 CPU-s in 32 KiB reads, 0.36 in 128 KiB ones, 0.33 in 256 KiB ones)
 */
const READ_BYTES = 128 << 10;

/** bytes of one input's raw area in the scratch: a block of float32 or READ_BYTES, whichever is more */
const rawStrideOf = (blockElements: number): number => alignUp(Math.max(blockElements * 4, READ_BYTES));

/** most bands deltaBands (assembly/select-bands.ts) takes in one loop; more take one deltaBand call each */
const DELTA_BANDS_MOST = 4;

/** most models the fused FINAL kernel (assembly/task-vector-final.ts) takes; more take the block-wise kernels */
export const FUSED_FINAL_MODELS = 4;

/**
 * Which FINAL kernels the caller asks for: the fused per-element kernel (up to FUSED_FINAL_MODELS models) or the
 * block-wise ones (decode, keepBandAt / dareKeep, tiesCombineF64, encode). Same bytes; bench/merge-profile.ts
 * `--final blocks` and the tests switch it.
 */
export const finalPassTuning = { fused: true };

/**
 * A model's sparsifier: KEEP_BAND [low, lowFirst, lowLast, high, highFirst, highLast, scale, ties] (ties: byte
 * address of this range's i32 pair of tie numbers, advanced by the pass); KEEP_DARE [k0, k1, keepBelow, scale,
 * and in the LOAD pass the address where dareNorms keeps the mask, or 0]; KEEP_MASK [mask address, 0, 0, scale].
 */
export interface ModelRecord {
  readonly kind: number;
  readonly params: readonly number[];
}

interface Common {
  readonly mode: number;
  readonly n: number;
  /** global index of the range's first element */
  readonly start: number;
  readonly kind: number;
  readonly width: number;
  readonly status: number;
  readonly scratch: number;
  readonly blockElements: number;
  /** per input, base first: descriptor and file position of element 0 */
  readonly fds: readonly number[];
  readonly positions: readonly number[];
}

export interface LoadPass extends Common {
  readonly mode: typeof PASS_LOAD;
  /** this range's first-level histograms (LEVEL1_BINS u32 per model), or 0 */
  readonly histograms: number;
  /** float64 per-block l1 norms before / after the model's sparsifier (model-major, `blocks` per model), or 0 */
  readonly normsBefore: number;
  readonly normsAfter: number;
  readonly blocks: number;
  /** per cut bracketed by a band: model index, lo, hi, record address (see `deltaBand`) */
  readonly bands: readonly (readonly [number, number, number, number])[];
  readonly records: readonly ModelRecord[];
}

export interface Level2Pass extends Common {
  readonly mode: typeof PASS_LEVEL2;
  /** per cut: model index, first-level bucket, histogram address (LEVEL2_BINS u32) */
  readonly cuts: readonly (readonly [number, number, number])[];
}

/** The mix's arguments as the kernels take them: float64 tables of weights and l1 factors (0: none), then scalars. */
export interface MixArgs {
  readonly weights: number;
  readonly factors: number;
  readonly plainDivisor: number;
  readonly lambda: number;
  readonly consensus: number;
  readonly normalize: number;
}

export interface FinalPass extends Common, MixArgs {
  readonly mode: typeof PASS_FINAL;
  readonly records: readonly ModelRecord[];
  readonly outKind: number;
  /** byte address of output element 0 in memory (when outFd < 0) */
  readonly out: number;
  readonly outFd: number;
  /** file position of output element 0 (with outFd) */
  readonly outPosition: number;
  /** 1: the fused kernel (1..FUSED_FINAL_MODELS models), 0: the block-wise kernels */
  readonly fused: number;
  /**
   * 1: the fused kernel mixes in float32 (assembly/task-vector-mix-f32.ts) and stores 1 at `status` when a result
   * is not finite (the caller redoes the tensor in float64); 0: float64 (the reference's arithmetic)
   */
  readonly float32: number;
}

export type TaskVectorPass = LoadPass | Level2Pass | FinalPass;

const recordArgs = (records: readonly ModelRecord[]): number[] =>
  records.flatMap((r) => [r.kind, ...r.params, ...new Array<number>(RECORD - 1 - r.params.length).fill(0)]);

/** Flat argument list of a pass (the worker protocol carries numbers only). */
export function taskVectorPassArgs(job: TaskVectorPass): number[] {
  const head = [job.mode, job.n, job.start, job.kind, job.width, job.status, job.scratch, job.blockElements, job.fds.length, ...job.fds, ...job.positions];
  if (job.mode === PASS_LOAD) {
    return [...head, job.histograms, job.normsBefore, job.normsAfter, job.blocks, job.bands.length, ...job.bands.flat(), ...recordArgs(job.records)];
  }
  if (job.mode === PASS_LEVEL2) return [...head, job.cuts.length, ...job.cuts.flat()];
  const tail = [job.weights, job.factors, job.plainDivisor, job.lambda, job.consensus, job.normalize, job.outKind, job.out, job.outFd, job.outPosition, job.fused, job.float32];
  return [...head, ...tail, ...recordArgs(job.records)];
}

function parse(args: readonly number[]): TaskVectorPass {
  let at = 0;
  const next = (): number => {
    invariant(at < args.length, () => `taskVectorPass: argument ${at} missing (${args.length} given)`);
    return args[at++]!;
  };
  const take = (count: number): number[] => Array.from({ length: count }, next);
  const mode = next();
  const common = {
    n: next(),
    start: next(),
    kind: next(),
    width: next(),
    status: next(),
    scratch: next(),
    blockElements: next(),
  };
  const inputs = next();
  const fds = take(inputs);
  const positions = take(inputs);
  const records = (): ModelRecord[] => Array.from({ length: inputs - 1 }, () => ({ kind: next(), params: take(RECORD - 1) }));
  let job: TaskVectorPass;
  if (mode === PASS_LOAD) {
    const [histograms, normsBefore, normsAfter, blocks, bandCount] = take(5) as [number, number, number, number, number];
    const bands = Array.from({ length: bandCount }, () => take(4) as unknown as [number, number, number, number]);
    job = { mode, ...common, fds, positions, histograms, normsBefore, normsAfter, blocks, bands, records: records() };
  } else if (mode === PASS_LEVEL2) {
    const count = next();
    job = { mode, ...common, fds, positions, cuts: Array.from({ length: count }, () => take(3) as unknown as [number, number, number]) };
  } else {
    invariant(mode === PASS_FINAL, () => `taskVectorPass: unknown mode ${mode}`);
    const [weights, factors, plainDivisor, lambda, consensus, normalize, outKind, out, outFd, outPosition, fused, float32] = take(12) as [number, number, number, number, number, number, number, number, number, number, number, number];
    job = { mode, ...common, fds, positions, weights, factors, plainDivisor, lambda, consensus, normalize, outKind, out, outFd, outPosition, fused, float32, records: records() };
  }
  invariant(at === args.length, () => `taskVectorPass: ${args.length - at} arguments left over`);
  return job;
}

/** The record's sparsifier applied in place to the `length` elements at `delta` (global index `index`). */
function sparsifyBlock(kernels: KernelExports, memory: WebAssembly.Memory, record: ModelRecord, delta: number, length: number, index: number): void {
  const p = record.params;
  if (record.kind === KEEP_BAND) kernels.keepBandAt(delta, delta, length, p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!);
  else if (record.kind === KEEP_DARE) kernels.dareKeep(delta, delta, length, index, p[0]!, p[1]!, p[2]!, p[3]!);
  else if (record.kind === KEEP_NONE) new Float32Array(memory.buffer, delta, length).fill(0);
}

export function runTaskVectorPass(kernels: KernelExports, memory: WebAssembly.Memory, args: readonly number[]): void {
  const job = parse(args);
  const inputs = job.fds.length;
  const models = inputs - 1;
  const stride = alignUp(job.blockElements * 4);
  const baseBlock = job.scratch;
  const deltaBlock = (j: number): number => job.scratch + (1 + j) * stride;
  const outBlock = job.scratch + inputs * stride;
  const rawBlocks = outBlock + OUT_STAGING_BLOCKS * stride;
  const rawStride = rawStrideOf(job.blockElements);
  const table = rawBlocks + inputs * rawStride;
  const rawTable = table + alignUp(4 * inputs);
  const recordTable = rawTable + alignUp(4 * inputs);
  const work = recordTable + alignUp(8 * RECORD * inputs);
  invariant(
    Math.max(kernels.DELTA_BAND_SCRATCH.value as number, kernels.DELTA_BANDS_SCRATCH.value as number, kernels.DARE_NORMS_SCRATCH.value as number) <= FINAL_WORK_BYTES,
    () => `taskVectorPass: the LOAD kernels' scratch outgrew the work table's ${FINAL_WORK_BYTES} bytes`,
  );
  // the memory may have grown since this thread last looked: fresh views per job
  const bytes = new Uint8Array(memory.buffer);
  new Uint32Array(memory.buffer, table, models).set(Array.from({ length: models }, (_, j) => deltaBlock(j)));
  const outWidth = job.mode === PASS_FINAL ? (job.outKind === OUT_F32 ? 4 : 2) : 0;
  const toFile = job.mode === PASS_FINAL && job.outFd >= 0;
  const stagingElements = Math.floor((OUT_STAGING_BLOCKS * stride) / Math.max(1, outWidth) / job.blockElements) * job.blockElements;
  let staged = 0;
  // FINAL for up to four models: one kernel from the raw blocks to the encoded output (no float32 blocks)
  const fused = job.mode === PASS_FINAL && job.fused !== 0;
  invariant(!fused || (models >= 1 && models <= FUSED_FINAL_MODELS), () => `taskVectorPass: the fused FINAL kernel takes 1..${FUSED_FINAL_MODELS} models, not ${models}`);
  invariant(job.mode !== PASS_FINAL || job.float32 === 0 || fused, () => 'taskVectorPass: the float32 mix needs the fused FINAL kernel');
  if (fused) new Float64Array(memory.buffer, recordTable, models * RECORD).set(recordArgs(job.records));
  const rawPointers = new Uint32Array(memory.buffer, rawTable, inputs);
  // the select levels of bfloat16/float32 inputs count δ straight from the raw blocks, never storing it
  const selects = job.mode === PASS_LOAD && (job.histograms !== 0 || job.bands.length > 0);
  // the l1 norms of DARE masks (no cut to select) straight from the raw blocks too: assembly/dare-norms.ts
  const dareNorms = job.mode === PASS_LOAD && job.normsBefore !== 0 && !selects && job.records.every((r) => r.kind === KEEP_DARE || r.kind === KEEP_ALL);
  const direct = fused || dareNorms || (job.kind !== TASK_INPUT_F16 && (job.mode === PASS_LEVEL2 || (selects && job.normsBefore === 0)));
  // bands of distinct models (Breadcrumbs' two per model take deltaBand's two-band form) in one loop, its table
  // (raw block, lo, hi, record per band) in the record table, which only the FINAL pass uses
  const bands = job.mode === PASS_LOAD ? job.bands : [];
  const oneBandEach = bands.length >= 1 && bands.length <= DELTA_BANDS_MOST && new Set(bands.map(([model]) => model)).size === bands.length;
  const bandTable = new Uint32Array(memory.buffer, recordTable, 4 * DELTA_BANDS_MOST);
  // whole blocks per read
  const readElements = Math.max(1, Math.floor(rawStride / job.width / job.blockElements)) * job.blockElements;
  let chunkStart = 0;
  for (let s = 0; s < job.n; s += job.blockElements) {
    const length = Math.min(job.blockElements, job.n - s);
    const index = job.start + s;
    if (s % readElements === 0) {
      chunkStart = s;
      const chunk = Math.min(readElements, job.n - s);
      for (let j = 0; j < inputs; j++) {
        const at = rawBlocks + j * rawStride;
        readFullyAt(job.fds[j]!, bytes.subarray(at, at + chunk * job.width), job.positions[j]! + index * job.width);
      }
    }
    const raw = (j: number): number => rawBlocks + j * rawStride + (s - chunkStart) * job.width;
    for (let j = 0; j < inputs; j++) {
      if (!direct) kernels.decodeTaskVector(raw(j), j === 0 ? 0 : baseBlock, j === 0 ? baseBlock : deltaBlock(j - 1), length, job.kind, job.status, 0);
    }
    if (job.mode === PASS_LOAD) {
      // the bands before the l1 norms' in-place sparsify below
      countBands(kernels, job, raw, deltaBlock, length, direct ? (oneBandEach ? 'one loop' : 'raw') : 'decoded', bandTable, work);
      for (let j = 0; j < models; j++) {
        const delta = deltaBlock(j);
        const histogram = job.histograms + j * LEVEL1_BINS * 4;
        if (job.histograms !== 0) {
          if (direct) kernels.deltaHistogramPrefix(raw(j + 1), raw(0), length, job.kind, job.status, 31, 0, LEVEL1_SHIFT, LEVEL1_BINS - 1, histogram);
          else kernels.absHistogramPrefix(delta, length, 31, 0, LEVEL1_SHIFT, LEVEL1_BINS - 1, histogram);
        }
        if (job.normsBefore === 0) continue;
        // blocks are whole l1 blocks of the tensor (the caller aligns them), so the partials match l1Norm's
        const block = job.normsBefore + (j * job.blocks + index / job.blockElements) * 8;
        const afterBlock = block - job.normsBefore + job.normsAfter;
        if (dareNorms) {
          const p = job.records[j]!.params;
          // a model that keeps everything: the mask of a draw bound past 2³², no scale
          // p[4]: where to keep the mask for the FINAL pass (KEEP_MASK), a byte per four elements from element 0
          const mask = p[4] ? p[4] + index / 4 : 0;
          if (job.records[j]!.kind === KEEP_ALL) kernels.dareNorms(raw(j + 1), raw(0), length, job.kind, job.status, index, 0, 0, 2 ** 33, 1, block, afterBlock, 0, work);
          else kernels.dareNorms(raw(j + 1), raw(0), length, job.kind, job.status, index, p[0]!, p[1]!, p[2]!, p[3]!, block, afterBlock, mask, work);
          continue;
        }
        kernels.absSumBlocks(delta, length, block);
        sparsifyBlock(kernels, memory, job.records[j]!, delta, length, index);
        kernels.absSumBlocks(delta, length, afterBlock);
      }
    } else if (job.mode === PASS_LEVEL2) {
      for (const [model, prefix, histogram] of job.cuts) {
        if (direct) kernels.deltaHistogramPrefix(raw(model + 1), raw(0), length, job.kind, job.status, LEVEL1_SHIFT, prefix, 0, LEVEL2_BINS - 1, histogram);
        else kernels.absHistogramPrefix(deltaBlock(model), length, LEVEL1_SHIFT, prefix, 0, LEVEL2_BINS - 1, histogram);
      }
    } else {
      const target = toFile ? outBlock + staged * outWidth : job.out + index * outWidth;
      if (fused) {
        for (let j = 0; j < inputs; j++) rawPointers[j] = raw(j);
        kernels.taskVectorFinal(rawTable, length, job.kind, index, recordTable, models, job.weights, job.factors, job.plainDivisor, job.lambda, job.consensus, job.normalize, job.outKind, target, work, job.float32, job.status);
      } else {
        for (let j = 0; j < models; j++) sparsifyBlock(kernels, memory, job.records[j]!, deltaBlock(j), length, index);
        kernels.tiesCombineF64(baseBlock, baseBlock, table, job.weights, models, length, job.plainDivisor, job.lambda, job.consensus, job.normalize, job.factors);
        if (job.outKind === OUT_BF16) kernels.f32ToBf16(baseBlock, target, length);
        else if (job.outKind === OUT_F16) kernels.f32ToF16(baseBlock, target, length);
        else bytes.copyWithin(target, baseBlock, baseBlock + length * 4);
      }
      staged += length;
      // every block but the range's last is whole, so the staging fills exactly
      if (toFile && (staged === stagingElements || s + length >= job.n)) {
        const first = index + length - staged;
        writeFullyAt(job.outFd, bytes.subarray(outBlock, outBlock + staged * outWidth), job.outPosition + first * outWidth);
        staged = 0;
      }
    }
  }
}

/**
 * The LOAD pass's cut bands of one block: one band per model (up to four: ties) in one deltaBands loop over the
 * raw blocks (assembly/select-bands.ts), else one deltaBand call per model, from the raw blocks or, for float16
 * inputs, from the decoded δ (base 0). A model's two cuts (Breadcrumbs) are consecutive: one call forms δ once for both.
 */
function countBands(
  kernels: KernelExports,
  job: LoadPass,
  raw: (j: number) => number,
  delta: (j: number) => number,
  length: number,
  form: 'one loop' | 'raw' | 'decoded',
  table: Uint32Array,
  work: number,
): void {
  if (form === 'one loop') {
    job.bands.forEach(([model, lo, hi, record], c) => table.set([raw(model + 1), lo, hi, record], 4 * c));
    kernels.deltaBands(raw(0), length, job.kind, job.status, table.byteOffset, job.bands.length, work);
    return;
  }
  for (let c = 0; c < job.bands.length; c++) {
    const [model, lo, hi, record] = job.bands[c]!;
    const next = job.bands[c + 1];
    const [, lo1, hi1, record1] = next !== undefined && next[0] === model ? (c++, next) : [0, 0, 0, 0];
    if (form === 'raw') kernels.deltaBand(raw(model + 1), raw(0), length, job.kind, job.status, lo, hi, record, lo1, hi1, record1, work);
    else kernels.deltaBand(delta(model), 0, length, job.kind, job.status, lo, hi, record, lo1, hi1, record1, work);
  }
}
