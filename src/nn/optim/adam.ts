/** Adam (Kingma & Ba, ICLR 2015, arXiv:1412.6980) and AdamW (Loshchilov & Hutter, ICLR 2019, arXiv:1711.05101). */
import type { OptimizerKind } from './optimizer.js';

export interface AdamSpec {
  readonly kind: 'adam' | 'adamw';
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Adam: L2 added to the gradient; AdamW: decoupled decay (default 0.01 as in PyTorch) */
  readonly weightDecay?: number;
}

export const adam: OptimizerKind<AdamSpec> = {
  plan(spec, paramCount, planner) {
    const m = planner.buffer('optimizer', 'adam.m', [paramCount]);
    const v = planner.buffer('optimizer', 'adam.v', [paramCount]);
    const decoupled = spec.kind === 'adamw';
    const hyper = {
      lr: 0,
      beta1: spec.beta1 ?? 0.9,
      beta2: spec.beta2 ?? 0.999,
      eps: spec.eps ?? 1e-8,
      weightDecay: spec.weightDecay ?? (decoupled ? 0.01 : 0),
      decoupled,
      gradScale: 1,
      step: 0,
    };
    return {
      step(kernels, runs, lr, gradScale, step) {
        hyper.lr = lr;
        hyper.gradScale = gradScale;
        hyper.step = step;
        const first = runs.first ?? 0;
        kernels.adamStep(runs.params, runs.grads, m.offset + first, v.offset + first, runs.count, hyper);
      },
    };
  },
};
