/**
 * Gradient checking for the conformance suites: analytic gradients of a compiled model (float64 reference
 * kernels) against central finite differences (f(x + h) − f(x − h)) / 2h of the same model's loss.
 */
import { createRng } from '../../core/rng.js';
import { createReferenceKernels } from '../kernels/reference/index.js';
import { Model, type ModelSpec } from '../model.js';

export interface GradCheckResult {
  /** worst |analytic − numeric| / max(1, |analytic|, |numeric|) over the checked entries */
  readonly worst: number;
  readonly where: string;
  readonly checked: number;
}

export function compileFloat64(spec: ModelSpec, batch: number, seed: number): Model {
  return Model.compile(spec, { batch, kernels: (floats) => createReferenceKernels(floats, 'float64'), inputGrad: true, seed });
}

/** fills the input with uniform(−1, 1), the target with `target(i)` and state buffers with uniform(0, 1) */
export function randomFill(model: Model, seed: number, target: (rng: ReturnType<typeof createRng>, i: number) => number): void {
  const rng = createRng('grad-check-data', seed);
  const input = model.view(model.input);
  for (let i = 0; i < input.length; i++) input[i] = 2 * rng.next() - 1;
  const t = model.view(model.target);
  for (let i = 0; i < t.length; i++) t[i] = target(rng, i);
  // state buffers (graph supports, running statistics) in [0, 1): positive like transition matrices and variances
  for (const v of model.stateViews) {
    const s = model.view(v);
    for (let i = 0; i < s.length; i++) s[i] = rng.next();
  }
}

/** Checks up to `perTensor` entries of every parameter and of the input; the training-mode masks use step 1. */
export function gradCheck(model: Model, perTensor = 24, h = 1e-6): GradCheckResult {
  const data = model.kernels.data;
  const lossAt = (): number => {
    model.forward(true, 1);
    return model.loss();
  };
  lossAt();
  model.backward();
  const tensors = [
    ...model.params.map((p) => ({ name: p.name, offset: p.offset, size: p.size, grad: Float64Array.from(model.view(p.grad)) })),
    { name: 'input', offset: model.input.offset, size: model.input.size, grad: Float64Array.from(model.view(model.inputGrad!)) },
  ];
  let worst = 0;
  let where = '';
  let checked = 0;
  for (const t of tensors) {
    const step = Math.max(1, Math.floor(t.size / perTensor));
    for (let i = 0; i < t.size; i += step) {
      const saved = data[t.offset + i]!;
      data[t.offset + i] = saved + h;
      const plus = lossAt();
      data[t.offset + i] = saved - h;
      const minus = lossAt();
      data[t.offset + i] = saved;
      const numeric = (plus - minus) / (2 * h);
      const analytic = t.grad[i]!;
      const error = Math.abs(analytic - numeric) / Math.max(1, Math.abs(analytic), Math.abs(numeric));
      checked++;
      if (error > worst) {
        worst = error;
        where = `${t.name}[${i}]: analytic ${analytic}, numeric ${numeric}`;
      }
    }
  }
  return { worst, where, checked };
}
