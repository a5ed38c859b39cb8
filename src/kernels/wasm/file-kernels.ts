/**
 * Kernels composed in JavaScript around a WebAssembly kernel, run on a pool worker (or the calling thread)
 * like any exported kernel (engines.md §4, §8):
 * - linearF64FromFiles / linearF32FromFiles: the streamed linear merge of assembly/merge-f64.ts `linearF64`
 *   (float64 sums) or assembly/merge-f32.ts `linearF32` (float32 arithmetic) over input bytes that the running
 *   thread reads itself with positional reads from open shard descriptors, one cache-sized block per input at a
 *   time. The inputs then travel page cache → the thread's own scratch (still in L2) → kernel, rather than
 *   through a main-thread buffer that is written to and read back from DRAM, and both workers read in parallel
 *   instead of one main thread reading for all of them. With an output descriptor the merged block is written
 *   from the same scratch straight into the output file (positional write), so the output never passes through
 *   a tensor-sized buffer or the main thread either.
 * - taskVectorFromFiles (task-vector-from-files.ts): a task-vector merge's inputs decoded to float32 base and δ;
 * - taskVectorPass (task-vector-passes.ts): the block-wise passes of a task-vector merge (load + first select
 *   level, second select level, sparsify + combine + encode + write);
 * - taskVectorCombineToFile (task-vector-combine.ts): the whole-vector path's float32 mix, encode and write, block
 *   by block;
 * - writeToFile: a range of bytes in memory written at a file position (each worker its part of an encoded
 *   tensor, so the writes run in parallel and off the calling thread).
 * File descriptors are process-wide, so a worker can read from (and write to) a descriptor the main thread opened.
 */
import { invariant } from '../../core/errors.js';
import type { KernelExports } from './loader.js';
import { readFullyAt, writeFullyAt } from './read-fully.js';
import { runKinshipFromFiles } from './kinship-from-files.js';
import { runTaskVectorFromFiles } from './task-vector-from-files.js';
import { runTaskVectorPass } from './task-vector-passes.js';
import { runCombineToFile } from './task-vector-combine.js';

export type FileKernelName =
  | 'linearF64FromFiles'
  | 'linearF32FromFiles'
  | 'kinshipFromFiles'
  | 'taskVectorFromFiles'
  | 'taskVectorPass'
  | 'taskVectorCombineToFile'
  | 'writeToFile';

export const FILE_KERNEL_NAMES: readonly FileKernelName[] = [
  'linearF64FromFiles',
  'linearF32FromFiles',
  'kinshipFromFiles',
  'taskVectorFromFiles',
  'taskVectorPass',
  'taskVectorCombineToFile',
  'writeToFile',
];

/** `outFd` of a job whose output stays in memory at `out`. */
export const NO_OUTPUT_FILE = -1;

export function isFileKernel(name: string): name is FileKernelName {
  return (FILE_KERNEL_NAMES as readonly string[]).includes(name);
}

const ALIGN = 64;

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/**
 * Scratch bytes one thread needs for a linear file kernel over `count` inputs of `inBytes`-byte elements,
 * including one output block of `outBytes`-byte elements for jobs that write to a file.
 */
export function linearFromFilesScratchBytes(count: number, blockElements: number, inBytes: number, outBytes = 4): number {
  return alignUp(4 * count) + count * alignUp(blockElements * inBytes) + alignUp(blockElements * outBytes);
}

export interface LinearFromFilesJob {
  /** byte address of the first output element of this range (unused when `outFd` is set) */
  readonly out: number;
  /** output descriptor, or NO_OUTPUT_FILE (default) to leave the result in memory at `out` */
  readonly outFd?: number;
  /** absolute file position of this range's first output element (with `outFd`) */
  readonly outPosition?: number;
  /** byte address of `count` float64 weights */
  readonly weights: number;
  readonly count: number;
  /** elements in this range */
  readonly n: number;
  /** LINEAR_IN_BF16 | LINEAR_OUT_BF16 */
  readonly flags: number;
  readonly status: number;
  /** byte address of this thread's scratch (linearFromFilesScratchBytes) */
  readonly scratch: number;
  readonly blockElements: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** per input: descriptor and absolute file position of this range's first element */
  readonly fds: readonly number[];
  readonly positions: readonly number[];
}

/** Flat argument list of a job (the worker protocol carries numbers only). */
export function linearFromFilesArgs(job: LinearFromFilesJob): number[] {
  const output = [job.outFd ?? NO_OUTPUT_FILE, job.outPosition ?? 0];
  const head = [job.out, job.weights, job.count, job.n, job.flags, job.status, job.scratch, job.blockElements, job.inBytes, job.outBytes];
  return [...head, ...output, ...job.fds, ...job.positions];
}

const HEAD_ARGS = 12;

function parseLinearFromFilesArgs(args: readonly number[]): LinearFromFilesJob {
  const at = (k: number): number => args[k] ?? Number.NaN;
  const count = at(2);
  if (!(Number.isInteger(count) && count >= 0 && args.length === HEAD_ARGS + 2 * count)) {
    invariant(false, () => `linear file kernel: expected ${HEAD_ARGS + 2 * count} arguments for ${count} inputs, got ${args.length}`);
  }
  return {
    out: at(0),
    weights: at(1),
    count,
    n: at(3),
    flags: at(4),
    status: at(5),
    scratch: at(6),
    blockElements: at(7),
    inBytes: at(8),
    outBytes: at(9),
    outFd: at(10),
    outPosition: at(11),
    fds: args.slice(HEAD_ARGS, HEAD_ARGS + count),
    positions: args.slice(HEAD_ARGS + count),
  };
}


type LinearKernel = KernelExports['linearF64'];

function runLinearFromFiles(kernel: LinearKernel, memory: WebAssembly.Memory, job: LinearFromFilesJob): void {
  const { count, blockElements, inBytes, outBytes } = job;
  const toFile = job.outFd !== undefined && job.outFd !== NO_OUTPUT_FILE;
  const table = job.scratch;
  const blockStride = alignUp(blockElements * inBytes);
  const blocks = Array.from({ length: count }, (_, j) => alignUp(table + 4 * count) + j * blockStride);
  const outBlock = alignUp(table + 4 * count) + count * blockStride;
  // the memory may have grown since this thread last looked: take fresh views for every job
  const bytes = new Uint8Array(memory.buffer);
  const pointers = new Uint32Array(memory.buffer, table, count);
  blocks.forEach((block, j) => (pointers[j] = block));
  for (let start = 0; start < job.n; start += blockElements) {
    const length = Math.min(blockElements, job.n - start);
    for (let j = 0; j < count; j++) {
      readFullyAt(job.fds[j]!, bytes.subarray(blocks[j]!, blocks[j]! + length * inBytes), job.positions[j]! + start * inBytes);
    }
    if (toFile) {
      kernel(outBlock, table, job.weights, count, length, job.flags, job.status);
      writeFullyAt(job.outFd!, bytes.subarray(outBlock, outBlock + length * outBytes), job.outPosition! + start * outBytes);
    } else {
      kernel(job.out + start * outBytes, table, job.weights, count, length, job.flags, job.status);
    }
  }
}

/** Runs one composed kernel on `kernels` (an instance on `memory`). */
export function runFileKernel(kernels: KernelExports, memory: WebAssembly.Memory, name: FileKernelName, args: readonly number[]): void {
  if (name === 'kinshipFromFiles') return runKinshipFromFiles(kernels, memory, args);
  if (name === 'taskVectorFromFiles') return runTaskVectorFromFiles(kernels, memory, args);
  if (name === 'taskVectorPass') return runTaskVectorPass(kernels, memory, args);
  if (name === 'taskVectorCombineToFile') return runCombineToFile(kernels, memory, args);
  if (name === 'writeToFile') return writeToFile(memory, args);
  const kernel = name === 'linearF32FromFiles' ? kernels.linearF32 : kernels.linearF64;
  runLinearFromFiles(kernel, memory, parseLinearFromFilesArgs(args));
}

/** writeToFile's arguments: descriptor, file position, byte address, byte count. */
function writeToFile(memory: WebAssembly.Memory, args: readonly number[]): void {
  const [fd, position, address, length] = args as [number, number, number, number];
  invariant(args.length === 4 && length >= 0, () => `writeToFile: expected (fd, position, address, length), got ${args.length} arguments`);
  writeFullyAt(fd, new Uint8Array(memory.buffer, address, length), position);
}
