/**
 * The WebAssembly SIMD kernels (assembly/nn-*.ts). Layout of the shared memory, in floats:
 * [module static data | GEMM packing scratch | arena (base ..)]. Offsets passed to kernels are float indices
 * into `data`, converted to byte addresses here. Kernels without a SIMD version yet (losses, dropout masks:
 * O(batch·outputs), off the hot path) run the reference code on the same memory.
 */
import type { GemmArgs } from '../kernels.js';
import { ReferenceKernels } from '../reference/index.js';
import { createFixedSharedMemory, instantiateNn, loadNnModule, type NnWasmExports } from './loader.js';

/** 64-byte alignment (a cache line) for the scratch and the arena */
const ALIGN_FLOATS = 16;
const alignUp = (x: number, to: number): number => Math.ceil(x / to) * to;

export class WasmKernels extends ReferenceKernels {
  override readonly name = 'wasm' as const;
  override readonly data: Float32Array;
  override readonly base: number;
  private readonly scratchBytes: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly exports: NnWasmExports,
  ) {
    const data = new Float32Array(memory.buffer);
    super(data);
    this.data = data;
    const scratch = alignUp(Math.ceil(exports.heapBase() / 4), ALIGN_FLOATS);
    this.scratchBytes = scratch * 4;
    this.base = alignUp(scratch + exports.gemmScratchFloats(), ALIGN_FLOATS);
  }

  override gemm(g: GemmArgs): void {
    this.exports.sgemm(
      g.transA ? 1 : 0,
      g.transB ? 1 : 0,
      g.m,
      g.n,
      g.k,
      g.a * 4,
      g.lda,
      g.b * 4,
      g.ldb,
      g.beta,
      g.c * 4,
      g.ldc,
      this.scratchBytes,
    );
  }
}

/** Kernels over a fresh fixed-size shared memory with room for an arena of `floats` elements. */
export function createWasmKernels(floats: number): WasmKernels {
  const module = loadNnModule();
  // a throw-away instance on a one-page memory tells how much room the static data and the scratch take
  const probe = instantiateNn(module, new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }));
  const reserved = alignUp(Math.ceil(probe.heapBase() / 4), ALIGN_FLOATS) + probe.gemmScratchFloats() + ALIGN_FLOATS;
  const memory = createFixedSharedMemory((reserved + floats) * 4);
  return new WasmKernels(memory, instantiateNn(module, memory));
}
