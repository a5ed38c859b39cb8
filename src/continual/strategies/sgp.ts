/**
 * SGP — Saha & Roy, "Continual Learning with Scaled Gradient Projection", AAAI 2023 (arXiv:2302.01386);
 * fs-dgpm.md §2. GPM's bases, each with importance λ = (α+1)σ/(α·σ + σ_max) (old bases gain importance from
 * new tasks' representations), and the scaled projection g ← g − g·M·Λ·Mᵀ.
 */
import { thresholdFor } from '../config.js';
import { updateSgpMemory, type SgpMemory } from '../bases.js';
import type { ContinualStrategy } from '../strategy.js';
import { sgdStep, taskRepresentations } from '../strategy.js';
import { LayerSubspaces } from '../subspaces.js';

export function createSgpStrategy(layers: number): ContinualStrategy {
  const memory: SgpMemory[] = Array.from({ length: layers }, () => ({ basis: null, importance: [] }));
  const subspaces = new LayerSubspaces(layers);
  return {
    name: 'sgp',
    beginTask() {},
    trainStep(batch, ctx) {
      return sgdStep(ctx.weights, batch, ctx.config.lr, ctx.stream.numClasses, subspaces.projector(ctx.protectedLayers));
    },
    endTask(task, ctx) {
      const representations = taskRepresentations(ctx.weights, task, ctx.config.representationSamples, ctx.config.seed);
      for (const l of ctx.protectedLayers) {
        const next = updateSgpMemory(memory[l]!, representations[l]!, thresholdFor(ctx.config, l, ctx.taskId), ctx.config.sgpAlpha);
        memory[l] = next;
        subspaces.set(l, next.basis, next.importance);
      }
    },
    importances: () => memory.map((m) => [...m.importance]),
    bases: () => memory.map((m) => m.basis),
    basisSizes: () => memory.map((m) => m.basis?.columns ?? 0),
    dispose: () => subspaces.dispose(),
  };
}
