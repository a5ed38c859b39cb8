/**
 * MagMax — Marczak et al., "MagMax: Leveraging Model Merging for Seamless Continual Learning", ECCV 2024,
 * arXiv:2407.06322 (FusionBench `magmax.yaml`). merge-methods.md §3.13: per element, the task-vector entry
 * of largest magnitude (sign kept; ties go to the first model), scaled by λ.
 */
import type { MergeMethod } from '../method.js';
import { checkElementCounts, numberParam, requireBase, requireModelCount } from '../method-params.js';

const NAME = 'magmax';

export const magmax: MergeMethod = {
  name: NAME,
  title: 'MagMax (largest-magnitude task-vector entry)',
  reference: 'arXiv:2407.06322',
  baseModel: 'required',
  models: { min: 1 },
  params: [{ name: 'lambda', scope: 'global', type: 'number', default: 0.5, description: 'scale of the selected task vector' }],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1);
    const base = requireBase(input, NAME);
    const numel = checkElementCounts(input);
    const lambda = numberParam(input.params, 'lambda', NAME, input.tensorName);
    const out = new Float32Array(numel);
    for (let j = 0; j < numel; j++) {
      const b = base[j]!;
      let chosen = 0;
      for (const model of input.models) {
        const delta = model[j]! - b;
        if (Math.abs(delta) > Math.abs(chosen)) chosen = delta; // strict: a tie keeps the earlier model
      }
      out[j] = b + lambda * chosen;
    }
    return out;
  },
};
