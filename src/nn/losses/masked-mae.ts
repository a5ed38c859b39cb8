/**
 * Masked mean absolute error as Graph WaveNet trains with it (Wu et al., IJCAI 2019; its `masked_mae`):
 * targets equal to `nullValue` (missing sensor readings, 0 in METR-LA) are left out of the mean.
 */
import type { LossKind } from './loss.js';

export interface MaskedMaeSpec {
  readonly kind: 'masked_mae';
  readonly nullValue?: number;
}

export const maskedMae: LossKind<MaskedMaeSpec> = {
  build(spec, prediction, _batch, planner) {
    const target = planner.buffer('io', 'target', prediction.shape);
    const nullValue = spec.nullValue ?? 0;
    return { target, forward: (k, d) => k.maskedMeanAbsoluteError(prediction.offset, target.offset, prediction.size, nullValue, d.offset) };
  },
};
