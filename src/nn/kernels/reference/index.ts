/** The plain-TypeScript kernels: the specification of every engine kernel, in float32 or float64. */
import type { Activation, AdamHyper, ArenaArray, GemmArgs, KernelsName, NnKernels, SgdHyper } from '../kernels.js';
import { gemmReference } from './gemm.js';
import * as ops from './elementwise.js';
import * as conv from './conv.js';
import type { Conv1dGeometry, NormBuffers } from '../kernel-types.js';

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
  im2col1d(x: number, cols: number, g: Conv1dGeometry): void {
    conv.im2col1d(this.data, x, cols, g);
  }
  col2im1d(cols: number, x: number, g: Conv1dGeometry): void {
    conv.col2im1d(this.data, cols, x, g);
  }
  swapAxes01(src: number, dst: number, p: number, q: number, r: number): void {
    conv.swapAxes01(this.data, src, dst, p, q, r);
  }
  sparseDiffuse(coo: number, nnz: number, x: number, y: number, width: number, transposed: boolean): void {
    conv.sparseDiffuse(this.data, coo, nnz, x, y, width, transposed);
  }
  channelBiasActivation(y: number, bias: number, outer: number, channels: number, inner: number, act: Activation, pre: number): void {
    conv.channelBiasActivation(this.data, y, bias, outer, channels, inner, act, pre);
  }
  channelSums(x: number, outer: number, channels: number, inner: number, out: number): void {
    conv.channelSums(this.data, x, outer, channels, inner, out);
  }
  batchNormForward(x: number, y: number, gamma: number, beta: number, runMean: number, runVar: number, saved: NormBuffers, outer: number, channels: number, inner: number, eps: number, momentum: number, training: boolean): void {
    conv.batchNormForward(this.data, x, y, gamma, beta, runMean, runVar, saved, outer, channels, inner, eps, momentum, training);
  }
  batchNormBackward(dy: number, dx: number, gamma: number, dGamma: number, dBeta: number, saved: NormBuffers, outer: number, channels: number, inner: number, training: boolean): void {
    conv.batchNormBackward(this.data, dy, dx, gamma, dGamma, dBeta, saved, outer, channels, inner, training);
  }
  layerNormForward(x: number, y: number, gamma: number, beta: number, saved: NormBuffers, rows: number, features: number, eps: number): void {
    conv.layerNormForward(this.data, x, y, gamma, beta, saved, rows, features, eps);
  }
  layerNormBackward(dy: number, dx: number, gamma: number, dGamma: number, dBeta: number, saved: NormBuffers, rows: number, features: number): void {
    conv.layerNormBackward(this.data, dy, dx, gamma, dGamma, dBeta, saved, rows, features);
  }
  rowSoftmax(x: number, y: number, rows: number, cols: number): void {
    ops.rowSoftmax(this.data, x, y, rows, cols);
  }
  rowSoftmaxBackward(y: number, dy: number, dx: number, rows: number, cols: number): void {
    ops.rowSoftmaxBackward(this.data, y, dy, dx, rows, cols);
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
