/**
 * Small readers shared by the per-tensor merge methods (merge-methods.md §2): typed access to resolved
 * parameters and the input checks every method repeats. Values arrive already resolved (§1.4–§1.5); these
 * readers only guard the types, so a wrong value names the method, key, model and tensor.
 */
import { ConfigError, ModelevoError, ShapeMismatchError } from '../core/errors.js';
import type { ParamValue, TensorMergeInput } from './method.js';

type Params = Readonly<Record<string, ParamValue>>;

function paramError(method: string, key: string, message: string, modelRef?: string): ConfigError {
  const path = modelRef === undefined ? ['parameters', key] : ['models', modelRef, 'parameters', key];
  return new ConfigError([{ path, message: `${method}: ${message}` }], { hint: `check the value of '${key}'` });
}

export function numberParam(params: Params, key: string, method: string, tensorName: string, modelRef?: string): number {
  const value = params[key];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const owner = modelRef === undefined ? '' : ` of model '${modelRef}'`;
  throw paramError(method, key, `'${key}'${owner} must be a finite number for tensor '${tensorName}', got ${JSON.stringify(value)}`, modelRef);
}

export function booleanParam(params: Params, key: string, method: string, tensorName: string): boolean {
  const value = params[key];
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw paramError(method, key, `'${key}' must be true or false for tensor '${tensorName}', got ${JSON.stringify(value)}`);
}

/** The per-model `weight` of every model, in order. */
export function modelWeights(input: TensorMergeInput, method: string, key = 'weight'): number[] {
  return input.modelParams.map((params, i) => numberParam(params, key, method, input.tensorName, input.modelRefs[i] ?? `#${i}`));
}

export function requireBase(input: TensorMergeInput, method: string): Float32Array {
  if (input.base) return input.base;
  throw new ConfigError([{ path: ['base_model'], message: `merge method ${method} requires base_model (tensor '${input.tensorName}')` }], {
    hint: 'set base_model to the model the others were fine-tuned from',
  });
}

/** Checks the model count against the method's bounds (the planner checks too; this keeps the function pure-safe). */
export function requireModelCount(input: TensorMergeInput, method: string, min: number, max = Infinity): void {
  const n = input.models.length;
  if (n >= min && n <= max) return;
  const expected = max === min ? `exactly ${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  throw new ModelevoError('VALUE_INVALID', `merge method ${method} needs ${expected} non-base models, got ${n} (tensor '${input.tensorName}')`, {
    hint: `list ${expected} models besides base_model`,
    details: { method, tensor: input.tensorName, models: input.modelRefs },
  });
}

/** Every input must have the element count of `shape` (after §3.14 rectification). */
export function checkElementCounts(input: TensorMergeInput): number {
  const numel = input.shape.reduce((a, b) => a * b, 1);
  const arrays = [...(input.base ? [input.base] : []), ...input.models];
  if (arrays.every((a) => a.length === numel)) return numel;
  const shapes: Record<string, readonly number[]> = {};
  if (input.base) shapes.base = input.base.length === numel ? input.shape : [input.base.length];
  input.models.forEach((m, i) => {
    shapes[input.modelRefs[i] ?? `#${i}`] = m.length === numel ? input.shape : [m.length];
  });
  throw new ShapeMismatchError(input.tensorName, shapes);
}
