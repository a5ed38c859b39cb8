/**
 * NearSwap — from the QuartetAnemoi-70B model card; mergekit `nearswap.py`. merge-methods.md §3.9: where the
 * two models nearly agree take the other model, where they differ keep the base.
 */
import type { MergeMethod } from '../method.js';
import { checkElementCounts, numberParam, requireBase, requireModelCount } from '../method-params.js';

const NAME = 'nearswap';
const DISTANCE_FLOOR = 1e-6;

export const nearswap: MergeMethod = {
  name: NAME,
  title: 'NearSwap (take the other model where it is close to the base)',
  reference: 'QuartetAnemoi-70B model card; mergekit nearswap.py',
  baseModel: 'required',
  models: { min: 1, max: 1 },
  params: [{ name: 't', scope: 'global', type: 'number', description: 'similarity threshold: distances below t swap in the other model' }],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1, 1);
    const base = requireBase(input, NAME);
    const numel = checkElementCounts(input);
    const other = input.models[0]!;
    const t = numberParam(input.params, 't', NAME, input.tensorName);
    const out = new Float32Array(numel);
    for (let j = 0; j < numel; j++) {
      const b = base[j]!;
      const x = other[j]!;
      const w = Math.min(1, Math.max(0, t / Math.max(Math.abs(b - x), DISTANCE_FLOOR)));
      out[j] = w * x + (1 - w) * b;
    }
    return out;
  },
};
