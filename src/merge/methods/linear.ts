/**
 * Linear merge ("model soup") — Wortsman et al., "Model soups", ICML 2022, arXiv:2203.05482.
 * merge-methods.md §3.1 and §6 P8: out = Σ w_i X_i, divided by Σ w_i when `normalize`.
 */
import { ModelevoError } from '../../core/errors.js';
import { weightedSum } from '../../kernels/reference/vector.js';
import type { MergeMethod } from '../method.js';
import { booleanParam, checkElementCounts, modelWeights, requireModelCount } from '../method-params.js';

const NAME = 'linear';

export const linear: MergeMethod = {
  name: NAME,
  title: 'Linear (weighted average)',
  reference: 'arXiv:2203.05482',
  baseModel: 'unused',
  models: { min: 1 },
  params: [
    { name: 'normalize', scope: 'global', type: 'boolean', default: true, description: 'divide by the sum of weights' },
    { name: 'weight', scope: 'model', type: 'number', description: "the model's weight" },
  ],
  mergeTensor(input) {
    requireModelCount(input, NAME, 1);
    const numel = checkElementCounts(input);
    const weights = modelWeights(input, NAME);
    const normalize = booleanParam(input.params, 'normalize', NAME, input.tensorName);
    return weightedSum(input.models, linearCoefficients(weights, normalize, input.tensorName, input.modelRefs), numel);
  },
  // the weighted sum over bf16/f32 inputs (fast-path.ts: linearF32 / linearF64, and the file-reading variants)
  fastPath: { kind: 'linear' },
};

/**
 * The coefficients a linear merge multiplies by: w_i, or w_i / Σw when `normalize`. Shared by the reference
 * method and the wasm fast path so both check and fail the same way.
 */
export function linearCoefficients(weights: readonly number[], normalize: boolean, tensorName: string, modelRefs: readonly string[]): number[] {
  if (!normalize) return [...weights];
  const sum = weights.reduce((a, b) => a + b, 0);
  const magnitude = weights.reduce((a, b) => a + Math.abs(b), 0);
  // P8: mergekit divides by ~0 and writes Inf/NaN; cancellation to a rounding residue counts as zero too
  if (Math.abs(sum) <= 1e-12 * magnitude || sum === 0) {
    throw new ModelevoError('VALUE_INVALID', `linear: weights sum to ${sum} for tensor '${tensorName}' with normalize: true; expected a non-zero sum`, {
      hint: 'give the models weights that do not cancel, or set normalize: false',
      details: { tensor: tensorName, weights, models: modelRefs },
    });
  }
  // dividing each weight first keeps one-hot weights exact (w/Σw is exactly 1 or 0)
  return weights.map((w) => w / sum);
}
