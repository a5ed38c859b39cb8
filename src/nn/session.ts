/**
 * One way to open training on the engine, on one thread or data-parallel over 2 (`workers`). Both kinds of
 * trainer take the same batches and return the same mean loss; `close()` releases the worker (a no-op on
 * one thread), so callers can always close.
 */
import { ModelevoError } from '../core/errors.js';
import { DataParallelTrainer } from './data-parallel.js';
import { Model, type CompileOptions, type ModelSpec } from './model.js';
import type { OptimizerSpec } from './optim/registry.js';
import { Trainer, type TrainerOptions } from './trainer.js';

export interface TrainingSession {
  readonly model: Model;
  readonly steps: number;
  readonly lastGradNorm: number;
  step(inputs: ArrayLike<number>, targets: ArrayLike<number>): number;
  predict(inputs: ArrayLike<number>): Float32Array | Float64Array;
  close(): Promise<void>;
}

export interface SessionOptions extends TrainerOptions {
  /** the full batch; with 2 workers each replica compiles half of it */
  readonly batch: number;
  readonly optimizer: OptimizerSpec;
  readonly seed?: number;
  readonly kernels?: CompileOptions['kernels'];
  /** 1 (default): this thread; 2: data-parallel, this thread plus one worker (wasm kernels only) */
  readonly workers?: number;
}

export async function openTrainer(spec: ModelSpec, options: SessionOptions): Promise<TrainingSession> {
  const workers = options.workers ?? 1;
  if (workers === 1) {
    const model = Model.compile(spec, { batch: options.batch, kernels: options.kernels, optimizer: options.optimizer, seed: options.seed });
    return new Trainer(model, options);
  }
  if (workers !== 2) {
    throw new ModelevoError('CONFIG_INVALID', `workers must be 1 or 2, got ${workers}`, { hint: 'data-parallel training splits a batch over exactly 2 replicas' });
  }
  if (options.kernels !== undefined && options.kernels !== 'wasm') {
    throw new ModelevoError('CONFIG_INVALID', `data-parallel training needs the wasm kernels (shared memory), got ${typeof options.kernels === 'string' ? options.kernels : 'a kernel factory'}`, {
      hint: "omit `kernels` or pass 'wasm' with workers: 2",
    });
  }
  return DataParallelTrainer.open(spec, options);
}
