/** The literal loss registry. */
import { UnknownNameError } from '../../core/errors.js';
import type { ArenaPlanner, View } from '../arena.js';
import type { BuiltLoss, LossKind } from './loss.js';
import { softmaxCrossEntropy, type SoftmaxCrossEntropySpec } from './softmax-cross-entropy.js';
import { mse, type MseSpec } from './mse.js';
import { maskedMae, type MaskedMaeSpec } from './masked-mae.js';
import { mae, type MaeSpec } from './mae.js';

export type LossSpec = SoftmaxCrossEntropySpec | MseSpec | MaskedMaeSpec | MaeSpec;

export const LOSSES: { readonly [K in LossSpec['kind']]: LossKind<Extract<LossSpec, { kind: K }>> } = {
  softmax_cross_entropy: softmaxCrossEntropy,
  mse,
  masked_mae: maskedMae,
  mae,
};

export function buildLoss(spec: LossSpec, prediction: View, batch: number, planner: ArenaPlanner): BuiltLoss {
  const kind = (LOSSES as Record<string, LossKind<LossSpec> | undefined>)[spec.kind];
  if (!kind) throw new UnknownNameError('loss', spec.kind, Object.keys(LOSSES));
  return kind.build(spec, prediction, batch, planner);
}
