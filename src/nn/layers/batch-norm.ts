/**
 * Batch normalisation over the channel axis of [B, C] or [B, C, L] (torch.nn.BatchNorm1d; Ioffe & Szegedy,
 * ICML 2015, arXiv:1502.03167). Training: batch statistics, running mean/variance updated with `momentum`
 * (PyTorch's convention: running ← (1 − momentum)·running + momentum·batch, unbiased variance);
 * inference: running statistics. γ = 1, β = 0, running mean 0 and variance 1 at init.
 */
import type { NormBuffers } from '../kernels/kernels.js';
import type { BuiltLayer, LayerKind } from './layer.js';

export interface BatchNormSpec {
  readonly kind: 'batch_norm';
  readonly momentum?: number;
  readonly eps?: number;
}

export const batchNorm: LayerKind<BatchNormSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    const channels = sampleShape[0]!;
    const inner = sampleShape.slice(1).reduce((a, b) => a * b, 1);
    const gamma = planner.param(`${name}.weight`, [channels], { kind: 'ones' });
    const beta = planner.param(`${name}.bias`, [channels], { kind: 'zeros' });
    const runMean = planner.buffer('state', `${name}.running_mean`, [channels]);
    const runVar = planner.buffer('state', `${name}.running_var`, [channels]);
    const output = planner.buffer('activation', `${name}.out`, input.shape);
    const xhat = planner.buffer('activation', `${name}.xhat`, input.shape);
    const invStd = planner.buffer('activation', `${name}.invStd`, [channels]);
    const momentum = spec.momentum ?? 0.1;
    const eps = spec.eps ?? 1e-5;
    let saved: NormBuffers | undefined;
    let trainedForward = true;
    return {
      output,
      sampleShape,
      forward(ctx) {
        saved ??= { xhat: xhat.offset, invStd: invStd.offset };
        trainedForward = ctx.training;
        ctx.kernels.batchNormForward(input.offset, output.offset, gamma.offset, beta.offset, runMean.offset, runVar.offset, saved, batch, channels, inner, eps, momentum, ctx.training);
      },
      backward(ctx, dOutput, dInput) {
        ctx.kernels.batchNormBackward(dOutput.offset, dInput ? dInput.offset : -1, gamma.offset, gamma.grad.offset, beta.grad.offset, saved!, batch, channels, inner, trainedForward);
      },
      reset(data) {
        data.fill(0, runMean.offset, runMean.offset + channels);
        data.fill(1, runVar.offset, runVar.offset + channels);
      },
    };
  },
};
