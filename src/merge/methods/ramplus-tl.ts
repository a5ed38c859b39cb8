/**
 * RAM+ (tensor-local) — "Reinforced Agent Merging", arXiv:2601.13572; mergekit `ram.py` (`ramplus_tl`).
 * merge-methods.md §3.11: as RAM, but a model's unique contributions are boosted by
 * λ_i = 1 + r·clamp(ρ_i, 0, alpha), ρ_i = shared_i / unique_i, counted within each tensor.
 */
import type { MergeMethod } from '../method.js';
import { numberParam } from '../method-params.js';
import { mergeWithActivity } from './ram.js';

const NAME = 'ramplus_tl';

export const ramplusTl: MergeMethod = {
  name: NAME,
  title: 'RAM+ (tensor-local boost of unique contributions)',
  reference: 'arXiv:2601.13572',
  baseModel: 'required',
  models: { min: 1 },
  params: [
    { name: 'r', scope: 'global', type: 'number', default: 0.1, description: 'boost strength for unique contributions' },
    { name: 'alpha', scope: 'global', type: 'number', default: 0.2, description: 'cap on the shared/unique ratio' },
    { name: 'epsilon', scope: 'global', type: 'number', default: 1e-5, description: '|τ| above which an entry counts as changed' },
  ],
  mergeTensor(input) {
    const r = numberParam(input.params, 'r', NAME, input.tensorName);
    const alpha = numberParam(input.params, 'alpha', NAME, input.tensorName);
    const epsilon = numberParam(input.params, 'epsilon', NAME, input.tensorName);
    return mergeWithActivity(input, NAME, epsilon, (counts, base) =>
      input.models.map((model) => {
        let unique = 0;
        let shared = 0;
        for (let j = 0; j < base.length; j++) {
          if (!(Math.abs(model[j]! - base[j]!) > epsilon)) continue;
          if (counts[j] === 1) unique++;
          else shared++;
        }
        if (unique === 0) return 1;
        return 1 + r * Math.min(alpha, Math.max(0, shared / unique));
      }),
    );
  },
};
