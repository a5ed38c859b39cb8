/**
 * Inverted dropout (Srivastava et al., JMLR 2014): in training y = x ⊙ M with M ∈ {0, 1/keep} drawn per step
 * from (model seed, layer name, step); at inference y = x.
 */
import { nameHash, type BuiltLayer, type LayerKind } from './layer.js';

export interface DropoutSpec {
  readonly kind: 'dropout';
  /** drop probability in [0, 1) */
  readonly rate: number;
}

export const dropout: LayerKind<DropoutSpec> = {
  build(spec, { name, sampleShape, input, planner }): BuiltLayer {
    const output = planner.buffer('activation', `${name}.out`, input.shape);
    const mask = planner.buffer('activation', `${name}.mask`, input.shape);
    const salt = nameHash(name);
    let masked = false;
    return {
      output,
      sampleShape,
      forward(ctx) {
        masked = ctx.training && spec.rate > 0;
        if (masked) {
          ctx.kernels.dropoutMask(mask.offset, mask.size, 1 - spec.rate, ctx.seed ^ salt, ctx.step);
          ctx.kernels.multiply(input.offset, mask.offset, output.offset, input.size);
        } else {
          ctx.kernels.activation(input.offset, output.offset, input.size, 'identity');
        }
      },
      backward(ctx, dOutput, dInput) {
        if (!dInput) return;
        if (masked) ctx.kernels.multiply(dOutput.offset, mask.offset, dInput.offset, input.size);
        else ctx.kernels.activation(dOutput.offset, dInput.offset, input.size, 'identity');
      },
    };
  },
};
