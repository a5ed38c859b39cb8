/**
 * Residual block (He et al., CVPR 2016, arXiv:1512.03385): y = x + f(x), f a sequence of layers whose output
 * has the input's shape. Nested blocks express U-Net-style skip connections (an encoder activation added to
 * the mirrored decoder activation), e.g. AD-NEv's conv autoencoder with `skip`.
 *
 * Backward: df's output gradient is a copy of dY (inner layers may overwrite their dOutput, the skip path
 * needs it intact); dX = dY + df/dx·dY.
 */
import { invariant, ModelevoError } from '../../core/errors.js';
import type { View } from '../arena.js';
import type { ArenaArray } from '../kernels/kernels.js';
import { sizeOf, type BuildInput, type BuiltLayer, type LayerKind } from './layer.js';

/** generic in the inner spec type, so this file needs nothing from the registry (which lists it) */
export interface ResidualSpec<Inner extends { readonly kind: string }> {
  readonly kind: 'residual';
  readonly layers: readonly Inner[];
}

/** out[i] = a[i] + b[i]: memory-bound and off the GEMM hot path, so a plain loop over the arena suffices */
function addInto(data: ArenaArray, a: View, b: View, out: View): void {
  for (let i = 0; i < out.size; i++) data[out.offset + i] = data[a.offset + i]! + data[b.offset + i]!;
}

/** The registry passes its own `buildLayer` (a residual block holds any registered layers; no import cycle). */
export function residualKind<Inner extends { readonly kind: string }>(buildLayer: (spec: Inner, at: BuildInput) => BuiltLayer): LayerKind<ResidualSpec<Inner>> {
  return {
    build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
      if (spec.layers.length === 0) throw new ModelevoError('CONFIG_INVALID', `residual '${name}' needs at least one inner layer, got none`);
      const inner: BuiltLayer[] = [];
      let current = input;
      let shape = sampleShape;
      spec.layers.forEach((layerSpec, i) => {
        const layer = buildLayer(layerSpec, { name: `${name}.${i}.${layerSpec.kind}`, sampleShape: shape, batch, input: current, planner });
        inner.push(layer);
        current = layer.output;
        shape = layer.sampleShape;
      });
      if (shape.length !== sampleShape.length || shape.some((d, i) => d !== sampleShape[i])) {
        throw new ModelevoError('SHAPE_MISMATCH', `residual '${name}': inner layers map [${sampleShape.join(', ')}] to [${shape.join(', ')}], expected the input's shape`, {
          hint: 'the inner layers of a residual block must preserve the example shape',
          details: { expected: sampleShape, actual: shape },
        });
      }
      const innerGrads = inner.map((layer) => planner.buffer('activationGrad', `${layer.output.name}.grad`, layer.output.shape));
      const innerInputGrad = planner.buffer('activationGrad', `${name}.inner_input.grad`, input.shape);
      const output = planner.buffer('activation', `${name}.out`, [batch, ...sampleShape]);
      const last = inner[inner.length - 1]!;
      invariant(sizeOf(output.shape) === input.size, () => `residual '${name}': output size differs from input size`);
      return {
        output,
        sampleShape,
        forward(ctx) {
          for (const layer of inner) layer.forward(ctx);
          addInto(ctx.kernels.data, input, last.output, output);
        },
        backward(ctx, dOutput, dInput) {
          const k = ctx.kernels;
          k.activation(dOutput.offset, innerGrads[inner.length - 1]!.offset, dOutput.size, 'identity');
          for (let i = inner.length - 1; i >= 0; i--) inner[i]!.backward(ctx, innerGrads[i]!, i > 0 ? innerGrads[i - 1]! : dInput ? innerInputGrad : null);
          if (dInput) addInto(k.data, dOutput, innerInputGrad, dInput);
        },
        reset(data) {
          for (const layer of inner) layer.reset?.(data);
        },
      };
    },
  };
}
