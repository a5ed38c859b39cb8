/**
 * `kinshipFromFiles`: kinship moments (assembly/kinship.ts `kinshipMoments`) of a base and N models over an
 * element range that the running thread reads itself from the shard files, one block per input at a time, into
 * its own scratch: page cache → L2 → kernel, with no tensor-sized buffer and no main-thread copy (the same
 * scheme as the linear merge's file kernels, file-kernels.ts). bf16 and float32 inputs go to the kernel as
 * read; float16 blocks are first decoded to float32 by the f16ToF32 kernel in the same scratch.
 */
import { invariant } from '../../core/errors.js';
import type { KernelExports } from './loader.js';
import { readFullyAt } from './read-fully.js';

/** input element encodings of a job (the wasm kernel itself takes float32 or bf16) */
export const KINSHIP_INPUT_F32 = 0;
export const KINSHIP_INPUT_BF16 = 1;
export const KINSHIP_INPUT_F16 = 2;

const ALIGN = 64;
const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** scratch bytes one thread needs for `models` models plus the base, reading `readBlock` elements per input */
export function kinshipFromFilesScratchBytes(models: number, readBlock: number, kinshipBlock: number): number {
  const inputs = models + 1;
  return 2 * alignUp(4 * inputs) + inputs * 2 * alignUp(4 * readBlock) + inputs * kinshipBlock * 8;
}

export interface KinshipFromFilesJob {
  /** models besides the base */
  readonly models: number;
  /** elements in this range; its first element is a multiple of the kernel's KINSHIP_BLOCK in the tensor */
  readonly n: number;
  /** KINSHIP_SQDIFF or 0 */
  readonly flags: number;
  /** byte address of this thread's scratch (kinshipFromFilesScratchBytes) */
  readonly scratch: number;
  /** elements read per input per call; a multiple of KINSHIP_BLOCK */
  readonly readBlock: number;
  /** byte address of this range's first output record */
  readonly out: number;
  /** per input, base first: KINSHIP_INPUT_*, descriptor, absolute position of the range's first element */
  readonly kinds: readonly number[];
  readonly fds: readonly number[];
  readonly positions: readonly number[];
}

const HEAD_ARGS = 6;

export function kinshipFromFilesArgs(job: KinshipFromFilesJob): number[] {
  return [job.models, job.n, job.flags, job.scratch, job.readBlock, job.out, ...job.kinds, ...job.fds, ...job.positions];
}

function parseArgs(args: readonly number[]): KinshipFromFilesJob {
  const at = (k: number): number => args[k] ?? Number.NaN;
  const models = at(0);
  const inputs = models + 1;
  if (!(Number.isInteger(models) && models >= 1 && args.length === HEAD_ARGS + 3 * inputs)) {
    invariant(false, () => `kinship file kernel: expected ${HEAD_ARGS + 3 * inputs} arguments for ${models} models, got ${args.length}`);
  }
  const tail = (k: number): number[] => args.slice(HEAD_ARGS + k * inputs, HEAD_ARGS + (k + 1) * inputs);
  return { models, n: at(1), flags: at(2), scratch: at(3), readBlock: at(4), out: at(5), kinds: tail(0), fds: tail(1), positions: tail(2) };
}


export function runKinshipFromFiles(kernels: KernelExports, memory: WebAssembly.Memory, args: readonly number[]): void {
  const job = parseArgs(args);
  const inputs = job.models + 1;
  const kinshipBlock = kernels.KINSHIP_BLOCK.value as number;
  const bf16Kind = kernels.KINSHIP_IN_BF16.value as number;
  const record = kernels.kinshipRecordLength(job.models, job.flags) * 8;
  const pointerTable = job.scratch;
  const kindTable = job.scratch + alignUp(4 * inputs);
  const area = alignUp(4 * job.readBlock);
  const rawOf = (k: number): number => job.scratch + 2 * alignUp(4 * inputs) + k * 2 * area;
  const work = rawOf(inputs);
  // the memory may have grown since this thread last looked: take fresh views for every job
  const bytes = new Uint8Array(memory.buffer);
  const pointers = new Uint32Array(memory.buffer, pointerTable, inputs);
  const kinds = new Uint32Array(memory.buffer, kindTable, inputs);
  const elementBytes = job.kinds.map((kind) => (kind === KINSHIP_INPUT_F32 ? 4 : 2));
  for (let k = 0; k < inputs; k++) {
    // a float16 block is decoded into the second half of its area and handed to the kernel as float32
    pointers[k] = job.kinds[k] === KINSHIP_INPUT_F16 ? rawOf(k) + area : rawOf(k);
    kinds[k] = job.kinds[k] === KINSHIP_INPUT_BF16 ? bf16Kind : 0;
  }
  for (let start = 0; start < job.n; start += job.readBlock) {
    const length = Math.min(job.readBlock, job.n - start);
    for (let k = 0; k < inputs; k++) {
      const size = elementBytes[k]!;
      readFullyAt(job.fds[k]!, bytes.subarray(rawOf(k), rawOf(k) + length * size), job.positions[k]! + start * size);
      if (job.kinds[k] === KINSHIP_INPUT_F16) kernels.f16ToF32(rawOf(k), rawOf(k) + area, length);
    }
    kernels.kinshipMoments(pointerTable, kindTable, job.models, length, job.flags, work, job.out + (start / kinshipBlock) * record);
  }
}
