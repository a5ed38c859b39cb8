/**
 * Per-layer protected subspaces (bases M and importances Λ, fs-dgpm.md §2) on the engine's projection
 * workspace, and the projection plug-in built from them: gradients of protected layers become g − g·M·Λ·Mᵀ.
 */
import type { Matrix } from 'ml-matrix';
import type { KernelsName } from '../nn/kernels/kernels.js';
import { ProjectionWorkspace, type LayerShape } from './projection.js';
import type { GradientPlugin } from './strategy.js';

export class LayerSubspaces {
  private readonly workspace: ProjectionWorkspace;
  private readonly importance: (Float32Array | null)[];

  constructor(shapes: readonly LayerShape[], kernels?: KernelsName) {
    this.workspace = new ProjectionWorkspace(shapes, kernels);
    this.importance = shapes.map(() => null);
  }

  /** Replaces a layer's basis (in × r, float64) and importances (null = Λ = I). */
  set(layer: number, basis: Matrix | null, importance: ArrayLike<number> | null): void {
    this.workspace.setBasis(layer, basis);
    this.importance[layer] = importance === null || this.workspace.rank(layer) === 0 ? null : Float32Array.from(importance);
  }

  rank(layer: number): number {
    return this.workspace.rank(layer);
  }

  /** The projection plug-in: protected layers' gradients are projected in place. */
  projector(protectedLayers: readonly number[]): GradientPlugin {
    return (gradients) => {
      for (const l of protectedLayers) this.workspace.project(l, gradients[l]!, this.importance[l] ?? null);
    };
  }
}
