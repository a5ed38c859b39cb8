/** The literal optimiser registry. */
import { UnknownNameError } from '../../core/errors.js';
import type { ArenaPlanner } from '../arena.js';
import type { OptimizerKind, PlannedOptimizer } from './optimizer.js';
import { sgd, type SgdSpec } from './sgd.js';
import { adam, type AdamSpec } from './adam.js';

export type OptimizerSpec = SgdSpec | AdamSpec;

export const OPTIMIZERS: { readonly [K in OptimizerSpec['kind']]: OptimizerKind<Extract<OptimizerSpec, { kind: K }>> } = {
  sgd,
  adam: adam as OptimizerKind<Extract<OptimizerSpec, { kind: 'adam' }>>,
  adamw: adam as OptimizerKind<Extract<OptimizerSpec, { kind: 'adamw' }>>,
};

export function planOptimizer(spec: OptimizerSpec, paramCount: number, planner: ArenaPlanner): PlannedOptimizer {
  const kind = (OPTIMIZERS as Record<string, OptimizerKind<OptimizerSpec> | undefined>)[spec.kind];
  if (!kind) throw new UnknownNameError('optimizer', spec.kind, Object.keys(OPTIMIZERS));
  return kind.plan(spec, paramCount, planner);
}
