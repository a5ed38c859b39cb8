/**
 * Saving and loading a model's parameters and persistent state (batch norm running statistics) as
 * safetensors, F32, under the layer-qualified names the planner gave them (`0.linear.weight`,
 * `1.batch_norm.running_mean`, ...). Writes are atomic (temp file + rename, via SafetensorsWriter).
 */
import { ShapeMismatchError } from '../core/errors.js';
import { SafetensorsFile } from '../io/safetensors/reader.js';
import { writeSafetensors } from '../io/safetensors/writer.js';
import type { View } from './arena.js';
import type { Model } from './model.js';

/** parameters and state buffers, in arena order */
function savedViews(model: Model): readonly View[] {
  return [...model.params, ...model.stateViews];
}

/** A flat run saved beside the model's tensors (optimiser state, a training loop's best parameters). */
export interface ExtraTensor {
  readonly name: string;
  readonly values: ArrayLike<number>;
}

function f32(name: string, shape: readonly number[], values: ArrayLike<number>) {
  const copy = Float32Array.from(values);
  return { name, dtype: 'F32' as const, shape, data: new Uint8Array(copy.buffer) };
}

export function saveModel(model: Model, path: string, metadata?: Record<string, string>, extra: readonly ExtraTensor[] = []): void {
  const tensors = savedViews(model).map((v) => f32(v.name, v.shape, model.view(v)));
  for (const e of extra) tensors.push(f32(e.name, [e.values.length], e.values));
  writeSafetensors(path, tensors, metadata);
}

/** Loads every saved tensor into the model; names and shapes must match exactly. */
export function loadModel(model: Model, path: string): void {
  const file = SafetensorsFile.open(path);
  try {
    for (const v of savedViews(model)) {
      const info = file.info(v.name);
      if (info.shape.length !== v.shape.length || info.shape.some((d, i) => d !== v.shape[i])) {
        throw new ShapeMismatchError(v.name, { model: v.shape, file: info.shape }, { hint: `the file ${path} was saved from a different architecture` });
      }
      model.view(v).set(file.readFloat32(v.name));
    }
  } finally {
    file.close();
  }
}
