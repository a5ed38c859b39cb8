/**
 * Loads build/kernels.wasm (compiled from assembly/ by `npm run build:wasm`) and instantiates it on a shared
 * `WebAssembly.Memory`. The module imports its memory, so the main thread and every worker instantiate the same
 * module on one memory and see the same bytes (engines.md §4, §8).
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelevoError } from '../../core/errors.js';

/** wasm32 addresses 4 GiB at most: 65,536 pages of 64 KiB. */
export const WASM_PAGE_BYTES = 65536;
export const MAX_WASM_PAGES = 65536;

/** Functions exported by assembly/index.ts; every pointer is a byte address, every count an element count. */
export interface KernelExports {
  heapBase(): number;
  bf16ToF32(src: number, dst: number, n: number): void;
  f32ToBf16(src: number, dst: number, n: number): void;
  f16ToF32(src: number, dst: number, n: number): void;
  f32ToF16(src: number, dst: number, n: number): void;
  weightedSum(out: number, inputs: number, weights: number, count: number, n: number): void;
  deltaStats(a: number, b: number, base: number, n: number, partials: number): void;
  tiesMix(
    out: number,
    base: number,
    inputs: number,
    thresholds: number,
    weights: number,
    count: number,
    n: number,
    lambda: number,
    flags: number,
  ): void;
  absHistogram11(x: number, n: number, hist: number): void;
  /** merge-executor kernels (assembly/merge-f64.ts) */
  linearF64(out: number, inputs: number, weights: number, count: number, n: number, flags: number, status: number): void;
  /** the same contract in float32 arithmetic (assembly/merge-f32.ts) */
  linearF32(out: number, inputs: number, weights: number, count: number, n: number, flags: number, status: number): void;
  tiesCombineF64(
    out: number,
    base: number,
    deltas: number,
    weights: number,
    count: number,
    n: number,
    plainDivisor: number,
    lambda: number,
    consensus: number,
    normalize: number,
    /** byte address of one float64 l1 rescale factor per model, or 0 for none */
    factors: number,
  ): void;
  /** Σ|δ| of one l1 block before and after a DARE mask, from the raw blocks (assembly/dare-norms.ts) */
  dareNorms(
    raw: number,
    base: number,
    n: number,
    kind: number,
    status: number,
    indexStart: number,
    k0: number,
    k1: number,
    keepBelow: number,
    scale: number,
    before: number,
    after: number,
    /** byte address for the mask (a byte per four elements), or 0 */
    mask: number,
    /** the calling thread's scratch, DARE_NORMS_SCRATCH (192) bytes */
    scratch: number,
  ): void;
  /** tiesCombineF64's contract in float32 arithmetic for 1..4 models (assembly/task-vector-mix-f32.ts); 1 at status: a result not finite */
  tiesCombineF32(
    out: number,
    base: number,
    deltas: number,
    weights: number,
    count: number,
    n: number,
    plainDivisor: number,
    lambda: number,
    consensus: number,
    normalize: number,
    factors: number,
    status: number,
  ): void;
  findNonFinite(x: number, n: number, status: number): void;
  /** kinship moments of a base and `count` models (assembly/kinship.ts) */
  kinshipMoments(inputs: number, kinds: number, count: number, n: number, flags: number, work: number, out: number): void;
  kinshipRecordLength(count: number, flags: number): number;
  /** task-vector sparsifiers (assembly/sparsify.ts) */
  absHistogramPrefix(x: number, n: number, prefixShift: number, prefix: number, shift: number, mask: number, hist: number): void;
  /** absHistogramPrefix for `count` argument records of 7 u32 at `table` (assembly/select-band.ts) */
  absHistogramPrefixMany(table: number, count: number): void;
  keepBand(
    src: number,
    dst: number,
    n: number,
    low: number,
    lowTie: number,
    lowFirst: number,
    lowLast: number,
    high: number,
    highTie: number,
    highFirst: number,
    highLast: number,
    scale: number,
  ): void;
  /** keepBand over one block, the two tie numbers (low, high) read from and stored back to the i32 pair at `ties` */
  keepBandAt(
    src: number,
    dst: number,
    n: number,
    low: number,
    lowFirst: number,
    lowLast: number,
    high: number,
    highFirst: number,
    highLast: number,
    scale: number,
    ties: number,
  ): void;
  dareKeep(src: number, dst: number, n: number, indexStart: number, k0: number, k1: number, keepBelow: number, scale: number): void;
  dellaRows(x: number, rows: number, rowLength: number, indexStart: number, k0: number, k1: number, low: number, high: number, inverse: number, scratch: number): void;
  dellaScratchBytes(rowLength: number): number;
  absSumBlocks(x: number, n: number, partials: number): void;
  decodeTaskVector(raw: number, base: number, dst: number, n: number, kind: number, status: number, hist: number): void;
  /** absHistogramPrefix of δ = x − base read straight from bf16/f32 raw blocks (no δ stored) */
  deltaHistogramPrefix(raw: number, base: number, n: number, kind: number, status: number, prefixShift: number, prefix: number, shift: number, mask: number, hist: number): void;
  /** counts |δ| patterns above hi and gathers those in [lo, hi] into the record's buffer, for one or two bands (assembly/select-band.ts) */
  deltaBand(raw: number, base: number, n: number, kind: number, status: number, lo: number, hi: number, record: number, lo1: number, hi1: number, record1: number, scratch: number): void;
  /** deltaBand for one band of each of 1..4 models in one loop; table: per band raw block, lo, hi, record (assembly/select-bands.ts) */
  deltaBands(base: number, n: number, kind: number, status: number, table: number, count: number, scratch: number): void;
  /** the FINAL pass of the task-vector passes for 1..4 models in one per-element loop (assembly/task-vector-final.ts) */
  taskVectorFinal(
    raws: number,
    n: number,
    kind: number,
    indexStart: number,
    records: number,
    count: number,
    weights: number,
    factors: number,
    plainDivisor: number,
    lambda: number,
    consensus: number,
    normalize: number,
    outKind: number,
    out: number,
    /** this thread's FINAL_WORK_BYTES for the splatted per-model constants */
    work: number,
    /** 1: mix in float32 (assembly/task-vector-mix-f32.ts), 0: float64 */
    float32: number,
    /** set to 1 when a float32 result is not finite */
    status: number,
  ): void;
  readonly LINEAR_IN_BF16: WebAssembly.Global;
  readonly LINEAR_OUT_BF16: WebAssembly.Global;
  readonly STATS_BLOCK: WebAssembly.Global;
  readonly TIES_CONSENSUS: WebAssembly.Global;
  readonly TIES_NORMALIZE: WebAssembly.Global;
  readonly KINSHIP_BLOCK: WebAssembly.Global;
  readonly KINSHIP_SQDIFF: WebAssembly.Global;
  readonly KINSHIP_IN_BF16: WebAssembly.Global;
  /** bytes of the per-thread scratch deltaBand and dareNorms take (assembly/select-band.ts, dare-norms.ts) */
  readonly DELTA_BAND_SCRATCH: WebAssembly.Global;
  readonly DELTA_BANDS_SCRATCH: WebAssembly.Global;
  readonly DARE_NORMS_SCRATCH: WebAssembly.Global;
}

/** Names of the exported kernel functions that workers may be asked to run. */
export type KernelFunctionName =
  | 'bf16ToF32'
  | 'f32ToBf16'
  | 'f16ToF32'
  | 'f32ToF16'
  | 'weightedSum'
  | 'deltaStats'
  | 'tiesMix'
  | 'absHistogram11'
  | 'linearF64'
  | 'linearF32'
  | 'tiesCombineF64'
  | 'tiesCombineF32'
  | 'findNonFinite'
  | 'kinshipMoments'
  | 'absHistogramPrefix'
  | 'absHistogramPrefixMany'
  | 'keepBand'
  | 'dareKeep'
  | 'dellaRows'
  | 'absSumBlocks'
  | 'decodeTaskVector';

export const KERNEL_FUNCTION_NAMES: readonly KernelFunctionName[] = [
  'bf16ToF32',
  'f32ToBf16',
  'f16ToF32',
  'f32ToF16',
  'weightedSum',
  'deltaStats',
  'tiesMix',
  'absHistogram11',
  'linearF64',
  'linearF32',
  'tiesCombineF64',
  'tiesCombineF32',
  'findNonFinite',
  'kinshipMoments',
  'absHistogramPrefix',
  'absHistogramPrefixMany',
  'keepBand',
  'dareKeep',
  'dellaRows',
  'absSumBlocks',
  'decodeTaskVector',
];

/** The same relative path from src/kernels/wasm/*.ts and dist/kernels/wasm/*.js. */
export const DEFAULT_WASM_URL = new URL('../../../build/kernels.wasm', import.meta.url);

const compiled = new Map<string, WebAssembly.Module>();

/** Compiles (once per path) the kernel module; throws KERNEL_UNAVAILABLE with a hint if it is missing. */
export function loadKernelModule(url: URL = DEFAULT_WASM_URL): WebAssembly.Module {
  const path = fileURLToPath(url);
  const cached = compiled.get(path);
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new ModelevoError('KERNEL_UNAVAILABLE', `WebAssembly kernels not found: expected ${path}, found no file`, {
      hint: "run `npm run build` (or `npm run build:wasm`) to compile assembly/ into build/kernels.wasm, or pass kernels: 'reference'",
      details: { path },
    });
  }
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(readFileSync(path));
  } catch (cause) {
    throw new ModelevoError('KERNEL_UNAVAILABLE', `WebAssembly kernels at ${path} failed to compile: ${String(cause)}`, {
      hint: 'rebuild with `npm run build:wasm`; the module needs a runtime with WebAssembly SIMD and threads (Node ≥ 20)',
      details: { path },
      cause,
    });
  }
  const missing = KERNEL_FUNCTION_NAMES.filter(
    (name) => !WebAssembly.Module.exports(module).some((entry) => entry.name === name),
  );
  if (missing.length > 0) {
    throw new ModelevoError('KERNEL_UNAVAILABLE', `WebAssembly kernels at ${path} lack exports: ${missing.join(', ')}`, {
      hint: 'the file is stale; rebuild with `npm run build:wasm`',
      details: { path, missing },
    });
  }
  compiled.set(path, module);
  return module;
}

/** A growable shared memory (maximum 4 GiB) for the kernel module to import. */
export function createSharedMemory(initialBytes = 16 * WASM_PAGE_BYTES): WebAssembly.Memory {
  const initial = Math.max(1, Math.ceil(initialBytes / WASM_PAGE_BYTES));
  return new WebAssembly.Memory({ initial, maximum: MAX_WASM_PAGES, shared: true });
}

export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
