/**
 * Mean absolute error over every element of the prediction (torch.nn.L1Loss): the masked MAE with no value
 * masked — NaN as the null value, since NaN ≠ NaN keeps every target, NaN ones included.
 */
import type { LossKind } from './loss.js';

export interface MaeSpec {
  readonly kind: 'mae';
}

export const mae: LossKind<MaeSpec> = {
  build(_spec, prediction, _batch, planner) {
    const target = planner.buffer('io', 'target', prediction.shape);
    return { target, forward: (k, d) => k.maskedMeanAbsoluteError(prediction.offset, target.offset, prediction.size, Number.NaN, d.offset) };
  },
};
