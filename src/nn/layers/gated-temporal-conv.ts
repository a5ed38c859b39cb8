/**
 * Graph WaveNet's gated temporal convolution (Wu et al., IJCAI 2019, §4.2; Gated TCN of van den Oord et al.
 * 2016): over x [B, C, N, T] (channels, nodes, time), two dilated (1 × K) convolutions along time without
 * padding, out = tanh(Θ_f ⋆ x + b_f) ⊙ σ(Θ_g ⋆ x + b_g), shape [B, Cout, N, T − dilation·(K − 1)].
 * Weights as PyTorch's Conv2d with the unit height dropped: filter/gate [Cout, C, K].
 *
 * The filter and gate weights (and biases) are declared back to back, so the planner places them as one
 * [2·Cout, C·K] matrix and one GEMM computes both: x is swapped to [B, N, C, T] (a conv1d over B·N rows),
 * im2col'd, multiplied, and the [2·Cout, B, N·T′] product swapped to [B, 2·Cout, N·T′].
 */
import { invariant, ModelevoError } from '../../core/errors.js';
import type { Conv1dGeometry, GemmArgs } from '../kernels/kernels.js';
import type { BuiltLayer, LayerKind } from './layer.js';

export interface GatedTemporalConvSpec {
  readonly kind: 'gated_temporal_conv';
  readonly channels: number;
  readonly kernel: number;
  readonly dilation?: number;
}

export const gatedTemporalConv: LayerKind<GatedTemporalConvSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    if (sampleShape.length !== 3) {
      throw new ModelevoError('SHAPE_MISMATCH', `gated_temporal_conv '${name}' expects [channels, nodes, time] examples, got [${sampleShape.join(', ')}]`);
    }
    const [cin, nodes, time] = sampleShape as [number, number, number];
    const { channels: cout, kernel } = spec;
    const dilation = spec.dilation ?? 1;
    const outTime = time - dilation * (kernel - 1);
    if (outTime < 1) {
      throw new ModelevoError('SHAPE_MISMATCH', `gated_temporal_conv '${name}': ${time} time steps are too few for kernel ${kernel} at dilation ${dilation}`, {
        hint: 'use a longer input window or smaller dilations',
      });
    }
    const bound = 1 / Math.sqrt(cin * kernel);
    const filterWeight = planner.param(`${name}.filter.weight`, [cout, cin, kernel], { kind: 'uniform', bound });
    const gateWeight = planner.param(`${name}.gate.weight`, [cout, cin, kernel], { kind: 'uniform', bound });
    const filterBias = planner.param(`${name}.filter.bias`, [cout], { kind: 'uniform', bound });
    const gateBias = planner.param(`${name}.gate.bias`, [cout], { kind: 'uniform', bound });
    const rows = cin * kernel;
    const plane = nodes * outTime;
    const width = batch * plane;
    const swapped = planner.buffer('activation', `${name}.inputT`, [batch, nodes, cin, time]);
    const cols = planner.buffer('activation', `${name}.cols`, [rows, width]);
    const gates = planner.buffer('activation', `${name}.gates`, [batch, 2 * cout, plane]);
    const output = planner.buffer('activation', `${name}.out`, [batch, cout, nodes, outTime]);
    const product = planner.buffer('scratch', `${name}.product`, [2 * cout, width]);
    const dGates = planner.buffer('scratch', `${name}.dGates`, [batch, 2 * cout, plane]);
    const dCols = planner.buffer('scratch', `${name}.dCols`, [rows, width]);
    const dSwapped = planner.buffer('scratch', `${name}.dInputT`, [batch, nodes, cin, time]);
    const geometry: Conv1dGeometry = { batch: batch * nodes, channels: cin, length: time, kernel, stride: 1, padding: 0, dilation, outLength: outTime };
    const half = cout * plane;
    const example = cin * nodes * time;
    let forwardArgs: GemmArgs | undefined;
    let weightGradArgs: GemmArgs | undefined;
    let colsGradArgs: GemmArgs | undefined;

    return {
      output,
      sampleShape: [cout, nodes, outTime],
      forward(ctx) {
        const k = ctx.kernels;
        // one GEMM computes filter and gate only if the planner kept them back to back
        invariant(
          gateWeight.offset === filterWeight.offset + filterWeight.size && gateBias.offset === filterBias.offset + cout,
          () => `gated_temporal_conv '${name}': filter and gate parameters are not adjacent`,
        );
        for (let b = 0; b < batch; b++) k.swapAxes01(input.offset + b * example, swapped.offset + b * example, cin, nodes, time);
        k.im2col1d(swapped.offset, cols.offset, geometry);
        forwardArgs ??= { transA: false, transB: false, m: 2 * cout, n: width, k: rows, a: filterWeight.offset, lda: rows, b: cols.offset, ldb: width, beta: 0, c: product.offset, ldc: width };
        k.gemm(forwardArgs);
        k.swapAxes01(product.offset, gates.offset, 2 * cout, batch, plane);
        for (let b = 0; b < batch; b++) {
          const f = gates.offset + 2 * b * half;
          k.channelBiasActivation(f, filterBias.offset, 1, cout, plane, 'tanh', -1);
          k.channelBiasActivation(f + half, gateBias.offset, 1, cout, plane, 'sigmoid', -1);
          k.multiply(f, f + half, output.offset + b * half, half);
        }
      },
      backward(ctx, dOutput, dInput) {
        const k = ctx.kernels;
        for (let b = 0; b < batch; b++) {
          const f = gates.offset + 2 * b * half;
          const df = dGates.offset + 2 * b * half;
          const dy = dOutput.offset + b * half;
          k.multiply(dy, f + half, df, half);
          k.multiply(dy, f, df + half, half);
          k.activationBackward(df, -1, f, df, half, 'tanh');
          k.activationBackward(df + half, -1, f + half, df + half, half, 'sigmoid');
        }
        k.channelSums(dGates.offset, batch, 2 * cout, plane, filterBias.grad.offset);
        k.swapAxes01(dGates.offset, product.offset, batch, 2 * cout, plane);
        weightGradArgs ??= { transA: false, transB: true, m: 2 * cout, n: rows, k: width, a: product.offset, lda: width, b: cols.offset, ldb: width, beta: 0, c: filterWeight.grad.offset, ldc: rows };
        k.gemm(weightGradArgs);
        if (!dInput) return;
        colsGradArgs ??= { transA: true, transB: false, m: rows, n: width, k: 2 * cout, a: filterWeight.offset, lda: rows, b: product.offset, ldb: width, beta: 0, c: dCols.offset, ldc: width };
        k.gemm(colsGradArgs);
        k.col2im1d(dCols.offset, dSwapped.offset, geometry);
        for (let b = 0; b < batch; b++) k.swapAxes01(dSwapped.offset + b * example, dInput.offset + b * example, nodes, cin, time);
      },
    };
  },
};
