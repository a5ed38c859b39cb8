/** Mean squared error over every element of the prediction. */
import type { LossKind } from './loss.js';

export interface MseSpec {
  readonly kind: 'mse';
}

export const mse: LossKind<MseSpec> = {
  build(_spec, prediction, _batch, planner) {
    const target = planner.buffer('io', 'target', prediction.shape);
    return { target, forward: (k, d) => k.meanSquaredError(prediction.offset, target.offset, prediction.size, d.offset) };
  },
};
