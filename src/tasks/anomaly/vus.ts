/**
 * Range-AUC and VUS (Paparrizos, Boniol, Palpanas, Tsay, Elmore, Franklin, "Volume Under the Surface",
 * PVLDB 15(11), 2022; ad-nev.md §4), threshold-free measures of a continuous anomaly score.
 *
 * For a buffer ℓ, labels are softened: points outside a true segment at distance d ∈ [1, ⌊ℓ/2⌋] from it get
 * weight √(1 − d/ℓ) (the larger weight where two buffers meet; segment points keep 1). Over 250 thresholds
 * taken at evenly spaced ranks of the descending scores (prediction = score ≥ threshold):
 *   TP = Σ soft·pred, P' = (#positives + Σ soft)/2, recall = min(TP/P', 1),
 *   existence = fraction of extended segments (maximal runs of soft > 0) with a prediction,
 *   TPR = recall·existence, FPR = (#pred − TP)/(N − P'), precision = TP/#pred.
 * R-AUC-ROC = trapezoid area of (FPR, TPR) from (0, 0) to (1, 1); R-AUC-PR = trapezoid area of (TPR,
 * precision) starting at (0, 1). VUS-ROC / VUS-PR = the mean over ℓ = 0, 1, …, L.
 * With ℓ = 0 a perfect score (every anomaly above every normal point) gives R-AUC-PR = 1 (exactly for a
 * binary score; for a graded one when a rank threshold falls on the boundary); with ℓ > 0 the definition's
 * P' exceeds #positives, so even a perfect score stays below 1 (a property of the measure).
 * Implementation: one sort; per buffer, prefix sums of soft labels in score order (O(N) per ℓ).
 */
import { ModelevoError } from '../../core/errors.js';

export interface RangeAuc {
  readonly rocAuc: number;
  readonly prAuc: number;
}

export interface Vus {
  readonly vusRoc: number;
  readonly vusPr: number;
  /** per buffer ℓ = 0…L */
  readonly perBuffer: readonly RangeAuc[];
}

const THRESHOLDS = 250;

/** inclusive [start, end] runs of values > 0 */
function runs(values: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= values.length; i++) {
    const on = i < values.length && values[i]! > 0;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i - 1]);
      start = -1;
    }
  }
  return out;
}

/** Soft labels for buffer ℓ (see the header). */
export function softLabels(labels: ArrayLike<number>, buffer: number): Float64Array {
  const n = labels.length;
  const soft = Float64Array.from(labels as ArrayLike<number>, (y) => (y > 0 ? 1 : 0));
  const reach = Math.floor(buffer / 2);
  for (const [start, end] of runs(labels)) {
    for (let d = 1; d <= reach; d++) {
      const weight = Math.sqrt(1 - d / buffer);
      if (start - d >= 0) soft[start - d] = Math.max(soft[start - d]!, weight);
      if (end + d < n) soft[end + d] = Math.max(soft[end + d]!, weight);
    }
  }
  return soft;
}

/** Scores sorted descending, and for each of the 250 rank thresholds the number of points with score ≥ it. */
function thresholdPlan(scores: ArrayLike<number>): { order: Int32Array; predicted: Int32Array } {
  const n = scores.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const predicted = new Int32Array(THRESHOLDS);
  for (let i = 0; i < THRESHOLDS; i++) {
    const rank = Math.floor((i * (n - 1)) / (THRESHOLDS - 1));
    const threshold = scores[order[rank]!]!;
    let m = rank + 1;
    while (m < n && scores[order[m]!]! >= threshold) m++; // ties enter together
    predicted[i] = m;
  }
  return { order, predicted };
}

function rangeAucFromPlan(labels: ArrayLike<number>, plan: { order: Int32Array; predicted: Int32Array }, buffer: number): RangeAuc {
  const n = labels.length;
  const soft = softLabels(labels, buffer);
  let positives = 0;
  let softSum = 0;
  for (let t = 0; t < n; t++) {
    positives += labels[t]! > 0 ? 1 : 0;
    softSum += soft[t]!;
  }
  const pPrime = (positives + softSum) / 2;
  // position of every point in score order; a segment is detected once its earliest point is predicted
  const position = new Int32Array(n);
  plan.order.forEach((t, p) => (position[t] = p));
  const firstDetected = runs(soft).map(([start, end]) => {
    let first = n;
    for (let t = start; t <= end; t++) first = Math.min(first, position[t]!);
    return first;
  });
  const cumulative = new Float64Array(n + 1);
  for (let p = 0; p < n; p++) cumulative[p + 1] = cumulative[p]! + soft[plan.order[p]!]!;
  let [previousTpr, previousFpr, previousPrecision] = [0, 0, 1];
  let rocAuc = 0;
  let prAuc = 0;
  for (const m of plan.predicted) {
    const tp = cumulative[m]!;
    const recall = pPrime > 0 ? Math.min(tp / pPrime, 1) : 0;
    const existence = firstDetected.length > 0 ? firstDetected.filter((first) => first < m).length / firstDetected.length : 0;
    const tpr = recall * existence;
    const fpr = n - pPrime > 0 ? (m - tp) / (n - pPrime) : 0;
    const precision = tp / m;
    rocAuc += ((fpr - previousFpr) * (tpr + previousTpr)) / 2;
    prAuc += ((tpr - previousTpr) * (precision + previousPrecision)) / 2;
    [previousTpr, previousFpr, previousPrecision] = [tpr, fpr, precision];
  }
  rocAuc += ((1 - previousFpr) * (1 + previousTpr)) / 2;
  return { rocAuc, prAuc };
}

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) throw new ModelevoError('SHAPE_MISMATCH', `range AUC: expected one label per score, got ${scores.length} scores and ${labels.length} labels`, { hint: 'score and label the same rows of the series', details: { scores: scores.length, labels: labels.length } });
  if (scores.length === 0) throw new ModelevoError('VALUE_INVALID', 'range AUC: expected a non-empty series, got 0 scores', { hint: 'score at least one row' });
  for (let i = 0; i < scores.length; i++) if (!Number.isFinite(scores[i]!)) throw new ModelevoError('VALUE_INVALID', `range AUC: expected finite scores, got ${scores[i]} at row ${i}`, { hint: 'replace NaN/Infinity scores (a failed model) before computing range metrics', details: { row: i, score: scores[i] } });
}

/** R-AUC-ROC and R-AUC-PR for one buffer ℓ. */
export function rangeAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, buffer: number): RangeAuc {
  checkInputs(scores, labels);
  return rangeAucFromPlan(labels, thresholdPlan(scores), buffer);
}

/** VUS-ROC and VUS-PR over buffers ℓ = 0…maxBuffer. */
export function vus(scores: ArrayLike<number>, labels: ArrayLike<number>, maxBuffer: number): Vus {
  checkInputs(scores, labels);
  if (!Number.isInteger(maxBuffer) || maxBuffer < 0) throw new ModelevoError('CONFIG_INVALID', `VUS: expected maxBuffer to be a non-negative integer, got ${maxBuffer}`, { hint: 'e.g. maxBuffer = the detector window length' });
  const plan = thresholdPlan(scores);
  const perBuffer: RangeAuc[] = [];
  for (let buffer = 0; buffer <= maxBuffer; buffer++) perBuffer.push(rangeAucFromPlan(labels, plan, buffer));
  const mean = (key: keyof RangeAuc): number => perBuffer.reduce((s, r) => s + r[key], 0) / perBuffer.length;
  return { vusRoc: mean('rocAuc'), vusPr: mean('prAuc'), perBuffer };
}

/** The spec's default buffer bound L: the median length of the true segments (0 without segments). */
export function medianSegmentLength(labels: ArrayLike<number>): number {
  const lengths = runs(labels).map(([s, e]) => e - s + 1).sort((a, b) => a - b);
  if (lengths.length === 0) return 0;
  const mid = lengths.length >> 1;
  return lengths.length % 2 === 1 ? lengths[mid]! : Math.floor((lengths[mid - 1]! + lengths[mid]!) / 2);
}
