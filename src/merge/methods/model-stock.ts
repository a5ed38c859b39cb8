/**
 * Model Stock — Jang, Yun & Han, "Model Stock: All we need is just a few fine-tuned models", ECCV 2024,
 * arXiv:2403.19522; mergekit `model_stock.py`. merge-methods.md §3.8: the interpolation ratio toward the
 * average of the fine-tunes follows from the mean pairwise cosine of their offsets from the base.
 */
import type { MergeMethod } from '../method.js';
import { booleanParam, checkElementCounts, requireBase, requireModelCount } from '../method-params.js';

const NAME = 'model_stock';
const NORM_FLOOR = 1e-6;
const DENOMINATOR_FLOOR = 1e-8;

export const modelStock: MergeMethod = {
  name: NAME,
  title: 'Model Stock',
  reference: 'arXiv:2403.19522',
  baseModel: 'required',
  models: { min: 2 },
  params: [
    { name: 'filter_wise', scope: 'global', type: 'boolean', default: false, description: 'one ratio per row (last dimension) instead of per tensor' },
  ],
  mergeTensor(input) {
    requireModelCount(input, NAME, 2);
    const base = requireBase(input, NAME);
    const numel = checkElementCounts(input);
    const filterWise = booleanParam(input.params, 'filter_wise', NAME, input.tensorName);
    const rowLength = filterWise && input.shape.length > 0 ? input.shape[input.shape.length - 1]! : numel;
    const out = new Float32Array(numel);
    for (let start = 0; start < numel; start += Math.max(rowLength, 1)) {
      const end = Math.min(numel, start + rowLength);
      const t = stockRatio(input.models, base, start, end);
      mixRow(input.models, base, t, start, end, out);
    }
    return out;
  },
};

/** t = n·c/(1 + (n−1)·c) with c the mean pairwise cosine of the offsets over [start, end). */
export function stockRatio(models: readonly Float32Array[], base: Float32Array, start: number, end: number): number {
  const n = models.length;
  const norms = models.map((m) => {
    let sq = 0;
    for (let j = start; j < end; j++) sq += (m[j]! - base[j]!) ** 2;
    return Math.max(Math.sqrt(sq), NORM_FLOOR);
  });
  let cosineSum = 0;
  let pairs = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const ma = models[a]!;
      const mb = models[b]!;
      let d = 0;
      for (let j = start; j < end; j++) d += (ma[j]! - base[j]!) * (mb[j]! - base[j]!);
      cosineSum += Math.min(1, Math.max(-1, d / (norms[a]! * norms[b]!)));
      pairs++;
    }
  }
  const c = cosineSum / pairs;
  let denominator = 1 + (n - 1) * c;
  if (Math.abs(denominator) < DENOMINATOR_FLOOR) denominator = denominator < 0 ? -DENOMINATOR_FLOOR : DENOMINATOR_FLOOR;
  return (n * c) / denominator;
}

function mixRow(models: readonly Float32Array[], base: Float32Array, t: number, start: number, end: number, out: Float32Array): void {
  const share = t / models.length;
  for (let j = start; j < end; j++) {
    let sum = 0;
    for (const m of models) sum += m[j]!;
    out[j] = share * sum + (1 - t) * base[j]!; // t·mean(X_i) + (1−t)·B
  }
}
