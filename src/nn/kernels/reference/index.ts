/** The plain-TypeScript kernels: the specification of every engine kernel, in float32 or float64. */
import type { ArenaArray, GemmArgs, NnKernels } from '../kernels.js';
import { gemmReference } from './gemm.js';

export class ReferenceKernels implements NnKernels {
  readonly name = 'reference' as const;
  readonly base = 0;
  constructor(readonly data: ArenaArray) {}

  gemm(args: GemmArgs): void {
    gemmReference(this.data, args);
  }
}

/** An arena of `floats` elements; float64 only for gradient checks. */
export function createReferenceKernels(floats: number, dtype: 'float32' | 'float64' = 'float32'): ReferenceKernels {
  return new ReferenceKernels(dtype === 'float64' ? new Float64Array(floats) : new Float32Array(floats));
}
