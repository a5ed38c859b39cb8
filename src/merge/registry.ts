/**
 * The merge-method registry (merge-methods.md §2): one literal map from mergekit's snake_case name to the
 * method. The union of valid names is derived from the keys; nothing registers itself on import.
 */
import { UnknownNameError } from '../core/errors.js';
import type { MergeMethod } from './method.js';
import { linear } from './methods/linear.js';
import { passthrough } from './methods/passthrough.js';

export const MERGE_METHODS = {
  linear,
  passthrough,
} as const satisfies Record<string, MergeMethod>;

export type MergeMethodName = keyof typeof MERGE_METHODS;

export const MERGE_METHOD_NAMES = Object.freeze(Object.keys(MERGE_METHODS) as MergeMethodName[]);

export function isMergeMethodName(name: string): name is MergeMethodName {
  return Object.prototype.hasOwnProperty.call(MERGE_METHODS, name);
}

/** The method registered under `name`; an unknown name throws UnknownNameError with the closest valid name. */
export function getMergeMethod(name: string): MergeMethod {
  if (isMergeMethodName(name)) return MERGE_METHODS[name];
  throw new UnknownNameError('merge method', name, MERGE_METHOD_NAMES);
}
