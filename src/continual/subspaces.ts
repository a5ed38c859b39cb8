/**
 * Per-layer protected subspaces as tfjs tensors (bases M and importances Λ, fs-dgpm.md §2), and the
 * projection plug-in built from them: gradients of protected layers become g − g·M·Λ·Mᵀ.
 */
import type { Matrix } from 'ml-matrix';
import { tf } from '../train/tf.js';
import { projectGradient, type ProtectedSubspace } from './projection.js';
import type { GradientPlugin } from './strategy.js';

export class LayerSubspaces {
  private readonly spaces: (ProtectedSubspace | null)[];

  constructor(layers: number) {
    this.spaces = new Array<ProtectedSubspace | null>(layers).fill(null);
  }

  get(layer: number): ProtectedSubspace | null {
    return this.spaces[layer] ?? null;
  }

  /** Replaces a layer's basis (in × r, float64) and importances (null = Λ = I). */
  set(layer: number, basis: Matrix | null, importance: ArrayLike<number> | null): void {
    this.clear(layer);
    if (basis === null || basis.columns === 0) return;
    this.spaces[layer] = {
      basis: tf.tensor2d(Float32Array.from(basis.to1DArray()), [basis.rows, basis.columns]),
      importance: importance === null ? null : tf.tensor1d(Float32Array.from(importance)),
    };
  }

  /** Replaces only the importances of an existing basis. */
  setImportance(layer: number, importance: ArrayLike<number>): void {
    const space = this.spaces[layer];
    if (!space) return;
    space.importance?.dispose();
    space.importance = tf.tensor1d(Float32Array.from(importance));
  }

  rank(layer: number): number {
    return this.spaces[layer]?.basis.shape[1] ?? 0;
  }

  /** The projection plug-in; returns new gradient tensors. */
  projector(protectedLayers: readonly number[]): GradientPlugin {
    return (gradients) => gradients.map((g, l) => (protectedLayers.includes(l) ? projectGradient(g, this.get(l)) : tf.clone(g)));
  }

  clear(layer: number): void {
    const space = this.spaces[layer];
    space?.basis.dispose();
    space?.importance?.dispose();
    this.spaces[layer] = null;
  }

  dispose(): void {
    for (let l = 0; l < this.spaces.length; l++) this.clear(l);
  }
}
