/**
 * The training engine's kernel contract (issue #22). Every kernel works on one arena: `data` is a Float32Array
 * (or, for the float64 reference used by gradient checks, a Float64Array) and every operand is a float offset
 * into it. Kernels allocate nothing; shapes are element counts and row/column sizes.
 *
 * Two implementations: `reference` (plain TypeScript, the specification) and `wasm` (AssemblyScript SIMD in
 * assembly/nn-*.ts, build/nn.wasm). Tests hold the second to the first.
 */

export type ArenaArray = Float32Array | Float64Array;

/** C = op(A)·op(B) + beta·C, row-major. op(A) is m × k (A stored k × m if transA), op(B) is k × n (B stored n × k if transB). */
export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  /** 0 overwrites C without reading it */
  beta: number;
  c: number;
  ldc: number;
}

export interface NnKernels {
  readonly name: KernelsName;
  /** the whole addressable arena; operands are offsets into it */
  readonly data: ArenaArray;
  /** first offset the planner may use (the WASM module's static data and GEMM scratch lie below) */
  readonly base: number;
  gemm(args: GemmArgs): void;
}

export type KernelsName = 'reference' | 'wasm';
