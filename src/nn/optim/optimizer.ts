/**
 * Optimiser contract: state lives in the arena's optimizer region, planned once; a step is one fused pass over
 * the flat parameter run and the flat gradient run (gradient scaling for global-norm clipping folded in).
 */
import type { ArenaPlanner } from '../arena.js';
import type { NnKernels } from '../kernels/kernels.js';

export interface FlatRuns {
  /** first parameter float; gradients sit at `grads` in the same order */
  readonly params: number;
  readonly grads: number;
  readonly count: number;
  /** index of the run's first element in the whole parameter run (0 by default): a data-parallel replica
   *  updates one shard, and the optimiser state of that shard sits at the same index */
  readonly first?: number;
}

export interface PlannedOptimizer {
  /** `step` is 1-based (Adam's bias correction) */
  step(kernels: NnKernels, runs: FlatRuns, lr: number, gradScale: number, step: number): void;
}

export interface OptimizerKind<Spec> {
  plan(spec: Spec, paramCount: number, planner: ArenaPlanner): PlannedOptimizer;
}
