/** The plain-TypeScript kernels: the specification of every engine kernel, in float32 or float64. */
import type { Activation, AdamHyper, ArenaArray, GemmArgs, KernelsName, NnKernels, SgdHyper } from '../kernels.js';
import { gemmReference } from './gemm.js';
import * as ops from './elementwise.js';

export class ReferenceKernels implements NnKernels {
  readonly name: KernelsName = 'reference';
  readonly base: number = 0;
  constructor(readonly data: ArenaArray) {}

  gemm(args: GemmArgs): void {
    gemmReference(this.data, args);
  }
  biasActivation(y: number, bias: number, rows: number, cols: number, act: Activation, pre: number): void {
    ops.biasActivation(this.data, y, bias, rows, cols, act, pre);
  }
  activation(x: number, y: number, n: number, act: Activation): void {
    ops.activation(this.data, x, y, n, act);
  }
  activationBackward(dy: number, x: number, y: number, dx: number, n: number, act: Activation): void {
    ops.activationBackward(this.data, dy, x, y, dx, n, act);
  }
  columnSums(x: number, rows: number, cols: number, out: number): void {
    ops.columnSums(this.data, x, rows, cols, out);
  }
  multiply(x: number, m: number, y: number, n: number): void {
    ops.multiply(this.data, x, m, y, n);
  }
  dropoutMask(mask: number, n: number, keep: number, seed: number, counter: number): void {
    ops.dropoutMask(this.data, mask, n, keep, seed, counter);
  }
  sumSquares(x: number, n: number): number {
    return ops.sumSquares(this.data, x, n);
  }
  softmaxCrossEntropy(logits: number, labels: number, rows: number, cols: number, dLogits: number): number {
    return ops.softmaxCrossEntropy(this.data, logits, labels, rows, cols, dLogits);
  }
  meanSquaredError(pred: number, target: number, n: number, dPred: number): number {
    return ops.meanSquaredError(this.data, pred, target, n, dPred);
  }
  maskedMeanAbsoluteError(pred: number, target: number, n: number, nullValue: number, dPred: number): number {
    return ops.maskedMeanAbsoluteError(this.data, pred, target, n, nullValue, dPred);
  }
  sgdStep(p: number, g: number, velocity: number, n: number, h: SgdHyper): void {
    ops.sgdStep(this.data, p, g, velocity, n, h);
  }
  adamStep(p: number, g: number, m: number, v: number, n: number, h: AdamHyper): void {
    ops.adamStep(this.data, p, g, m, v, n, h);
  }
}

/** An arena of `floats` elements; float64 only for gradient checks. */
export function createReferenceKernels(floats: number, dtype: 'float32' | 'float64' = 'float32'): ReferenceKernels {
  return new ReferenceKernels(dtype === 'float64' ? new Float64Array(floats) : new Float32Array(floats));
}
