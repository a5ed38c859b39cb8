/**
 * Plain data types shared by the kernel contract (kernels.ts) and its implementations, in a file of their own so
 * that the reference kernels and the contract do not import each other.
 */

export type ArenaArray = Float32Array | Float64Array;

export interface Conv1dGeometry {
  batch: number;
  channels: number;
  length: number;
  kernel: number;
  stride: number;
  padding: number;
  dilation: number;
  outLength: number;
}

export interface NormBuffers {
  /** normalised input x̂, saved for backward */
  xhat: number;
  /** 1/√(var + eps) per channel (batch norm) or per row (layer norm), saved for backward */
  invStd: number;
}

export type Activation = 'identity' | 'relu' | 'sigmoid' | 'tanh' | 'gelu';
export const ACTIVATION_CODES: { readonly [name in Activation]: number } = { identity: 0, relu: 1, sigmoid: 2, tanh: 3, gelu: 4 };

export interface SgdHyper {
  lr: number;
  momentum: number;
  nesterov: boolean;
  /** L2 penalty added to the gradient (PyTorch SGD weight_decay) */
  weightDecay: number;
  /** multiplies every gradient first (global-norm clipping folds in here) */
  gradScale: number;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW (decay applied to the weights), false: Adam (L2 added to the gradient) */
  decoupled: boolean;
  gradScale: number;
  step: number;
}

export type KernelsName = 'reference' | 'wasm';
