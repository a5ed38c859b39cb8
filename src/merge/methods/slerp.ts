/**
 * Spherical linear interpolation — Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985;
 * mergekit `slerp.py`. merge-methods.md §3.2 and §6 P5: near-colinear inputs (|cos| > dot_threshold) fall
 * back to a lerp of the raw tensors; otherwise the slerp coefficients are applied to the raw (unnormalised)
 * tensors, so norms are not re-imposed.
 */
import { dot, lerp, linearCombination, squaredNorm } from '../../kernels/reference/vector.js';
import type { MergeMethod } from '../method.js';
import { checkElementCounts, numberParam, requireBase, requireModelCount } from '../method-params.js';

const NAME = 'slerp';
const NORM_EPSILON = 1e-8;

export const slerp: MergeMethod = {
  name: NAME,
  title: 'SLERP (spherical interpolation of two models)',
  reference: 'Shoemake 1985; mergekit slerp.py',
  baseModel: 'required',
  models: { min: 1, max: 1 },
  params: [
    { name: 't', scope: 'global', type: 'number', description: 'interpolation position: 0 = base model, 1 = the other model' },
    {
      name: 'dot_threshold',
      scope: 'global',
      type: 'number',
      default: 0.9995,
      description: '|cos| above which the inputs count as colinear and are linearly interpolated',
    },
  ],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1, 1);
    const v0 = requireBase(input, NAME);
    checkElementCounts(input);
    const v1 = input.models[0]!;
    const t = numberParam(input.params, 't', NAME, input.tensorName);
    const threshold = numberParam(input.params, 'dot_threshold', NAME, input.tensorName);
    // the endpoints are copies, so they are exact whatever the branch below would round to
    if (t === 0) return Float32Array.from(v0);
    if (t === 1) return Float32Array.from(v1);
    return slerpVectors(v0, v1, t, threshold);
  },
};

/** §3.2 steps 1–4 on two flat vectors. */
export function slerpVectors(v0: Float32Array, v1: Float32Array, t: number, dotThreshold: number): Float32Array {
  const norm0 = Math.sqrt(squaredNorm(v0));
  const norm1 = Math.sqrt(squaredNorm(v1));
  // both (near-)zero: there is no direction to rotate, and mergekit's unnormalised dot (~0) would wrongly
  // pick the 90° slerp; the lerp keeps "identical inputs return themselves" true down to subnormals
  if (norm0 <= NORM_EPSILON && norm1 <= NORM_EPSILON) return lerp(v0, v1, t);
  // one (near-)zero vector is used as is rather than normalised (mergekit's guard)
  const scale0 = norm0 > NORM_EPSILON ? 1 / norm0 : 1;
  const scale1 = norm1 > NORM_EPSILON ? 1 / norm1 : 1;
  const cosine = dot(v0, v1) * scale0 * scale1;
  if (Math.abs(cosine) > dotThreshold) return lerp(v0, v1, t);
  const theta = Math.acos(Math.min(1, Math.max(-1, cosine)));
  const sinTheta = Math.sin(theta);
  const s0 = Math.sin((1 - t) * theta) / sinTheta;
  const s1 = Math.sin(t * theta) / sinTheta;
  return linearCombination(v0, s0, v1, s1);
}
