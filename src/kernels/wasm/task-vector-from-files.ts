/**
 * `taskVectorFromFiles`: loads one element range of a task-vector merge's inputs (base, then every model) from
 * the shard files on the running thread: each input block is read with a positional read into this thread's
 * scratch (page cache → L2) and decoded by assembly/sparsify.ts `decodeTaskVector` straight into the float32
 * vectors in shared memory — the base as values, each model as δ = X − B — with the NaN/±Inf check on the way
 * and, on request, the first level of the top-k select's histogram of each δ.
 * The main thread then neither reads nor decodes the inputs (issue #16), and both workers read in parallel.
 */
import { invariant } from '../../core/errors.js';
import type { KernelExports } from './loader.js';
import { readFullyAt } from './read-fully.js';

/** input element encodings (assembly/sparsify.ts TASK_INPUT_*) */
export const TASK_INPUT_F32 = 0;
export const TASK_INPUT_BF16 = 1;
export const TASK_INPUT_F16 = 2;

const ALIGN = 64;

/** scratch bytes one thread needs to read `blockElements` elements of up to 4 bytes */
export function taskVectorFromFilesScratchBytes(blockElements: number): number {
  return Math.ceil((blockElements * 4) / ALIGN) * ALIGN;
}

export interface TaskVectorFromFilesJob {
  /** elements in this range */
  readonly n: number;
  /** TASK_INPUT_* of every input (they share one dtype) */
  readonly kind: number;
  /** byte address of the status word (1 = a non-finite input) */
  readonly status: number;
  /** byte address of this thread's scratch (taskVectorFromFilesScratchBytes) */
  readonly scratch: number;
  readonly blockElements: number;
  /**
   * byte address of this range's first-level select histograms (2048 u32 per model, zeroed by the caller), or 0
   * for none
   */
  readonly histograms: number;
  /** per input, base first: byte address of the range's first float32 in its vector, descriptor, file position */
  readonly targets: readonly number[];
  readonly fds: readonly number[];
  readonly positions: readonly number[];
}

const HEAD_ARGS = 7;
/** bytes of one model's first-level histogram (2048 u32 bins) */
export const TASK_HISTOGRAM_BYTES = 2048 * 4;

/** Flat argument list of a job (the worker protocol carries numbers only). */
export function taskVectorFromFilesArgs(job: TaskVectorFromFilesJob): number[] {
  return [job.n, job.kind, job.status, job.scratch, job.blockElements, job.histograms, job.targets.length, ...job.targets, ...job.fds, ...job.positions];
}

function parse(args: readonly number[]): TaskVectorFromFilesJob {
  const count = args[6] ?? Number.NaN;
  invariant(Number.isInteger(count) && count >= 1 && args.length === HEAD_ARGS + 3 * count,
    () => `taskVectorFromFiles: expected ${HEAD_ARGS + 3 * count} arguments for ${count} inputs, got ${args.length}`);
  const at = (k: number): number => args[k]!;
  return {
    n: at(0),
    kind: at(1),
    status: at(2),
    scratch: at(3),
    blockElements: at(4),
    histograms: at(5),
    targets: args.slice(HEAD_ARGS, HEAD_ARGS + count),
    fds: args.slice(HEAD_ARGS + count, HEAD_ARGS + 2 * count),
    positions: args.slice(HEAD_ARGS + 2 * count),
  };
}

export function runTaskVectorFromFiles(kernels: KernelExports, memory: WebAssembly.Memory, args: readonly number[]): void {
  const job = parse(args);
  const width = job.kind === TASK_INPUT_F32 ? 4 : 2;
  // the memory may have grown since this thread last looked: a fresh view per job
  const bytes = new Uint8Array(memory.buffer);
  for (let start = 0; start < job.n; start += job.blockElements) {
    const length = Math.min(job.blockElements, job.n - start);
    const baseBlock = job.targets[0]! + start * 4;
    for (let j = 0; j < job.targets.length; j++) {
      const raw = bytes.subarray(job.scratch, job.scratch + length * width);
      readFullyAt(job.fds[j]!, raw, job.positions[j]! + start * width);
      const histogram = j === 0 || job.histograms === 0 ? 0 : job.histograms + (j - 1) * TASK_HISTOGRAM_BYTES;
      kernels.decodeTaskVector(job.scratch, j === 0 ? 0 : baseBlock, job.targets[j]! + start * 4, length, job.kind, job.status, histogram);
    }
  }
}
