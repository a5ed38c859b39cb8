/**
 * Reference GEMM: the textbook triple loop, accumulated in float64 and rounded once on store. It is the
 * specification the packed SIMD GEMM (assembly/nn-gemm.ts) is tested against.
 */
import type { ArenaArray, GemmArgs } from '../kernels.js';

export function gemmReference(data: ArenaArray, g: GemmArgs): void {
  const { m, n, k, a, lda, b, ldb, beta, c, ldc } = g;
  // strides of op(A) and op(B) along their row and column index
  const [aRow, aCol] = g.transA ? [1, lda] : [lda, 1];
  const [bRow, bCol] = g.transB ? [1, ldb] : [ldb, 1];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += data[a + i * aRow + p * aCol]! * data[b + p * bRow + j * bCol]!;
      const at = c + i * ldc + j;
      data[at] = beta === 0 ? sum : beta * data[at]! + sum;
    }
  }
}
