/**
 * The training engine's kernel contract (issue #22). Every kernel works on one arena: `data` is a Float32Array
 * (or, for the float64 reference used by gradient checks, a Float64Array) and every operand is a float offset
 * into it. Kernels allocate nothing; shapes are element counts and row/column sizes.
 *
 * Two implementations: `reference` (plain TypeScript, the specification) and `wasm` (AssemblyScript SIMD in
 * assembly/nn-*.ts, build/nn.wasm). Tests hold the second to the first.
 */

import type { Activation, AdamHyper, ArenaArray, Conv1dGeometry, KernelsName, NormBuffers, SgdHyper } from './kernel-types.js';
export type { Activation, AdamHyper, ArenaArray, Conv1dGeometry, KernelsName, NormBuffers, SgdHyper } from './kernel-types.js';
export { ACTIVATION_CODES } from './kernel-types.js';


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
  /** y[r, c] = act(y[r, c] + bias[c]) in place (bias < 0: no bias); `pre` ≥ 0 keeps the pre-activation (GELU's backward needs it) */
  biasActivation(y: number, bias: number, rows: number, cols: number, act: Activation, pre: number): void;
  /** y = act(x) elementwise (x and y may coincide) */
  activation(x: number, y: number, n: number, act: Activation): void;
  /** dx = dy ⊙ act′, from the pre-activation x (GELU) or the output y (the others); dx may equal dy */
  activationBackward(dy: number, x: number, y: number, dx: number, n: number, act: Activation): void;
  /** out[c] = Σ_r x[r, c] (overwrites out) */
  columnSums(x: number, rows: number, cols: number, out: number): void;
  /** y = x ⊙ m */
  multiply(x: number, m: number, y: number, n: number): void;
  /** mask[i] = 1/keep with probability keep, else 0; a pure function of (seed, counter, i) */
  dropoutMask(mask: number, n: number, keep: number, seed: number, counter: number): void;
  /** Σ x² in float64 */
  sumSquares(x: number, n: number): number;
  /** mean over rows of −log softmax(logits)[label]; writes dLogits = (softmax − onehot) / rows */
  softmaxCrossEntropy(logits: number, labels: number, rows: number, cols: number, dLogits: number): number;
  /** mean (p − t)²; writes dPred = 2(p − t)/n */
  meanSquaredError(pred: number, target: number, n: number, dPred: number): number;
  /** Σ mask·|p − t| / Σ mask with mask = (t ≠ nullValue); writes its gradient (sign(0) = 0); 0 if nothing is unmasked */
  maskedMeanAbsoluteError(pred: number, target: number, n: number, nullValue: number, dPred: number): number;
  im2col1d(x: number, cols: number, g: Conv1dGeometry): void;
  /** the adjoint of im2col1d; overwrites x */
  col2im1d(cols: number, x: number, g: Conv1dGeometry): void;
  /** dst[q, p, r] = src[p, q, r] */
  swapAxes01(src: number, dst: number, p: number, q: number, r: number): void;
  /**
   * Sparse diffusion, accumulated, over nnz triples (row v, column w, value a) stored as floats at `coo`, rows
   * `width` long: transposed: y[w, :] += a·x[v, :] (Aᵀ·x); otherwise y[v, :] += a·x[w, :] (A·x)
   */
  sparseDiffuse(coo: number, nnz: number, x: number, y: number, width: number, transposed: boolean): void;
  /** y[o, c, i] = act(y[o, c, i] + bias[c]) (bias < 0: none); `pre` ≥ 0 keeps the pre-activation */
  channelBiasActivation(y: number, bias: number, outer: number, channels: number, inner: number, act: Activation, pre: number): void;
  /** out[c] = Σ_{o, i} x[o, c, i] */
  channelSums(x: number, outer: number, channels: number, inner: number, out: number): void;
  batchNormForward(x: number, y: number, gamma: number, beta: number, runMean: number, runVar: number, saved: NormBuffers, outer: number, channels: number, inner: number, eps: number, momentum: number, training: boolean): void;
  /** dx < 0: parameter gradients only */
  batchNormBackward(dy: number, dx: number, gamma: number, dGamma: number, dBeta: number, saved: NormBuffers, outer: number, channels: number, inner: number, training: boolean): void;
  layerNormForward(x: number, y: number, gamma: number, beta: number, saved: NormBuffers, rows: number, features: number, eps: number): void;
  layerNormBackward(dy: number, dx: number, gamma: number, dGamma: number, dBeta: number, saved: NormBuffers, rows: number, features: number): void;
  /** y[r, :] = softmax(x[r, :]) (x and y may coincide) */
  rowSoftmax(x: number, y: number, rows: number, cols: number): void;
  /** dx[r, c] = y[r, c]·(dy[r, c] − Σ_c′ dy[r, c′]·y[r, c′]) */
  rowSoftmaxBackward(y: number, dy: number, dx: number, rows: number, cols: number): void;
  /** one fused SGD pass; `velocity` unused when momentum = 0 */
  sgdStep(p: number, g: number, velocity: number, n: number, h: SgdHyper): void;
  /** one fused Adam/AdamW pass with bias correction for step t (1-based) */
  adamStep(p: number, g: number, m: number, v: number, n: number, h: AdamHyper): void;
}
