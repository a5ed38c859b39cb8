/** Elementwise activation layer (ReLU, GELU (tanh form), sigmoid, tanh) for use between non-linear-fused layers. */
import type { Activation } from '../kernels/kernels.js';
import type { BuiltLayer, LayerKind } from './layer.js';

export interface ActivationSpec {
  readonly kind: 'activation';
  readonly fn: Activation;
}

export const activation: LayerKind<ActivationSpec> = {
  build(spec, { name, sampleShape, input, planner }): BuiltLayer {
    const output = planner.buffer('activation', `${name}.out`, input.shape);
    return {
      output,
      sampleShape,
      forward(ctx) {
        ctx.kernels.activation(input.offset, output.offset, input.size, spec.fn);
      },
      backward(ctx, dOutput, dInput) {
        if (dInput) ctx.kernels.activationBackward(dOutput.offset, input.offset, output.offset, dInput.offset, input.size, spec.fn);
      },
    };
  },
};
