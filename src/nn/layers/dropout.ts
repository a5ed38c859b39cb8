/**
 * Inverted dropout (Srivastava et al., JMLR 2014): in training y = x ⊙ M with M ∈ {0, 1/keep} drawn per step
 * from (model seed, layer name, step); at inference y = x.
 *
 * The rate is fixed when the model is compiled, unless `runtimeRate` is set: then it lives in a one-float state
 * buffer `<name>.rate` (initialised to `rate`) that forward reads on every step, so a caller can change it
 * between steps without recompiling (SynEVO's elastic schedule sets a dropout rate per domain group). A
 * composite layer can share one such slot between several dropout parts (`buildDropout`).
 */
import type { View } from '../arena.js';
import { nameHash, type BuildInput, type BuiltLayer, type LayerKind } from './layer.js';

export interface DropoutSpec {
  readonly kind: 'dropout';
  /** drop probability in [0, 1) (the initial value of the rate slot when `runtimeRate`) */
  readonly rate: number;
  /** read the rate from the state buffer `<name>.rate` each forward instead of fixing it at compile time */
  readonly runtimeRate?: boolean;
}

/** Dropout whose rate is read from `rateSlot` (one float of persistent state) when given, else `spec.rate`. */
export function buildDropout(spec: DropoutSpec, { name, sampleShape, input, planner }: BuildInput, rateSlot?: View): BuiltLayer {
  const output = planner.buffer('activation', `${name}.out`, input.shape);
  const mask = planner.buffer('activation', `${name}.mask`, input.shape);
  const salt = nameHash(name);
  const ownSlot = !rateSlot && spec.runtimeRate ? planner.buffer('state', `${name}.rate`, [1]) : undefined;
  const slot = rateSlot ?? ownSlot;
  let masked = false;
  return {
    output,
    sampleShape,
    forward(ctx) {
      const rate = slot ? ctx.kernels.data[slot.offset]! : spec.rate;
      masked = ctx.training && rate > 0;
      if (masked) {
        ctx.kernels.dropoutMask(mask.offset, mask.size, 1 - rate, ctx.seed ^ salt, ctx.step);
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
    // a shared slot is initialised by its owner
    ...(ownSlot
      ? {
          reset(data) {
            data[ownSlot.offset] = spec.rate;
          },
        }
      : {}),
  };
}

export const dropout: LayerKind<DropoutSpec> = { build: (spec, at) => buildDropout(spec, at) };
