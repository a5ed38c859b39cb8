/**
 * Reshape of each example (row-major order kept, like torch's view): e.g. a flat [C·L] bottleneck back to
 * [C, L] channels for the convolutions after it. A copy in and out (cheap beside the layers around it).
 */
import { ModelevoError } from '../../core/errors.js';
import { sizeOf, type BuiltLayer, type LayerKind } from './layer.js';

export interface ReshapeSpec {
  readonly kind: 'reshape';
  /** the new shape of one example; its size must equal the input example's */
  readonly shape: readonly number[];
}

export const reshape: LayerKind<ReshapeSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    if (sizeOf(spec.shape) !== sizeOf(sampleShape) || spec.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ModelevoError('SHAPE_MISMATCH', `reshape '${name}': [${sampleShape.join(', ')}] cannot become [${spec.shape.join(', ')}]`, {
        hint: `the new shape must hold exactly ${sizeOf(sampleShape)} values per example`,
        details: { expected: sizeOf(sampleShape), actual: sizeOf(spec.shape) },
      });
    }
    const output = planner.buffer('activation', `${name}.out`, [batch, ...spec.shape]);
    return {
      output,
      sampleShape: spec.shape,
      forward(ctx) {
        ctx.kernels.activation(input.offset, output.offset, input.size, 'identity');
      },
      backward(ctx, dOutput, dInput) {
        if (dInput) ctx.kernels.activation(dOutput.offset, dInput.offset, input.size, 'identity');
      },
    };
  },
};
