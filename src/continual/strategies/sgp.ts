/**
 * SGP — Saha & Roy, "Continual Learning with Scaled Gradient Projection", AAAI 2023 (arXiv:2302.01386);
 * fs-dgpm.md §2. GPM's bases, each with importance λ = (α+1)σ/(α·σ + σ_max) (old bases gain importance from
 * new tasks' representations), and the scaled projection g ← g − g·M·Λ·Mᵀ.
 */
import { updateSgpMemory, type SgpMemory } from '../bases.js';
import { createBasisMemoryStrategy } from '../basis-memory-strategy.js';
import type { ContinualStrategy } from '../strategy.js';

export function createSgpStrategy(layers: number): ContinualStrategy {
  return createBasisMemoryStrategy<SgpMemory>(layers, {
    name: 'sgp',
    empty: () => ({ basis: null, importance: [] }),
    update: (memory, R, threshold, config) => updateSgpMemory(memory, R, threshold, config.sgpAlpha),
    basis: (memory) => memory.basis,
    importance: (memory) => memory.importance,
  });
}
