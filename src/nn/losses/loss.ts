/** The loss contract: built once with the prediction buffer, it owns the target buffer and writes dLoss/dPred. */
import type { ArenaPlanner, View } from '../arena.js';
import type { NnKernels } from '../kernels/kernels.js';

export interface BuiltLoss {
  readonly target: View;
  /** the mean loss over the batch; writes its gradient with respect to `prediction` into `dPrediction` */
  forward(kernels: NnKernels, dPrediction: View): number;
}

export interface LossKind<Spec> {
  build(spec: Spec, prediction: View, batch: number, planner: ArenaPlanner): BuiltLoss;
}
