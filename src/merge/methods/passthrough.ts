/**
 * Passthrough — copies one input tensor, optionally scaled; used with `slices` for layer stacking.
 * merge-methods.md §3.12 (mergekit `passthrough.py`).
 */
import type { MergeMethod } from '../method.js';
import { checkElementCounts, numberParam, requireModelCount } from '../method-params.js';

const NAME = 'passthrough';

export const passthrough: MergeMethod = {
  name: NAME,
  title: 'Passthrough (copy, optional scale)',
  reference: 'mergekit passthrough.py',
  baseModel: 'unused',
  models: { min: 1, max: 1 },
  params: [{ name: 'scale', scope: 'model', type: 'number', default: 1, description: 'multiplies the copied tensor' }],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1, 1);
    checkElementCounts(input);
    const source = input.models[0]!;
    const scale = numberParam(input.modelParams[0] ?? {}, 'scale', NAME, input.tensorName, input.modelRefs[0]);
    if (scale === 1) return Float32Array.from(source);
    const out = new Float32Array(source.length);
    for (let j = 0; j < source.length; j++) out[j] = scale * source[j]!;
    return out;
  },
};
