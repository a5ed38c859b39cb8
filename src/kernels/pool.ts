/**
 * WebAssembly SIMD kernel pool (engines.md §4, §8): N worker threads share ONE WebAssembly.Memory, each with
 * its own instance of build/kernels.wasm, and split every kernel call into disjoint index ranges.
 *
 * Data placement: arrays allocated from `pool.arena` live in the shared memory and are used in place (the fast
 * path: read tensors straight into them). Any other typed array is streamed through arena staging buffers in
 * chunks of at most `chunkBytes` per array, so no operation needs more than wasm32's 4 GiB.
 *
 * Ranges are cut at multiples of STATS_BLOCK elements counted from the start of the whole array, which is what
 * makes reductions (deltaStats) bit-identical for any worker count and chunk size.
 */
import { availableParallelism } from 'node:os';
import { ModelevoError } from '../core/errors.js';
import { WasmArena } from './wasm/arena.js';
import {
  createSharedMemory,
  instantiateKernels,
  loadKernelModule,
  type KernelExports,
  type KernelFunctionName,
} from './wasm/loader.js';
import { KernelWorkers, type KernelJob } from './wasm/workers.js';
import { isFileKernel, runFileKernel, type FileKernelName } from './wasm/file-kernels.js';
import type { DeltaStats, TiesMixOptions } from './reference/wasm-refs.js';
import type { Kernels } from './index.js';

export interface KernelPoolOptions {
  /** worker threads; 0 runs every kernel on the calling thread. Default min(2, availableParallelism()). */
  readonly workers?: number;
  /** staging size per array when streaming arrays that live outside the arena. Default 64 MiB. */
  readonly chunkBytes?: number;
  /** calls on fewer elements run on the calling thread (a worker round trip costs ~0.1 ms). Default 65,536. */
  readonly minParallelElements?: number;
  /** location of kernels.wasm; default build/kernels.wasm at the package root */
  readonly wasmUrl?: URL;
  /**
   * The calling thread computes one part of every parallel call itself (after handing the workers theirs), so
   * `workers` threads plus the caller share the work: for callers that would otherwise only wait (the merge
   * executor). Default false.
   */
  readonly callerTakesPart?: boolean;
}

type KernelArray = Float32Array | Uint16Array | Uint32Array;

/** How runSplit cuts [0, n): range boundaries at multiples of `align` (default STATS_BLOCK), parallel from `minParallel` items. */
export interface SplitOptions {
  readonly align?: number;
  readonly minParallel?: number;
}

interface Streamed {
  readonly view: KernelArray;
  readonly write: boolean;
}

const HISTOGRAM_BINS = 2048;
const STATS_FIELDS = 5;

export class KernelPool implements Kernels {
  readonly kind = 'wasm' as const;
  readonly arena: WasmArena;
  private readonly splitAlign: number;
  private readonly chunkBytes: number;
  private readonly minParallel: number;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly callerTakesPart: boolean;

  private constructor(
    private readonly local: KernelExports,
    private readonly workers: KernelWorkers | undefined,
    memory: WebAssembly.Memory,
    options: KernelPoolOptions,
  ) {
    this.arena = new WasmArena(memory, local.heapBase());
    this.splitAlign = local.STATS_BLOCK.value as number;
    this.chunkBytes = options.chunkBytes ?? 64 * 2 ** 20;
    this.minParallel = options.minParallelElements ?? 65536;
    this.callerTakesPart = options.callerTakesPart ?? false;
    if (!(this.chunkBytes >= this.splitAlign * 4)) {
      throw new ModelevoError('VALUE_INVALID', `KernelPool chunkBytes must be ≥ ${this.splitAlign * 4}, got ${this.chunkBytes}`, {
        hint: 'use 64–256 MiB for large tensors',
      });
    }
  }

  /** Compiles the module, creates the shared memory and starts the workers. */
  static async create(options: KernelPoolOptions = {}): Promise<KernelPool> {
    const module = loadKernelModule(options.wasmUrl);
    const memory = createSharedMemory();
    const count = options.workers ?? Math.min(2, availableParallelism());
    if (!Number.isInteger(count) || count < 0) {
      throw new ModelevoError('VALUE_INVALID', `KernelPool workers must be a non-negative integer, got ${count}`, {
        hint: 'use 0 for the calling thread only, or e.g. 2',
      });
    }
    const workers = count > 0 ? await KernelWorkers.start(count, { module, memory }) : undefined;
    return new KernelPool(instantiateKernels(module, memory), workers, memory, options);
  }

  get workerCount(): number {
    return this.workers?.size ?? 0;
  }

  /** The most parts a call is cut into (workers, plus the caller with `callerTakesPart`): size per-part buffers by it. */
  get partCount(): number {
    return Math.max(1, this.workerCount + (this.callerTakesPart && this.workerCount > 0 ? 1 : 0));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
    await this.workers?.close();
  }

  /** out = Σ_j weights[j]·inputs[j] in float32 (see assembly/linear.ts for the operation order). */
  weightedSum(out: Float32Array, inputs: readonly Float32Array[], weights: readonly number[]): Promise<void> {
    requireSameLength('weightedSum', 'weights', weights.length, 'inputs', inputs.length);
    inputs.forEach((x, j) => requireSameLength('weightedSum', `inputs[${j}]`, x.length, 'out', out.length));
    return this.exclusive(async () => {
      const count = inputs.length;
      const weightTable = this.arena.f32(Math.max(1, count));
      weightTable.set(weights);
      const parts = this.partCount;
      const pointerTables = this.arena.u32(Math.max(1, parts * count));
      const arrays: Streamed[] = [{ view: out, write: true }, ...inputs.map((view) => ({ view, write: false }))];
      await this.stream(out.length, arrays, (pointers, length) =>
        this.split(length, (start, partLength, part) => {
          for (let j = 0; j < count; j++) pointerTables[part * count + j] = pointers[j + 1]! + start * 4;
          const args = [pointers[0]! + start * 4, pointerTables.byteOffset + part * count * 4, weightTable.byteOffset, count, partLength];
          return { kernel: 'weightedSum', args };
        }),
      );
    });
  }

  /** Float64 sums of x = a − base, y = b − base (assembly/stats.ts documents the accumulation order). */
  deltaStats(a: Float32Array, b: Float32Array, base?: Float32Array): Promise<DeltaStats> {
    requireSameLength('deltaStats', 'b', b.length, 'a', a.length);
    if (base) requireSameLength('deltaStats', 'base', base.length, 'a', a.length);
    return this.exclusive(async () => {
      const n = a.length;
      const blocks = Math.ceil(n / this.splitAlign);
      const partials = this.arena.f64(Math.max(1, blocks * STATS_FIELDS));
      const arrays: Streamed[] = [a, b, ...(base ? [base] : [])].map((view) => ({ view, write: false }));
      await this.stream(n, arrays, (pointers, length, chunkStart) =>
        this.split(length, (start, partLength) => {
          const at = (k: number): number => pointers[k]! + start * 4;
          const block = (chunkStart + start) / this.splitAlign;
          const partialPointer = partials.byteOffset + block * STATS_FIELDS * 8;
          return { kernel: 'deltaStats', args: [at(0), at(1), base ? at(2) : 0, partLength, partialPointer] };
        }),
      );
      const sums = [0, 0, 0, 0, 0];
      for (let k = 0; k < blocks; k++) {
        for (let f = 0; f < STATS_FIELDS; f++) sums[f] = sums[f]! + partials[k * STATS_FIELDS + f]!;
      }
      const [sumX, sumY, sumXX, sumYY, sumXY] = sums as [number, number, number, number, number];
      return { n, sumX, sumY, sumXX, sumYY, sumXY };
    });
  }

  bf16ToF32(src: Uint16Array, dst: Float32Array): Promise<void> {
    return this.convert('bf16ToF32', src, dst);
  }

  f32ToBf16(src: Float32Array, dst: Uint16Array): Promise<void> {
    return this.convert('f32ToBf16', src, dst);
  }

  f16ToF32(src: Uint16Array, dst: Float32Array): Promise<void> {
    return this.convert('f16ToF32', src, dst);
  }

  f32ToF16(src: Float32Array, dst: Uint16Array): Promise<void> {
    return this.convert('f32ToF16', src, dst);
  }

  /** Fused TIES mix, merge-methods.md §3.6 steps 3–7 (assembly/ties.ts). */
  tiesMix(out: Float32Array, base: Float32Array, models: readonly Float32Array[], options: TiesMixOptions): Promise<void> {
    requireSameLength('tiesMix', 'base', base.length, 'out', out.length);
    models.forEach((x, j) => requireSameLength('tiesMix', `models[${j}]`, x.length, 'out', out.length));
    requireSameLength('tiesMix', 'options.weights', options.weights.length, 'models', models.length);
    requireSameLength('tiesMix', 'options.thresholds', options.thresholds.length, 'models', models.length);
    return this.exclusive(async () => {
      const count = models.length;
      const weights = this.arena.f32(Math.max(1, count));
      weights.set(options.weights);
      const thresholds = this.arena.f32(Math.max(1, count));
      thresholds.set(options.thresholds);
      const parts = this.partCount;
      const pointerTables = this.arena.u32(Math.max(1, parts * count));
      const flags = (options.consensus ? this.flag('TIES_CONSENSUS') : 0) | (options.normalize ? this.flag('TIES_NORMALIZE') : 0);
      const arrays: Streamed[] = [
        { view: out, write: true },
        { view: base, write: false },
        ...models.map((view) => ({ view, write: false })),
      ];
      await this.stream(out.length, arrays, (pointers, length) =>
        this.split(length, (start, partLength, part) => {
          for (let j = 0; j < count; j++) pointerTables[part * count + j] = pointers[j + 2]! + start * 4;
          const tablePointer = pointerTables.byteOffset + part * count * 4;
          const args = [
            pointers[0]! + start * 4,
            pointers[1]! + start * 4,
            tablePointer,
            thresholds.byteOffset,
            weights.byteOffset,
            count,
            partLength,
            options.lambda,
            flags,
          ];
          return { kernel: 'tiesMix', args };
        }),
      );
    });
  }

  /** Adds to `hist` (2048 bins) the counts of the top 11 bits of |x|'s float32 bit pattern. */
  absHistogram11(x: Float32Array, hist: Uint32Array): Promise<void> {
    requireSameLength('absHistogram11', 'hist', hist.length, 'bins', HISTOGRAM_BINS);
    return this.exclusive(async () => {
      const parts = this.partCount;
      const histograms = this.arena.u32(parts * HISTOGRAM_BINS);
      histograms.fill(0);
      await this.stream(x.length, [{ view: x, write: false }], (pointers, length) =>
        this.split(length, (start, partLength, part) => ({
          kernel: 'absHistogram11',
          args: [pointers[0]! + start * 4, partLength, histograms.byteOffset + part * HISTOGRAM_BINS * 4],
        })),
      );
      for (let p = 0; p < parts; p++) {
        for (let bin = 0; bin < HISTOGRAM_BINS; bin++) hist[bin] = hist[bin]! + histograms[p * HISTOGRAM_BINS + bin]!;
      }
    });
  }

  /**
   * Runs exported kernel `kernel` over [0, n), cut into one range per worker at the split alignment;
   * `argsFor` turns a range into the kernel's arguments. Every array it addresses must already live in the
   * arena (allocated before the call: the arena is rewound after each operation). Used by the merge executor
   * (src/merge/fast-path.ts) for kernels without a typed method here, including the JavaScript-composed
   * kernels of wasm/file-kernels.ts.
   */
  runSplit(
    kernel: KernelFunctionName | FileKernelName,
    n: number,
    argsFor: (start: number, length: number, part: number) => readonly number[],
    options: SplitOptions = {},
  ): Promise<void> {
    return this.exclusive(async () => {
      if (n > 0) await this.split(n, (start, length, part) => ({ kernel, args: argsFor(start, length, part) }), options);
    });
  }

  /** The default range alignment of runSplit (STATS_BLOCK elements): per-block partial sums stay split-independent. */
  get splitAlignment(): number {
    return this.splitAlign;
  }

  /** Value of an exported i32 constant of the kernel module (flag bits). */
  constantOf(
    name: 'LINEAR_IN_BF16' | 'LINEAR_OUT_BF16' | 'TIES_CONSENSUS' | 'TIES_NORMALIZE' | 'KINSHIP_BLOCK' | 'KINSHIP_SQDIFF',
  ): number {
    return this.local[name].value as number;
  }

  /** float64 values per block record of assembly/kinship.ts `kinshipMoments` */
  kinshipRecordLength(models: number, flags: number): number {
    return this.local.kinshipRecordLength(models, flags);
  }

  /** scratch bytes per thread of assembly/sparsify.ts `dellaRows` for rows of `rowLength` elements */
  dellaScratchBytes(rowLength: number): number {
    return this.local.dellaScratchBytes(rowLength);
  }

  private convert(kernel: KernelFunctionName, src: KernelArray, dst: KernelArray): Promise<void> {
    requireSameLength(kernel, 'dst', dst.length, 'src', src.length);
    return this.exclusive(() =>
      this.stream(src.length, [{ view: src, write: false }, { view: dst, write: true }], (pointers, length) =>
        this.split(length, (start, partLength) => ({
          kernel,
          args: [pointers[0]! + start * src.BYTES_PER_ELEMENT, pointers[1]! + start * dst.BYTES_PER_ELEMENT, partLength],
        })),
      ),
    );
  }

  private flag(name: 'TIES_CONSENSUS' | 'TIES_NORMALIZE'): number {
    return this.local[name].value as number;
  }

  /** One operation at a time: operations share the arena's stack discipline and the workers. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new ModelevoError('VALUE_INVALID', 'KernelPool used after close()', { hint: 'create a new pool with KernelPool.create()' }),
      );
    }
    const run = async (): Promise<T> => {
      const mark = this.arena.mark();
      try {
        return await operation();
      } finally {
        this.arena.release(mark);
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Calls `runChunk` with byte addresses of every array for successive chunks of [0, n). Arena-owned arrays
   * are addressed in place; the rest are copied through staging buffers (inputs before, outputs after).
   */
  private async stream(
    n: number,
    arrays: readonly Streamed[],
    runChunk: (pointers: readonly number[], length: number, chunkStart: number) => Promise<void>,
  ): Promise<void> {
    if (n === 0) return;
    const resident = arrays.map(({ view }) => this.arena.owns(view));
    if (resident.every(Boolean)) {
      await runChunk(arrays.map(({ view }) => view.byteOffset), n, 0);
      return;
    }
    const widest = Math.max(...arrays.map(({ view }) => view.BYTES_PER_ELEMENT));
    const chunkElements = Math.min(n, Math.max(1, Math.floor(this.chunkBytes / widest / this.splitAlign)) * this.splitAlign);
    const staging = arrays.map(({ view }, k) =>
      resident[k] ? undefined : stagingLike(view, this.arena, chunkElements),
    );
    for (let chunkStart = 0; chunkStart < n; chunkStart += chunkElements) {
      const length = Math.min(chunkElements, n - chunkStart);
      const pointers = arrays.map(({ view, write }, k) => {
        const stage = staging[k];
        if (!stage) return view.byteOffset + chunkStart * view.BYTES_PER_ELEMENT;
        if (!write) stage.set(view.subarray(chunkStart, chunkStart + length));
        return stage.byteOffset;
      });
      await runChunk(pointers, length, chunkStart);
      arrays.forEach(({ view, write }, k) => {
        const stage = staging[k];
        if (write && stage) view.set(stage.subarray(0, length), chunkStart);
      });
    }
  }

  /** Cuts [0, length) into at most one range per worker, at multiples of the split alignment, and runs them. */
  private async split(length: number, jobFor: (start: number, partLength: number, part: number) => KernelJob, options: SplitOptions = {}): Promise<void> {
    const workers = this.workers;
    const align = options.align ?? this.splitAlign;
    const parallel = workers !== undefined && length >= (options.minParallel ?? this.minParallel);
    const parts = parallel ? Math.min(this.partCount, Math.ceil(length / align)) : 1;
    const step = Math.ceil(length / parts / align) * align;
    const jobs: KernelJob[] = [];
    for (let part = 0, start = 0; part < parts && start < length; part++, start += step) {
      jobs.push(jobFor(start, Math.min(step, length - start), part));
    }
    const runHere = (job: KernelJob): void => {
      if (isFileKernel(job.kernel)) runFileKernel(this.local, this.arena.memory, job.kernel, job.args);
      else (this.local[job.kernel] as (...args: readonly number[]) => void)(...job.args);
    };
    if (!parallel || !workers) {
      jobs.forEach(runHere);
      return;
    }
    // the caller's part is the last one: the workers get theirs (posted at once) before it runs here
    const mine = this.callerTakesPart && jobs.length > workers.size ? jobs.pop() : undefined;
    const running = workers.run(jobs);
    if (mine !== undefined) {
      try {
        runHere(mine);
      } catch (error) {
        await running.catch(() => undefined);
        throw error;
      }
    }
    await running;
  }
}

function stagingLike(view: KernelArray, arena: WasmArena, length: number): KernelArray {
  if (view instanceof Float32Array) return arena.f32(length);
  if (view instanceof Uint16Array) return arena.u16(length);
  return arena.u32(length);
}

function requireSameLength(kernel: string, name: string, actual: number, against: string, expected: number): void {
  if (actual !== expected) {
    throw new ModelevoError('SHAPE_MISMATCH', `${kernel}: ${name} has ${actual} elements, expected ${expected} (as ${against})`, {
      hint: 'every array passed to one kernel call must have the same length',
      details: { kernel, name, actual, expected },
    });
  }
}
