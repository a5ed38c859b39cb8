/**
 * The plumbing GPM and SGP share (fs-dgpm.md §3): plain SGD with every protected layer's gradient projected out
 * of its stored subspace, g ← g − g·M·Λ·Mᵀ, and after each task the layer representations of the task's
 * training sample folded into each protected layer's memory. A method supplies only its memory rule: what a
 * layer stores, how a task updates it, and which basis and importances Λ the projection uses.
 */
import type { Matrix } from 'ml-matrix';
import type { ContinualConfig, ContinualMethod } from './config.js';
import { thresholdFor } from './config.js';
import type { ContinualStrategy } from './strategy.js';
import { sgdStep, taskRepresentations } from './strategy.js';
import { LayerSubspaces } from './subspaces.js';

export interface LayerMemoryRule<Memory> {
  readonly name: ContinualMethod;
  /** a layer's memory before the first task */
  empty(): Memory;
  /** the layer's memory after a task with representation R (inputs × samples) at energy threshold `threshold` */
  update(memory: Memory, R: Matrix, threshold: number, config: ContinualConfig): Memory;
  /** M: input dim × rank, orthonormal columns; null while nothing is stored */
  basis(memory: Memory): Matrix | null;
  /** Λ, one value per basis column; null projects with Λ = I */
  importance(memory: Memory): readonly number[] | null;
}

export function createBasisMemoryStrategy<Memory>(layers: number, rule: LayerMemoryRule<Memory>): ContinualStrategy {
  const memory: Memory[] = Array.from({ length: layers }, () => rule.empty());
  // made with the first task, when the layer shapes are known
  let subspaces: LayerSubspaces | null = null;
  return {
    name: rule.name,
    beginTask(ctx) {
      subspaces ??= new LayerSubspaces(
        Array.from({ length: layers }, (_, l) => ({ out: ctx.net.sizes[l + 1]!, in: ctx.net.sizes[l]! })),
        ctx.net.kernels,
      );
    },
    trainStep(batch, ctx) {
      return sgdStep(ctx.net, batch, ctx.config.lr, subspaces!.projector(ctx.protectedLayers));
    },
    endTask(task, ctx) {
      const representations = taskRepresentations(ctx.net, task, ctx.config.representationSamples, ctx.config.seed);
      for (const l of ctx.protectedLayers) {
        const next = rule.update(memory[l]!, representations[l]!, thresholdFor(ctx.config, l, ctx.taskId), ctx.config);
        memory[l] = next;
        subspaces!.set(l, rule.basis(next), rule.importance(next));
      }
    },
    // reports show Λ = I as ones, one per stored column
    importances: () => memory.map((m) => [...(rule.importance(m) ?? new Array<number>(rule.basis(m)?.columns ?? 0).fill(1))]),
    bases: () => memory.map((m) => rule.basis(m)),
    basisSizes: () => memory.map((m) => rule.basis(m)?.columns ?? 0),
    dispose: () => {},
  };
}
