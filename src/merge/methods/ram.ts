/**
 * RAM — "Reinforced Agent Merging", arXiv:2601.13572; mergekit `ram.py`. merge-methods.md §3.11: entries a
 * single model changed are kept whole; entries several models changed are averaged over the models that
 * changed them (not over all models), so unique contributions are not diluted.
 */
import type { MergeMethod, TensorMergeInput } from '../method.js';
import { checkElementCounts, numberParam, requireBase, requireModelCount } from '../method-params.js';

const NAME = 'ram';

export const ram: MergeMethod = {
  name: NAME,
  title: 'RAM (overlap-aware task-vector averaging)',
  reference: 'arXiv:2601.13572',
  baseModel: 'required',
  models: { min: 1 },
  params: [{ name: 'epsilon', scope: 'global', type: 'number', default: 1e-5, description: '|τ| above which an entry counts as changed' }],
  mergeTensor(input) {
    const epsilon = numberParam(input.params, 'epsilon', NAME, input.tensorName);
    return mergeWithActivity(input, NAME, epsilon, input.models.map(() => 1));
  },
};

/** Per element: how many models changed it (|X_i − B| > epsilon). */
export function activeCounts(models: readonly Float32Array[], base: Float32Array, epsilon: number): Uint32Array {
  const counts = new Uint32Array(base.length);
  for (const model of models) {
    for (let j = 0; j < base.length; j++) if (Math.abs(model[j]! - base[j]!) > epsilon) counts[j] = counts[j]! + 1;
  }
  return counts;
}

/**
 * out = B + Σ_i a_i·τ_i·(count = 1 ? uniqueScale_i : 1/count), shared by ram (unique scale 1) and ramplus_tl.
 */
export function mergeWithActivity(
  input: TensorMergeInput,
  method: string,
  epsilon: number,
  uniqueScales: readonly number[] | ((counts: Uint32Array, base: Float32Array) => readonly number[]),
): Float32Array {
  requireModelCount(input, method, 1);
  const base = requireBase(input, method);
  const numel = checkElementCounts(input);
  const counts = activeCounts(input.models, base, epsilon);
  const scales = typeof uniqueScales === 'function' ? uniqueScales(counts, base) : uniqueScales;
  const out = new Float32Array(numel);
  for (let j = 0; j < numel; j++) {
    const b = base[j]!;
    const count = counts[j]!;
    if (count === 0) {
      out[j] = b;
      continue;
    }
    let sum = 0;
    input.models.forEach((model, i) => {
      const delta = model[j]! - b;
      if (Math.abs(delta) > epsilon) sum += count === 1 ? scales[i]! * delta : delta / count;
    });
    out[j] = b + sum;
  }
  return out;
}
