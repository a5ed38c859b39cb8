/**
 * One training step over a compiled model: copy the batch in, forward, loss, backward, clip by global norm,
 * one fused optimiser pass. Nothing is allocated per step (the arena was planned at compile time).
 * Clipping: g ← g·min(1, maxNorm / ‖g‖₂) (Pascanu et al., ICML 2013), folded into the optimiser's gradScale.
 */
import { ModelevoError, ShapeMismatchError } from '../core/errors.js';
import type { View } from './arena.js';
import type { ArenaArray } from './kernels/kernels.js';
import type { Model } from './model.js';
import { learningRate, type ScheduleSpec } from './optim/schedule.js';

export interface TrainerOptions {
  readonly lr: number;
  readonly schedule?: ScheduleSpec;
  /** clip gradients to this global L2 norm (off when absent) */
  readonly clipNorm?: number;
}

/**
 * Edits the flat gradient run in place between backward and the optimiser (gradient projection, masking).
 * Runs before clipping, so the clipped norm is the edited gradient's.
 */
export type GradientHook = (grads: ArenaArray) => void;

export class Trainer {
  /** optimiser steps taken so far (settable: a resumed run restores it, the schedule and Adam read it) */
  steps = 0;
  /** global gradient norm of the last step (before clipping) */
  lastGradNorm = 0;
  /** called with the live gradient run after every backward, before clipping and the update */
  beforeUpdate: GradientHook | undefined;
  private readonly schedule: ScheduleSpec;
  /** the gradient run's view, made once (re-made only if the arena's buffer is replaced) */
  private gradView: ArenaArray | undefined;

  constructor(
    readonly model: Model,
    private readonly options: TrainerOptions,
  ) {
    if (!model.optimizer) {
      throw new ModelevoError('CONFIG_INVALID', 'the model was compiled without an optimizer, expected one for training', {
        hint: 'pass `optimizer` to Model.compile',
      });
    }
    this.schedule = options.schedule ?? { kind: 'constant' };
  }

  /** One step on (inputs, targets) of exactly one batch; returns the batch's mean loss before the update. */
  step(inputs: ArrayLike<number>, targets: ArrayLike<number>): number {
    const model = this.model;
    const data = model.kernels.data;
    // a wrong length would spill into the neighbouring arena buffers
    checkLength(inputs, model.input, 'inputs');
    checkLength(targets, model.target, 'targets');
    data.set(inputs, model.input.offset);
    data.set(targets, model.target.offset);
    this.steps++;
    model.forward(true, this.steps);
    const loss = model.loss();
    model.backward();
    const { runs } = model;
    if (this.beforeUpdate) this.beforeUpdate(this.gradients());
    let gradScale = 1;
    if (this.options.clipNorm !== undefined) {
      this.lastGradNorm = Math.sqrt(model.kernels.sumSquares(runs.grads, runs.count));
      if (this.lastGradNorm > this.options.clipNorm) gradScale = this.options.clipNorm / this.lastGradNorm;
    }
    model.optimizer!.step(model.kernels, runs, learningRate(this.schedule, this.options.lr, this.steps), gradScale, this.steps);
    return loss;
  }

  /** A live view of the flat gradient run (valid until the arena's memory grows). */
  gradients(): ArenaArray {
    const data = this.model.kernels.data;
    if (this.gradView === undefined || this.gradView.buffer !== data.buffer) {
      const { runs } = this.model;
      this.gradView = data.subarray(runs.grads, runs.grads + runs.count);
    }
    return this.gradView;
  }

  /** Nothing to release on one thread; present so that a data-parallel trainer and this one close alike. */
  async close(): Promise<void> {}

  /** Forward only, inference mode; returns a view of the output (valid until the next call). */
  predict(inputs: ArrayLike<number>): Float32Array | Float64Array {
    const model = this.model;
    checkLength(inputs, model.input, 'inputs');
    model.kernels.data.set(inputs, model.input.offset);
    model.forward(false);
    return model.view(model.output);
  }
}

/** refuses a wrong-length batch (it would spill into the neighbouring arena buffers) */
export function checkLength(values: ArrayLike<number>, view: View, what: string): void {
  if (values.length !== view.size) {
    throw new ShapeMismatchError(what, { expected: view.shape, given: [values.length] }, {
      hint: `pass exactly one batch: ${view.size} values for ${what} of shape [${view.shape.join(', ')}]`,
    });
  }
}
