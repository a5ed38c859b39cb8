/**
 * Transposed 1-D convolution (torch.nn.ConvTranspose1d): the adjoint of conv1d with the same stride, padding
 * and dilation. x [B, Cin, L], weight [Cin, Cout, K], bias [Cout] → y [B, Cout, Lout] with
 * Lout = (L − 1)·stride − 2·padding + dilation·(K − 1) + outputPadding + 1. Init as PyTorch: uniform
 * ±1/√(Cout·K) (its fan-in is computed from weight dimension 1).
 *
 * Forward: X' = swap(x) [Cin, B·L]; cols = Wᵀ·X' [Cout·K, B·L]; y = col2im(cols) (the conv geometry with
 * Cout channels of length Lout whose output length is L). Backward: dcols = im2col(dZ); dW = X'·dcolsᵀ;
 * dX' = W·dcols; dx = swap(dX').
 */
import { ModelevoError } from '../../core/errors.js';
import type { Activation, Conv1dGeometry, GemmArgs } from '../kernels/kernels.js';
import type { BuiltLayer, LayerKind } from './layer.js';

export interface ConvTranspose1dSpec {
  readonly kind: 'conv_transpose1d';
  readonly channels: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly padding?: number;
  readonly outputPadding?: number;
  readonly dilation?: number;
  readonly activation?: Activation;
  readonly bias?: boolean;
}

export const convTranspose1d: LayerKind<ConvTranspose1dSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    if (sampleShape.length !== 2) {
      throw new ModelevoError('SHAPE_MISMATCH', `conv_transpose1d '${name}' expects [channels, length] examples, got [${sampleShape.join(', ')}]`);
    }
    const [cin, length] = sampleShape as [number, number];
    const { channels: cout, kernel } = spec;
    const stride = spec.stride ?? 1;
    const padding = spec.padding ?? 0;
    const dilation = spec.dilation ?? 1;
    const outputPadding = spec.outputPadding ?? 0;
    if (outputPadding >= Math.max(stride, dilation)) {
      throw new ModelevoError('CONFIG_INVALID', `conv_transpose1d '${name}': outputPadding ${outputPadding} must be smaller than stride or dilation`);
    }
    const outLength = (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;
    if (outLength < 1) throw new ModelevoError('SHAPE_MISMATCH', `conv_transpose1d '${name}': output length ${outLength} < 1`);
    const act = spec.activation ?? 'identity';
    const bound = 1 / Math.sqrt(cout * kernel);
    const weight = planner.param(`${name}.weight`, [cin, cout, kernel], { kind: 'uniform', bound });
    const bias = spec.bias === false ? undefined : planner.param(`${name}.bias`, [cout], { kind: 'uniform', bound });
    const output = planner.buffer('activation', `${name}.out`, [batch, cout, outLength]);
    const pre = act === 'gelu' ? planner.buffer('activation', `${name}.pre`, [batch, cout, outLength]) : undefined;
    const rows = cout * kernel;
    const width = batch * length;
    const swapped = planner.buffer('activation', `${name}.inputT`, [cin, width]);
    const cols = planner.buffer('scratch', `${name}.cols`, [rows, width]);
    const dSwapped = planner.buffer('scratch', `${name}.dInputT`, [cin, width]);
    // the conv whose adjoint this is: Cout channels of length Lout, output length L
    const geometry: Conv1dGeometry = { batch, channels: cout, length: outLength, kernel, stride, padding, dilation, outLength: length };
    let forwardArgs: GemmArgs | undefined;
    let weightGradArgs: GemmArgs | undefined;
    let inputGradArgs: GemmArgs | undefined;

    return {
      output,
      sampleShape: [cout, outLength],
      forward(ctx) {
        const k = ctx.kernels;
        k.swapAxes01(input.offset, swapped.offset, batch, cin, length);
        forwardArgs ??= { transA: true, transB: false, m: rows, n: width, k: cin, a: weight.offset, lda: rows, b: swapped.offset, ldb: width, beta: 0, c: cols.offset, ldc: width };
        k.gemm(forwardArgs);
        k.col2im1d(cols.offset, output.offset, geometry);
        if (bias || act !== 'identity') k.channelBiasActivation(output.offset, bias ? bias.offset : -1, batch, cout, outLength, act, pre ? pre.offset : -1);
      },
      backward(ctx, dOutput, dInput) {
        const k = ctx.kernels;
        if (act !== 'identity') k.activationBackward(dOutput.offset, pre ? pre.offset : -1, output.offset, dOutput.offset, dOutput.size, act);
        if (bias) k.channelSums(dOutput.offset, batch, cout, outLength, bias.grad.offset);
        k.im2col1d(dOutput.offset, cols.offset, geometry);
        weightGradArgs ??= { transA: false, transB: true, m: cin, n: rows, k: width, a: swapped.offset, lda: width, b: cols.offset, ldb: width, beta: 0, c: weight.grad.offset, ldc: rows };
        k.gemm(weightGradArgs);
        if (dInput) {
          inputGradArgs ??= { transA: false, transB: false, m: cin, n: width, k: rows, a: weight.offset, lda: rows, b: cols.offset, ldb: width, beta: 0, c: dSwapped.offset, ldc: width };
          k.gemm(inputGradArgs);
          k.swapAxes01(dSwapped.offset, dInput.offset, cin, batch, length);
        }
      },
    };
  },
};
