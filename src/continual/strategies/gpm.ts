/**
 * GPM — Saha, Garg, Roy, "Gradient Projection Memory for Continual Learning", ICLR 2021 (arXiv:2103.09762);
 * fs-dgpm.md §1 and §3 with Λ = I. After each task the layer representations of 300 training samples
 * extend each protected layer's basis (residual SVD, energy threshold); later tasks train with
 * g ← g − g·M·Mᵀ.
 */
import type { Matrix } from 'ml-matrix';
import { thresholdFor } from '../config.js';
import { updateBasis } from '../bases.js';
import type { ContinualStrategy } from '../strategy.js';
import { sgdStep, taskRepresentations } from '../strategy.js';
import { LayerSubspaces } from '../subspaces.js';

export function createGpmStrategy(layers: number): ContinualStrategy {
  const memory: (Matrix | null)[] = new Array<Matrix | null>(layers).fill(null);
  const subspaces = new LayerSubspaces(layers);
  return {
    name: 'gpm',
    beginTask() {},
    trainStep(batch, ctx) {
      return sgdStep(ctx.weights, batch, ctx.config.lr, ctx.stream.numClasses, subspaces.projector(ctx.protectedLayers));
    },
    endTask(task, ctx) {
      const representations = taskRepresentations(ctx.weights, task, ctx.config.representationSamples, ctx.config.seed);
      for (const l of ctx.protectedLayers) {
        const update = updateBasis(memory[l] ?? null, representations[l]!, thresholdFor(ctx.config, l, ctx.taskId));
        memory[l] = update.basis;
        if (update.added > 0) subspaces.set(l, update.basis, null);
      }
    },
    importances: () => memory.map((m) => new Array<number>(m?.columns ?? 0).fill(1)),
    bases: () => [...memory],
    basisSizes: () => memory.map((m) => m?.columns ?? 0),
    dispose: () => subspaces.dispose(),
  };
}
