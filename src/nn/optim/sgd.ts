/** SGD with optional momentum and Nesterov momentum, L2 weight decay added to the gradient (torch.optim.SGD). */
import type { OptimizerKind } from './optimizer.js';

export interface SgdSpec {
  readonly kind: 'sgd';
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

export const sgd: OptimizerKind<SgdSpec> = {
  plan(spec, paramCount, planner) {
    const momentum = spec.momentum ?? 0;
    const velocity = momentum > 0 ? planner.buffer('optimizer', 'sgd.velocity', [paramCount]) : undefined;
    const hyper = { lr: 0, momentum, nesterov: spec.nesterov ?? false, weightDecay: spec.weightDecay ?? 0, gradScale: 1 };
    return {
      step(kernels, runs, lr, gradScale) {
        hyper.lr = lr;
        hyper.gradScale = gradScale;
        kernels.sgdStep(runs.params, runs.grads, velocity ? velocity.offset + (runs.first ?? 0) : -1, runs.count, hyper);
      },
    };
  },
};
