/**
 * SCE, "Select–Calculate–Erase" — Wan et al., FuseChat, arXiv:2408.07990; mergekit `sce.py`.
 * merge-methods.md §3.7: keep the top select_topk fraction of positions by variance across task vectors,
 * weight each model by its normalised mean squared task vector, erase sign conflicts with the TIES
 * election, and divide element-wise by the agreeing weights. No user weights.
 */
import { magnitudeCut, maskFromCut } from '../../kernels/reference/select.js';
import { electSigns } from '../consensus.js';
import type { MergeMethod, TensorMergeInput } from '../method.js';
import { checkElementCounts, numberParam, requireBase } from '../method-params.js';
import { subtract } from '../task-vector.js';

export const sce: MergeMethod = {
  name: 'sce',
  title: 'SCE (select, calculate, erase)',
  reference: 'arXiv:2408.07990',
  baseModel: 'required',
  models: { min: 1 },
  params: [
    { name: 'select_topk', scope: 'global', type: 'number', default: 1.0, description: 'fraction of highest-variance positions kept' },
    { name: 'int8_mask', scope: 'global', type: 'boolean', default: false, description: 'accepted for mergekit compatibility; no effect on results' },
  ],
  mergeTensor: mergeSce,
};

function mergeSce(input: TensorMergeInput): Float32Array {
  const base = requireBase(input, 'sce');
  checkElementCounts(input);
  const selectTopk = numberParam(input.params, 'select_topk', 'sce', input.tensorName);
  const taskVectors = input.models.map((model) => subtract(model, base)); // step 1
  if (selectTopk < 1) selectByVariance(taskVectors, selectTopk, input);

  // step 3: s_i = mean(τ_i²), normalised; uniform when the total is (almost) zero
  const n = base.length;
  const scores = taskVectors.map((tau) => {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += tau[j]! * tau[j]!;
    return n > 0 ? sum / n : 0;
  });
  const scoreSum = scores.reduce((a, b) => a + b, 0);
  const weights = scoreSum < 1e-6 ? scores.map(() => 1 / scores.length) : scores.map((s) => s / scoreSum);

  // step 4: sign election on the unweighted task vectors
  const signs = electSigns(
    taskVectors,
    taskVectors.map(() => 1),
  );
  // step 5: out = B + Σ s_i M_i τ_i / max(Σ s_i M_i, 1e-6)
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const positive = signs[j]! > 0;
    let mixed = 0;
    let divisor = 0;
    for (let i = 0; i < taskVectors.length; i++) {
      const tau = taskVectors[i]![j]!;
      if (positive ? tau > 0 : tau < 0) {
        mixed += weights[i]! * tau;
        divisor += weights[i]!;
      }
    }
    out[j] = base[j]! + mixed / Math.max(divisor, 1e-6);
  }
  return out;
}

/**
 * Step 2: per position the population variance of τ across models (float64, then rounded to float32 for
 * the exact histogram select); keep the ⌊#nonzero·select_topk⌋ largest, lower index first at the cut, and
 * zero every other position in every model.
 */
function selectByVariance(taskVectors: Float32Array[], selectTopk: number, input: TensorMergeInput): void {
  const n = taskVectors[0]?.length ?? 0;
  const count = taskVectors.length;
  const variance = new Float32Array(n);
  let nonZero = 0;
  for (let j = 0; j < n; j++) {
    let mean = 0;
    for (let i = 0; i < count; i++) mean += taskVectors[i]![j]!;
    mean /= count;
    let squares = 0;
    for (let i = 0; i < count; i++) {
      const d = taskVectors[i]![j]! - mean;
      squares += d * d;
    }
    variance[j] = squares / count;
    if (variance[j] !== 0) nonZero++;
  }
  const k = Math.floor(nonZero * Math.max(0, selectTopk));
  if (k === 0) input.warn(`sce keeps no position of tensor '${input.tensorName}': select_topk ${selectTopk} × ${nonZero} varying positions < 1`);
  const cut = magnitudeCut(variance, k);
  const keep = maskFromCut(variance, cut.threshold, cut.tiesToKeep, true);
  for (const tau of taskVectors) for (let j = 0; j < n; j++) if (keep[j] === 0) tau[j] = 0;
}
