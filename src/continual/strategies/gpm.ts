/**
 * GPM — Saha, Garg, Roy, "Gradient Projection Memory for Continual Learning", ICLR 2021 (arXiv:2103.09762);
 * fs-dgpm.md §1 and §3 with Λ = I. After each task the layer representations of 300 training samples
 * extend each protected layer's basis (residual SVD, energy threshold); later tasks train with
 * g ← g − g·M·Mᵀ.
 */
import type { Matrix } from 'ml-matrix';
import { updateBasis } from '../bases.js';
import { createBasisMemoryStrategy } from '../basis-memory-strategy.js';
import type { ContinualStrategy } from '../strategy.js';

export function createGpmStrategy(layers: number): ContinualStrategy {
  return createBasisMemoryStrategy<Matrix | null>(layers, {
    name: 'gpm',
    empty: () => null,
    update: (basis, R, threshold) => updateBasis(basis, R, threshold).basis,
    basis: (basis) => basis,
    importance: () => null,
  });
}
