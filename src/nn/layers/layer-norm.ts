/** Layer normalisation over the last axis (Ba, Kiros & Hinton 2016, arXiv:1607.06450; torch.nn.LayerNorm of the last dimension). */
import type { NormBuffers } from '../kernels/kernels.js';
import type { BuiltLayer, LayerKind } from './layer.js';

export interface LayerNormSpec {
  readonly kind: 'layer_norm';
  readonly eps?: number;
}

export const layerNorm: LayerKind<LayerNormSpec> = {
  build(spec, { name, sampleShape, input, planner }): BuiltLayer {
    const features = sampleShape[sampleShape.length - 1]!;
    const rows = input.size / features;
    const gamma = planner.param(`${name}.weight`, [features], { kind: 'ones' });
    const beta = planner.param(`${name}.bias`, [features], { kind: 'zeros' });
    const output = planner.buffer('activation', `${name}.out`, input.shape);
    const xhat = planner.buffer('activation', `${name}.xhat`, input.shape);
    const invStd = planner.buffer('activation', `${name}.invStd`, [rows]);
    const eps = spec.eps ?? 1e-5;
    let saved: NormBuffers | undefined;
    return {
      output,
      sampleShape,
      forward(ctx) {
        saved ??= { xhat: xhat.offset, invStd: invStd.offset };
        ctx.kernels.layerNormForward(input.offset, output.offset, gamma.offset, beta.offset, saved, rows, features, eps);
      },
      backward(ctx, dOutput, dInput) {
        ctx.kernels.layerNormBackward(dOutput.offset, dInput ? dInput.offset : -1, gamma.offset, gamma.grad.offset, beta.grad.offset, saved!, rows, features);
      },
    };
  },
};
