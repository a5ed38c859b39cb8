/**
 * Multi-SLERP — barycentric interpolation of several models on the hypersphere (mergekit `multislerp.py`).
 * merge-methods.md §3.4: the weighted mean direction is projected onto the sphere, the weighted tangent
 * displacement is followed along the geodesic, and the result is scaled by the weighted mean norm.
 * Everything is streamed over the inputs in double; only the output is tensor-sized.
 */
import { ModelevoError } from '../../core/errors.js';
import type { MergeMethod, TensorMergeInput } from '../method.js';
import { booleanParam, checkElementCounts, modelWeights, numberParam, requireModelCount } from '../method-params.js';

const NAME = 'multislerp';

export const multislerp: MergeMethod = {
  name: NAME,
  title: 'Multi-SLERP (spherical barycentre of several models)',
  reference: 'mergekit multislerp.py',
  baseModel: 'optional',
  models: { min: 1 },
  params: [
    { name: 'normalize_weights', scope: 'global', type: 'boolean', default: true, description: 'divide the weights by their sum' },
    { name: 'eps', scope: 'global', type: 'number', default: 1e-8, description: 'guards the norms against division by zero' },
    { name: 'weight', scope: 'model', type: 'number', description: "the model's weight" },
  ],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1);
    const numel = checkElementCounts(input);
    const eps = numberParam(input.params, 'eps', NAME, input.tensorName);
    const weights = readWeights(input);
    const { base, models } = input;
    const n = models.length;
    // x_i = X_i − B, exact in double; read through this accessor so no task-vector copies are made (§3.4 step 1)
    const x = (i: number, j: number): number => (base ? models[i]![j]! - base[j]! : models[i]![j]!);

    const norms = models.map((_, i) => {
      let sq = 0;
      for (let j = 0; j < numel; j++) sq += x(i, j) ** 2;
      return Math.sqrt(sq);
    });
    const unitScale = norms.map((norm, i) => weights[i]! / (norm + eps)); // w_i/(n_i + eps): m = Σ w_i u_i (step 3)
    const meanAt = (j: number): number => {
      let m = 0;
      for (let i = 0; i < n; i++) m += unitScale[i]! * x(i, j);
      return m;
    };
    let meanSq = 0;
    for (let j = 0; j < numel; j++) meanSq += meanAt(j) ** 2;
    const meanNorm = Math.sqrt(meanSq);
    const out = new Float32Array(numel);
    if (meanNorm < eps) {
      if (n > 2) {
        throw new ModelevoError('VALUE_INVALID', `multislerp: the weighted mean direction of tensor '${input.tensorName}' is zero (norm ${meanNorm} < eps ${eps}) with ${n} models; the barycentre is undefined`, {
          hint: 'change the weights, or use linear for models whose directions cancel',
          details: { tensor: input.tensorName, weights, models: input.modelRefs },
        });
      }
      // two (or one) models whose directions cancel: the linear interpolation is the only meaningful answer
      for (let j = 0; j < numel; j++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += weights[i]! * x(i, j);
        out[j] = base ? base[j]! + sum : sum;
      }
      return out;
    }
    // ⟨u_i, m̂⟩ per model (step 4), then g = Σ w_i u_i − (Σ w_i ⟨u_i, m̂⟩) m̂ = m − c·m̂
    const projections = new Array<number>(n).fill(0);
    for (let j = 0; j < numel; j++) {
      const m = meanAt(j);
      for (let i = 0; i < n; i++) projections[i] = projections[i]! + x(i, j) * m;
    }
    for (let i = 0; i < n; i++) projections[i] = projections[i]! / (norms[i]! + eps) / meanNorm;
    const tangentShift = projections.reduce((acc, p, i) => acc + weights[i]! * p, 0);
    const tangentAt = (j: number): number => {
      const m = meanAt(j);
      return m - (tangentShift * m) / meanNorm;
    };
    let tangentSq = 0;
    for (let j = 0; j < numel; j++) tangentSq += tangentAt(j) ** 2;
    const tangentNorm = Math.sqrt(tangentSq);
    const scale = weights.reduce((acc, w, i) => acc + w * norms[i]!, 0); // step 6: Σ w_i n_i
    const cosPart = (Math.cos(tangentNorm) / meanNorm) * scale;
    const sinPart = (Math.sin(tangentNorm) / (tangentNorm + eps)) * scale;
    for (let j = 0; j < numel; j++) {
      const value = cosPart * meanAt(j) + sinPart * tangentAt(j); // step 5: r = m̂ cos‖g‖ + g sin‖g‖/(‖g‖+eps)
      out[j] = base ? base[j]! + value : value;
    }
    return out;
  },
};

function readWeights(input: TensorMergeInput): number[] {
  const weights = modelWeights(input, NAME);
  if (!booleanParam(input.params, 'normalize_weights', NAME, input.tensorName)) return weights;
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) {
    throw new ModelevoError('VALUE_INVALID', `multislerp: weights sum to 0 for tensor '${input.tensorName}' with normalize_weights: true; expected a non-zero sum`, {
      hint: 'give the models weights that do not cancel, or set normalize_weights: false',
      details: { tensor: input.tensorName, weights, models: input.modelRefs },
    });
  }
  return weights.map((w) => w / sum);
}
