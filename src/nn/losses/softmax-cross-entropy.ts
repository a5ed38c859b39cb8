/** Softmax cross-entropy over the last axis with integer class labels (stored as floats), mean over the batch. */
import { ModelevoError } from '../../core/errors.js';
import type { LossKind } from './loss.js';

export interface SoftmaxCrossEntropySpec {
  readonly kind: 'softmax_cross_entropy';
}

export const softmaxCrossEntropy: LossKind<SoftmaxCrossEntropySpec> = {
  build(_spec, prediction, batch, planner) {
    if (prediction.shape.length !== 2) {
      throw new ModelevoError('SHAPE_MISMATCH', `softmax_cross_entropy expects [batch, classes] logits, got [${prediction.shape.join(', ')}]`, {
        hint: 'end the model with a linear layer whose units are the classes',
      });
    }
    const classes = prediction.shape[1]!;
    const target = planner.buffer('io', 'target', [batch]);
    return {
      target,
      forward: (k, d) => k.softmaxCrossEntropy(prediction.offset, target.offset, batch, classes, d.offset),
    };
  },
};
