/**
 * 1-D convolution (cross-correlation, as torch.nn.Conv1d) with stride, padding and dilation, fused bias and
 * activation. x [B, Cin, L], weight [Cout, Cin, K], bias [Cout] → y [B, Cout, Lout] with
 * Lout = ⌊(L + 2·padding − dilation·(K − 1) − 1)/stride⌋ + 1. Init as PyTorch: uniform ±1/√(Cin·K).
 *
 * im2col + one GEMM for the whole batch: cols [Cin·K, B·Lout]; Y' = W·cols is [Cout, B, Lout] and is
 * swapped to [B, Cout, Lout]. Backward: dY' = swap(dZ); dW = dY'·colsᵀ; dcols = Wᵀ·dY'; dx = col2im(dcols).
 */
import { ModelevoError } from '../../core/errors.js';
import type { Activation, Conv1dGeometry, GemmArgs } from '../kernels/kernels.js';
import type { BuiltLayer, LayerKind } from './layer.js';

export interface Conv1dSpec {
  readonly kind: 'conv1d';
  readonly channels: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly padding?: number;
  readonly dilation?: number;
  readonly activation?: Activation;
  readonly bias?: boolean;
}

export function convOutputLength(length: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((length + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

export const conv1d: LayerKind<Conv1dSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    if (sampleShape.length !== 2) {
      throw new ModelevoError('SHAPE_MISMATCH', `conv1d '${name}' expects [channels, length] examples, got [${sampleShape.join(', ')}]`, {
        hint: 'feed conv1d a [batch, channels, length] input',
      });
    }
    const [cin, length] = sampleShape as [number, number];
    const { channels: cout, kernel } = spec;
    const stride = spec.stride ?? 1;
    const padding = spec.padding ?? 0;
    const dilation = spec.dilation ?? 1;
    const outLength = convOutputLength(length, kernel, stride, padding, dilation);
    if (outLength < 1) {
      throw new ModelevoError('SHAPE_MISMATCH', `conv1d '${name}': length ${length} is too short for kernel ${kernel}, dilation ${dilation}, padding ${padding}`, {
        hint: 'use more padding or a smaller kernel',
      });
    }
    const act = spec.activation ?? 'identity';
    const bound = 1 / Math.sqrt(cin * kernel);
    const weight = planner.param(`${name}.weight`, [cout, cin, kernel], { kind: 'uniform', bound });
    const bias = spec.bias === false ? undefined : planner.param(`${name}.bias`, [cout], { kind: 'uniform', bound });
    const output = planner.buffer('activation', `${name}.out`, [batch, cout, outLength]);
    const pre = act === 'gelu' ? planner.buffer('activation', `${name}.pre`, [batch, cout, outLength]) : undefined;
    const rows = cin * kernel;
    const width = batch * outLength;
    const cols = planner.buffer('activation', `${name}.cols`, [rows, width]);
    // [Cout, B·Lout] products; reused for dY' in backward, and dcols reuses `cols`' size
    const product = planner.buffer('scratch', `${name}.product`, [cout, width]);
    const dcols = planner.buffer('scratch', `${name}.dcols`, [rows, width]);
    const geometry: Conv1dGeometry = { batch, channels: cin, length, kernel, stride, padding, dilation, outLength };
    let forwardArgs: GemmArgs | undefined;
    let weightGradArgs: GemmArgs | undefined;
    let colsGradArgs: GemmArgs | undefined;

    return {
      output,
      sampleShape: [cout, outLength],
      forward(ctx) {
        const k = ctx.kernels;
        k.im2col1d(input.offset, cols.offset, geometry);
        forwardArgs ??= { transA: false, transB: false, m: cout, n: width, k: rows, a: weight.offset, lda: rows, b: cols.offset, ldb: width, beta: 0, c: product.offset, ldc: width };
        k.gemm(forwardArgs);
        k.swapAxes01(product.offset, output.offset, cout, batch, outLength);
        if (bias || act !== 'identity') k.channelBiasActivation(output.offset, bias ? bias.offset : -1, batch, cout, outLength, act, pre ? pre.offset : -1);
      },
      backward(ctx, dOutput, dInput) {
        const k = ctx.kernels;
        if (act !== 'identity') k.activationBackward(dOutput.offset, pre ? pre.offset : -1, output.offset, dOutput.offset, dOutput.size, act);
        if (bias) k.channelSums(dOutput.offset, batch, cout, outLength, bias.grad.offset);
        k.swapAxes01(dOutput.offset, product.offset, batch, cout, outLength);
        weightGradArgs ??= { transA: false, transB: true, m: cout, n: rows, k: width, a: product.offset, lda: width, b: cols.offset, ldb: width, beta: 0, c: weight.grad.offset, ldc: rows };
        k.gemm(weightGradArgs);
        if (dInput) {
          colsGradArgs ??= { transA: true, transB: false, m: rows, n: width, k: cout, a: weight.offset, lda: rows, b: product.offset, ldb: width, beta: 0, c: dcols.offset, ldc: width };
          k.gemm(colsGradArgs);
          k.col2im1d(dcols.offset, dInput.offset, geometry);
        }
      },
    };
  },
};
