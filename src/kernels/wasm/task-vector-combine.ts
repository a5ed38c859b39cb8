/**
 * `taskVectorCombineToFile`: one worker's element range of the whole-vector task-vector path's last step
 * (src/merge/fast-task-vectors.ts: DELLA, the l1 rescale of a top-k trim, more than four models) — the float32
 * sign consensus and mix (`tiesCombineF32`), the encoding and the write — block by block: each block is mixed
 * into this thread's scratch while it is in L2, encoded into a staging area, and the staging goes to the output's
 * place in its shard every 256 KiB. The mix is element-wise, so the bytes are those of mixing the whole range and
 * encoding it; what goes away is a tensor-sized float32 vector written and read back, a tensor-sized encoded one,
 * and a write phase with nothing to overlap it (two threads writing one tmpfs file at once mostly wait on each
 * other: the whole-vector della spent 2.06 of 17.26 s in it, bench/merge-profile.ts, 2026-12-07).
 * A result that is not finite stores 1 at `status`; the caller then redoes the tensor in float64 and writes it
 * again over the same place.
 */
import { invariant } from '../../core/errors.js';
import type { KernelExports } from './loader.js';
import { writeFullyAt } from './read-fully.js';
import { OUT_BF16, OUT_F32, type MixArgs } from './task-vector-passes.js';

const ALIGN = 64;
const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** bytes of encoded output per positional write (as the FINAL pass's staging: 256 KiB) */
const STAGING_BYTES = 256 << 10;
/** tiesCombineF32 mixes one to four models */
const MAX_MODELS = 4;

/** scratch bytes one thread needs for blocks of `blockElements` */
export function combineToFileScratchBytes(blockElements: number): number {
  return alignUp(blockElements * 4) + Math.max(STAGING_BYTES, alignUp(blockElements * 4)) + alignUp(4 * MAX_MODELS);
}

export interface CombineToFileJob extends MixArgs {
  /** elements in this range */
  readonly n: number;
  /** byte addresses of the range's element 0: the float32 base, and each model's sparsified float32 δ */
  readonly base: number;
  readonly deltas: readonly number[];
  readonly status: number;
  readonly scratch: number;
  readonly blockElements: number;
  /** OUT_F32, OUT_BF16 or OUT_F16 */
  readonly outKind: number;
  readonly outFd: number;
  /** file position of the range's first output element */
  readonly outPosition: number;
}

/** Flat argument list (the worker protocol carries numbers only). */
export function combineToFileArgs(job: CombineToFileJob): number[] {
  const { n, base, weights, factors, plainDivisor, lambda, consensus, normalize, status, scratch, blockElements, outKind, outFd, outPosition } = job;
  return [n, base, weights, factors, plainDivisor, lambda, consensus, normalize, status, scratch, blockElements, outKind, outFd, outPosition, job.deltas.length, ...job.deltas];
}

function parse(args: readonly number[]): CombineToFileJob {
  const [n, base, weights, factors, plainDivisor, lambda, consensus, normalize, status, scratch, blockElements, outKind, outFd, outPosition, count] = args as number[];
  const deltas = args.slice(15);
  invariant(count !== undefined && deltas.length === count && count >= 1 && count <= MAX_MODELS, () => `taskVectorCombineToFile: expected 15 numbers and 1..${MAX_MODELS} δ addresses, got ${args.length} numbers`);
  return { n: n!, base: base!, deltas, weights: weights!, factors: factors!, plainDivisor: plainDivisor!, lambda: lambda!, consensus: consensus!, normalize: normalize!, status: status!, scratch: scratch!, blockElements: blockElements!, outKind: outKind!, outFd: outFd!, outPosition: outPosition! };
}

export function runCombineToFile(kernels: KernelExports, memory: WebAssembly.Memory, args: readonly number[]): void {
  const job = parse(args);
  const count = job.deltas.length;
  const width = job.outKind === OUT_F32 ? 4 : 2;
  const mixed = job.scratch;
  const staging = mixed + alignUp(job.blockElements * 4);
  const table = staging + Math.max(STAGING_BYTES, alignUp(job.blockElements * 4));
  // whole blocks per write
  const stagingElements = Math.max(1, Math.floor(STAGING_BYTES / width / job.blockElements)) * job.blockElements;
  const bytes = new Uint8Array(memory.buffer);
  const pointers = new Uint32Array(memory.buffer, table, count);
  let staged = 0;
  for (let s = 0; s < job.n; s += job.blockElements) {
    const length = Math.min(job.blockElements, job.n - s);
    for (let j = 0; j < count; j++) pointers[j] = job.deltas[j]! + s * 4;
    kernels.tiesCombineF32(mixed, job.base + s * 4, table, job.weights, count, length, job.plainDivisor, job.lambda, job.consensus, job.normalize, job.factors, job.status);
    const target = staging + staged * width;
    if (job.outKind === OUT_BF16) kernels.f32ToBf16(mixed, target, length);
    else if (job.outKind === OUT_F32) bytes.copyWithin(target, mixed, mixed + length * 4);
    else kernels.f32ToF16(mixed, target, length);
    staged += length;
    if (staged === stagingElements || s + length >= job.n) {
      const first = s + length - staged;
      writeFullyAt(job.outFd, bytes.subarray(staging, staging + staged * width), job.outPosition + first * width);
      staged = 0;
    }
  }
}
