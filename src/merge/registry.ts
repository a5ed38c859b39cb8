/**
 * The merge-method registry (merge-methods.md §2): one literal map from mergekit's snake_case name to the
 * method. The union of valid names is derived from the keys; nothing registers itself on import.
 */
import { UnknownNameError } from '../core/errors.js';
import type { MergeMethod } from './method.js';
import { arceeFusion } from './methods/arcee-fusion.js';
import { breadcrumbs } from './methods/breadcrumbs.js';
import { breadcrumbsTies } from './methods/breadcrumbs-ties.js';
import { dareLinear } from './methods/dare-linear.js';
import { dareTies } from './methods/dare-ties.js';
import { della } from './methods/della.js';
import { dellaLinear } from './methods/della-linear.js';
import { karcher } from './methods/karcher.js';
import { linear } from './methods/linear.js';
import { magmax } from './methods/magmax.js';
import { modelStock } from './methods/model-stock.js';
import { multislerp } from './methods/multislerp.js';
import { nearswap } from './methods/nearswap.js';
import { nuslerp } from './methods/nuslerp.js';
import { passthrough } from './methods/passthrough.js';
import { ram } from './methods/ram.js';
import { ramplusTl } from './methods/ramplus-tl.js';
import { sce } from './methods/sce.js';
import { slerp } from './methods/slerp.js';
import { taskArithmetic } from './methods/task-arithmetic.js';
import { ties } from './methods/ties.js';

export const MERGE_METHODS = {
  linear,
  slerp,
  nuslerp,
  multislerp,
  karcher,
  task_arithmetic: taskArithmetic,
  ties,
  dare_linear: dareLinear,
  dare_ties: dareTies,
  breadcrumbs,
  breadcrumbs_ties: breadcrumbsTies,
  della,
  della_linear: dellaLinear,
  sce,
  model_stock: modelStock,
  nearswap,
  arcee_fusion: arceeFusion,
  ram,
  ramplus_tl: ramplusTl,
  passthrough,
  magmax,
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
