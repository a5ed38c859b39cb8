/**
 * Gradient projection as a plug-in (fs-dgpm.md §2–§3). Weights are stored [out, in] and bases M live in the
 * layer's input space (in × r), so every projection multiplies on the right:
 *
 * - GPM / SGP / FS-DGPM weight update: g ← g − g·M·Λ·Mᵀ (Λ = I for GPM: g·M = 0 afterwards).
 * - FS-DGPM sharpness perturbation: v = clip(η₁·g·M·Λ·Mᵀ, ±clip), an ascent step inside the important subspace.
 * - FS-DGPM importance: λ ← sigmoid(10·λ) after every SGD step on λ (Deng et al., NeurIPS 2021).
 *
 * Every function returns new tensors and leaves its inputs alone, so a trainer can apply them to the
 * gradients it computed without handing over its state. `projectGradientReference` is the float64
 * specification the tfjs path is tested against.
 */
import { tf } from '../train/tf.js';
import { matMul } from '../train/matmul.js';

export interface ProtectedSubspace {
  /** in × r, orthonormal columns */
  basis: tf.Tensor2D;
  /** r importances in [0, 1]; null means Λ = I (GPM) */
  importance: tf.Tensor1D | null;
}

/** g·M·Λ·Mᵀ: the part of g inside the protected subspace, weighted by importance. */
export function protectedComponent(g: tf.Tensor2D, space: ProtectedSubspace): tf.Tensor2D {
  return tf.tidy(() => {
    let coordinates = matMul(g, space.basis);
    if (space.importance !== null) coordinates = tf.mul(coordinates, space.importance);
    return matMul(coordinates, space.basis, false, true);
  });
}

/** g − g·M·Λ·Mᵀ; with no subspace (no bases yet) a copy of g. */
export function projectGradient(g: tf.Tensor2D, space: ProtectedSubspace | null): tf.Tensor2D {
  if (space === null || space.basis.shape[1] === 0) return tf.clone(g);
  return tf.tidy(() => tf.sub(g, protectedComponent(g, space)));
}

/** FS-DGPM's perturbation v = clip(η₁·g·M·Λ·Mᵀ, ±clip); zeros without a subspace. */
export function sharpnessPerturbation(g: tf.Tensor2D, space: ProtectedSubspace | null, eta1: number, clip: number): tf.Tensor2D {
  if (space === null || space.basis.shape[1] === 0) return tf.zerosLike(g);
  return tf.tidy(() => tf.clipByValue(tf.mul(protectedComponent(g, space), eta1), -clip, clip) as tf.Tensor2D);
}

/**
 * sigmoid(10·λ), computed in float64 with the logit clamped to ±15 so the float32 result stays strictly
 * inside (0, 1) (sigmoid(±15) is 3.1e-7 from the ends; float32 would round sigmoid(17+) to exactly 1).
 */
export const IMPORTANCE_TEMPERATURE = 10;
const MAX_LOGIT = 15;
export function squashImportance(lambda: ArrayLike<number>): Float32Array {
  const out = new Float32Array(lambda.length);
  for (let i = 0; i < lambda.length; i++) {
    const logit = Math.min(MAX_LOGIT, Math.max(-MAX_LOGIT, IMPORTANCE_TEMPERATURE * lambda[i]!));
    out[i] = 1 / (1 + Math.exp(-logit));
  }
  return out;
}

/** Float64 reference of projectGradient: g (out × in) and M (in × r) as row-major arrays of rows. */
export function projectGradientReference(g: readonly (readonly number[])[], M: readonly (readonly number[])[], importance?: readonly number[]): number[][] {
  const rank = M[0]?.length ?? 0;
  return g.map((row) => {
    const coordinates = new Array<number>(rank).fill(0);
    for (let k = 0; k < rank; k++) {
      for (let i = 0; i < row.length; i++) coordinates[k] = coordinates[k]! + row[i]! * M[i]![k]!;
      coordinates[k] = coordinates[k]! * (importance?.[k] ?? 1);
    }
    return row.map((value, i) => {
      let inside = 0;
      for (let k = 0; k < rank; k++) inside += coordinates[k]! * M[i]![k]!;
      return value - inside;
    });
  });
}
