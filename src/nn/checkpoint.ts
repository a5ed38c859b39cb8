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

export function saveModel(model: Model, path: string, metadata?: Record<string, string>): void {
  const tensors = savedViews(model).map((v) => {
    const values = Float32Array.from(model.view(v));
    return { name: v.name, dtype: 'F32' as const, shape: v.shape, data: new Uint8Array(values.buffer) };
  });
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
