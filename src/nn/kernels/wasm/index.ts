/**
 * The WebAssembly SIMD kernels (assembly/nn-*.ts). Layout of the shared memory, in floats:
 * [module static data | GEMM packing scratch | arena (base ..)]. Offsets passed to kernels are float indices
 * into `data`, converted to byte addresses here (−1, "no buffer", stays −1). Kernels without a SIMD version
 * (losses, dropout masks, layer norm, conv bias with GELU or a kept pre-activation: off the hot path) run the reference
 * code on the same memory.
 */
import { ACTIVATION_CODES, type Activation, type AdamHyper, type Conv1dGeometry, type GemmArgs, type NormBuffers, type SgdHyper } from '../kernels.js';
import { ReferenceKernels } from '../reference/index.js';
import { createFixedSharedMemory, instantiateNn, loadNnModule, type NnWasmExports } from './loader.js';

/** 64-byte alignment (a cache line) for the scratch and the arena */
const ALIGN_FLOATS = 16;
const alignUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/** Where an instance's GEMM scratch and arena start (float offsets), when several arenas share one memory. */
export interface ArenaPlacement {
  readonly scratch: number;
  readonly base: number;
}

export class WasmKernels extends ReferenceKernels {
  override readonly name = 'wasm' as const;
  override readonly data: Float32Array;
  override readonly base: number;
  private readonly scratchBytes: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly exports: NnWasmExports,
    /** default: the one arena right after the static data and the scratch */
    placement?: ArenaPlacement,
  ) {
    const data = new Float32Array(memory.buffer);
    super(data);
    this.data = data;
    const scratch = placement?.scratch ?? alignUp(Math.ceil(exports.heapBase() / 4), ALIGN_FLOATS);
    this.scratchBytes = scratch * 4;
    this.base = placement?.base ?? alignUp(scratch + exports.gemmScratchFloats(), ALIGN_FLOATS);
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

  override biasActivation(y: number, bias: number, rows: number, cols: number, act: Activation, pre: number): void {
    this.exports.nnBiasActivation(y * 4, bytes(bias), rows, cols, ACTIVATION_CODES[act], bytes(pre));
  }
  override activation(x: number, y: number, n: number, act: Activation): void {
    this.exports.nnActivation(x * 4, y * 4, n, ACTIVATION_CODES[act]);
  }
  override activationBackward(dy: number, x: number, y: number, dx: number, n: number, act: Activation): void {
    this.exports.nnActivationBackward(dy * 4, bytes(x), bytes(y), dx * 4, n, ACTIVATION_CODES[act]);
  }
  override columnSums(x: number, rows: number, cols: number, out: number): void {
    this.exports.nnColumnSums(x * 4, rows, cols, out * 4);
  }
  override multiply(x: number, m: number, y: number, n: number): void {
    this.exports.nnMultiply(x * 4, m * 4, y * 4, n);
  }
  override sumSquares(x: number, n: number): number {
    return this.exports.nnSumSquares(x * 4, n);
  }
  override im2col1d(x: number, cols: number, g: Conv1dGeometry): void {
    this.exports.nnIm2col1d(x * 4, cols * 4, g.batch, g.channels, g.length, g.kernel, g.stride, g.padding, g.dilation, g.outLength);
  }
  override col2im1d(cols: number, x: number, g: Conv1dGeometry): void {
    this.exports.nnCol2im1d(cols * 4, x * 4, g.batch, g.channels, g.length, g.kernel, g.stride, g.padding, g.dilation, g.outLength);
  }
  override swapAxes01(src: number, dst: number, p: number, q: number, r: number): void {
    this.exports.nnSwapAxes01(src * 4, dst * 4, p, q, r);
  }
  override sparseDiffuse(coo: number, nnz: number, x: number, y: number, width: number, transposed: boolean): void {
    this.exports.nnSparseDiffuse(coo * 4, nnz, x * 4, y * 4, width, transposed ? 1 : 0);
  }
  override channelBiasActivation(y: number, bias: number, outer: number, channels: number, inner: number, act: Activation, pre: number): void {
    if ((act === 'identity' || act === 'relu') && pre < 0) this.exports.nnChannelBiasRelu(y * 4, bytes(bias), outer, channels, inner, act === 'relu' ? 1 : 0);
    else if ((act === 'tanh' || act === 'sigmoid') && pre < 0) {
      // the gated TCN's filter and gate: the SIMD bias pass, then the activation in place (profiled at ~17 % of a
      // GWN step when both ran as reference TS)
      this.exports.nnChannelBiasRelu(y * 4, bytes(bias), outer, channels, inner, 0);
      this.exports.nnActivation(y * 4, y * 4, outer * channels * inner, ACTIVATION_CODES[act]);
    } else super.channelBiasActivation(y, bias, outer, channels, inner, act, pre);
  }
  override channelSums(x: number, outer: number, channels: number, inner: number, out: number): void {
    this.exports.nnChannelSums(x * 4, outer, channels, inner, out * 4);
  }
  override batchNormForward(x: number, y: number, gamma: number, beta: number, runMean: number, runVar: number, s: NormBuffers, outer: number, channels: number, inner: number, eps: number, momentum: number, training: boolean): void {
    this.exports.nnBatchNormForward(x * 4, y * 4, gamma * 4, beta * 4, runMean * 4, runVar * 4, s.xhat * 4, s.invStd * 4, outer, channels, inner, eps, momentum, training ? 1 : 0);
  }
  override batchNormBackward(dy: number, dx: number, gamma: number, dGamma: number, dBeta: number, s: NormBuffers, outer: number, channels: number, inner: number, training: boolean): void {
    this.exports.nnBatchNormBackward(dy * 4, bytes(dx), gamma * 4, dGamma * 4, dBeta * 4, s.xhat * 4, s.invStd * 4, outer, channels, inner, training ? 1 : 0);
  }
  override sgdStep(p: number, g: number, velocity: number, n: number, h: SgdHyper): void {
    this.exports.nnSgdStep(p * 4, g * 4, bytes(velocity), n, h.lr, h.momentum, h.nesterov ? 1 : 0, h.weightDecay, h.gradScale);
  }
  override adamStep(p: number, g: number, m: number, v: number, n: number, h: AdamHyper): void {
    const c1 = 1 - h.beta1 ** h.step;
    const c2 = 1 - h.beta2 ** h.step;
    this.exports.nnAdamStep(p * 4, g * 4, m * 4, v * 4, n, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.decoupled ? 1 : 0, h.gradScale, c1, c2);
  }
}

const bytes = (offset: number): number => (offset < 0 ? -1 : offset * 4);

/** Kernels over a fresh fixed-size shared memory with room for an arena of `floats` elements. */
export function createWasmKernels(floats: number): WasmKernels {
  const module = loadNnModule();
  // a throw-away instance on a one-page memory tells how much room the static data and the scratch take
  const probe = instantiateNn(module, new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }));
  const reserved = alignUp(Math.ceil(probe.heapBase() / 4), ALIGN_FLOATS) + probe.gemmScratchFloats() + ALIGN_FLOATS;
  const memory = createFixedSharedMemory((reserved + floats) * 4);
  return new WasmKernels(memory, instantiateNn(module, memory));
}
