/**
 * Karcher (Riemannian / Fréchet) mean on the unit sphere — Karcher, "Riemannian center of mass and mollifier
 * smoothing", CPAM 1977; mergekit `karcher.py`. merge-methods.md §3.5: fixed-point iteration on the
 * direction with equal weights, then scaled by the mean input norm.
 */
import type { MergeMethod } from '../method.js';
import { checkElementCounts, numberParam, requireModelCount } from '../method-params.js';

const NAME = 'karcher';

export const karcher: MergeMethod = {
  name: NAME,
  title: 'Karcher mean (Riemannian mean on the sphere)',
  reference: 'Karcher 1977; mergekit karcher.py',
  baseModel: 'unused',
  models: { min: 1 },
  params: [
    { name: 'max_iter', scope: 'global', type: 'number', default: 10, description: 'maximum fixed-point iterations' },
    { name: 'tol', scope: 'global', type: 'number', default: 1e-5, description: 'convergence tolerance on the tangent step, and the norm below which an input has no direction' },
  ],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1);
    const numel = checkElementCounts(input);
    const maxIter = numberParam(input.params, 'max_iter', NAME, input.tensorName);
    const tol = numberParam(input.params, 'tol', NAME, input.tensorName);
    const { models } = input;
    const alpha = 1 / models.length;
    const norms = models.map((m) => {
      let sq = 0;
      for (let j = 0; j < numel; j++) sq += m[j]! * m[j]!;
      return Math.sqrt(sq);
    });
    const scale = norms.reduce((acc, n) => acc + alpha * n, 0); // step 4: zero-norm inputs still count
    const directed = models.map((m, i) => ({ model: m, inverseNorm: 1 / norms[i]! })).filter((_, i) => norms[i]! > tol);
    const out = new Float32Array(numel);
    if (directed.length === 0) {
      // no input has a direction: the element-wise mean is the continuous limit of the scaled direction
      for (let j = 0; j < numel; j++) out[j] = models.reduce((acc, m) => acc + alpha * m[j]!, 0);
      return out;
    }
    const u = new Float64Array(numel);
    for (const { model, inverseNorm } of directed) for (let j = 0; j < numel; j++) u[j] = u[j]! + model[j]! * inverseNorm;
    if (!normalizeInPlace(u, tol)) {
      const first = directed[0]!;
      for (let j = 0; j < numel; j++) u[j] = first.model[j]! * first.inverseNorm;
    }
    const tangent = new Float64Array(numel);
    for (let iteration = 0; iteration < maxIter; iteration++) {
      tangent.fill(0);
      for (const { model, inverseNorm } of directed) {
        let cosine = 0;
        for (let j = 0; j < numel; j++) cosine += u[j]! * model[j]! * inverseNorm;
        cosine = Math.min(1, Math.max(-1, cosine));
        const theta = Math.acos(cosine);
        if (theta < tol) continue;
        const factor = (alpha * theta) / Math.sin(theta); // T += α θ/sinθ (u_i − cosθ u)   (step 3)
        for (let j = 0; j < numel; j++) tangent[j] = tangent[j]! + factor * (model[j]! * inverseNorm - cosine * u[j]!);
      }
      let tangentSq = 0;
      for (let j = 0; j < numel; j++) tangentSq += tangent[j]! * tangent[j]!;
      const tangentNorm = Math.sqrt(tangentSq);
      if (tangentNorm < tol) break;
      const c = Math.cos(tangentNorm);
      const s = Math.sin(tangentNorm) / tangentNorm;
      for (let j = 0; j < numel; j++) u[j] = c * u[j]! + s * tangent[j]!;
      normalizeInPlace(u, 0);
    }
    for (let j = 0; j < numel; j++) out[j] = scale * u[j]!;
    return out;
  },
};

/** Divides by the norm; false (and unchanged) when the norm is not above `floor`. */
function normalizeInPlace(v: Float64Array, floor: number): boolean {
  let sq = 0;
  for (let j = 0; j < v.length; j++) sq += v[j]! * v[j]!;
  const norm = Math.sqrt(sq);
  if (!(norm > floor)) return false;
  for (let j = 0; j < v.length; j++) v[j] = v[j]! / norm;
  return true;
}
