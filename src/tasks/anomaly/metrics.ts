/**
 * Anomaly-detection metrics and thresholds (ad-nev.md §3.3, §4): point-wise P/R/F1; point adjustment (Xu et
 * al., WWW 2018 "Donut"); PA%K and its area over K (Kim et al., AAAI 2022, arXiv 2109.05257); event-wise
 * recall and composite F1 (Garg et al., TNNLS 2021); range-based P/R/F1 (Tatbul et al., NeurIPS 2018) with
 * flat positional bias and cardinality 1/x; a percentile of calibration scores (POT thresholds: pot.ts); and the best-F1 **oracle**, which looks
 * at the evaluated labels and is an upper bound, never a deployable threshold. 0/0 is defined as 0.
 */
import { ModelevoError } from '../../core/errors.js';

export interface Prf {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const harmonic = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

export function prf(predictions: ArrayLike<number>, labels: ArrayLike<number>): Prf & { tp: number; fp: number; fn: number } {
  if (predictions.length !== labels.length) throw new ModelevoError('SHAPE_MISMATCH', `prf: expected one label per prediction, got ${predictions.length} predictions and ${labels.length} labels`, { hint: 'predict and label the same rows of the series', details: { predictions: predictions.length, labels: labels.length } });
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = predictions[i]! > 0;
    const y = labels[i]! > 0;
    if (p && y) tp++;
    else if (p) fp++;
    else if (y) fn++;
  }
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return { precision, recall, f1: harmonic(precision, recall), tp, fp, fn };
}

/** Maximal runs of nonzero values as inclusive [start, end] pairs. */
export function segments(flags: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= flags.length; i++) {
    const on = i < flags.length && flags[i]! > 0;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i - 1]);
      start = -1;
    }
  }
  return out;
}

/**
 * PA%K adjustment: a true segment whose detected fraction is strictly greater than K% is marked fully
 * detected; K = 0 is classic point adjustment (any hit), K = 100 leaves predictions unchanged.
 */
export function pointAdjust(predictions: ArrayLike<number>, labels: ArrayLike<number>, k = 0): Uint8Array {
  const adjusted = Uint8Array.from(predictions as ArrayLike<number>, (p) => (p > 0 ? 1 : 0));
  for (const [start, end] of segments(labels)) {
    let hits = 0;
    for (let i = start; i <= end; i++) hits += adjusted[i]!;
    if (hits / (end - start + 1) > k / 100) adjusted.fill(1, start, end + 1);
  }
  return adjusted;
}

export function pointAdjustedPrf(predictions: ArrayLike<number>, labels: ArrayLike<number>, k = 0): Prf {
  return prf(pointAdjust(predictions, labels, k), labels);
}

/** F1 of PA%K at K = 0, step, …, 100 and the normalised trapezoid area over K ∈ [0, 100]. */
export function paKCurve(predictions: ArrayLike<number>, labels: ArrayLike<number>, step = 10): { ks: number[]; f1: number[]; auc: number } {
  const ks: number[] = [];
  for (let k = 0; k < 100; k += step) ks.push(k);
  ks.push(100);
  const f1 = ks.map((k) => pointAdjustedPrf(predictions, labels, k).f1);
  let area = 0;
  for (let i = 1; i < ks.length; i++) area += ((ks[i]! - ks[i - 1]!) * (f1[i]! + f1[i - 1]!)) / 2;
  return { ks, f1, auc: area / 100 };
}

/** Event-wise recall (segments with ≥ 1 detection) and composite F1 = harmonic(point precision, event recall). */
export function compositeF1(predictions: ArrayLike<number>, labels: ArrayLike<number>): { eventRecall: number; precision: number; f1: number } {
  const events = segments(labels);
  let found = 0;
  for (const [start, end] of events) {
    for (let i = start; i <= end; i++)
      if (predictions[i]! > 0) {
        found++;
        break;
      }
  }
  const eventRecall = ratio(found, events.length);
  const { precision } = prf(predictions, labels);
  return { eventRecall, precision, f1: harmonic(precision, eventRecall) };
}

/**
 * Range-based precision/recall (Tatbul et al. 2018), flat bias, cardinality γ = 1/x:
 * Recall(Rᵢ) = α·Existence + (1 − α)·Cardinality·Σⱼ |Rᵢ ∩ Pⱼ|/|Rᵢ|; Precision(Pⱼ) likewise with α = 0.
 * Recall averages over true ranges, precision over predicted ranges.
 */
export function rangePrf(predictions: ArrayLike<number>, labels: ArrayLike<number>, alpha = 0): Prf {
  const real = segments(labels);
  const predicted = segments(predictions);
  const overlap = (a: [number, number], b: [number, number]): number => Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]) + 1);
  const score = (range: [number, number], others: [number, number][], existenceWeight: number): number => {
    const hits = others.map((o) => overlap(range, o)).filter((n) => n > 0);
    if (hits.length === 0) return 0;
    const covered = hits.reduce((s, n) => s + n, 0) / (range[1] - range[0] + 1);
    const cardinality = 1 / hits.length;
    return existenceWeight + (1 - existenceWeight) * cardinality * covered;
  };
  const recall = real.length === 0 ? 0 : real.reduce((s, r) => s + score(r, predicted, alpha), 0) / real.length;
  const precision = predicted.length === 0 ? 0 : predicted.reduce((s, p) => s + score(p, real, 0), 0) / predicted.length;
  return { precision, recall, f1: harmonic(precision, recall) };
}

export function thresholdPredictions(scores: ArrayLike<number>, threshold: number): Uint8Array {
  return Uint8Array.from(scores as ArrayLike<number>, (s) => (s > threshold ? 1 : 0));
}

/** Linear-interpolated quantile (numpy's default) of `values`, p ∈ [0, 1]. */
export function quantile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  if (sorted.length === 0) return NaN;
  const position = p * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (position - low) * (sorted[high]! - sorted[low]!);
}

/** τ = (100 − r)-th percentile of calibration (training/validation) scores — never of test scores. */
export function percentileThreshold(calibrationScores: ArrayLike<number>, r: number): number {
  return quantile(calibrationScores, 1 - r / 100);
}

/**
 * ORACLE: the threshold maximising F1 on the very labels being evaluated (an upper bound; label it as such
 * in every table). Plain F1 is an exact sweep over all distinct scores; with point adjustment, `candidates`
 * quantiles are tried.
 */
export function bestF1Oracle(scores: ArrayLike<number>, labels: ArrayLike<number>, options: { pointAdjusted?: boolean; candidates?: number } = {}): Prf & { threshold: number } {
  const n = scores.length;
  if (options.pointAdjusted) {
    const count = options.candidates ?? 200;
    const sorted = Float64Array.from(scores as ArrayLike<number>).sort();
    let best = { precision: 0, recall: 0, f1: 0, threshold: Infinity };
    for (let i = 0; i < count; i++) {
      const threshold = sorted[Math.min(n - 1, Math.floor((i / count) * n))]! - 1e-12;
      const result = pointAdjustedPrf(thresholdPredictions(scores, threshold), labels);
      if (result.f1 > best.f1) best = { ...result, threshold };
    }
    return best;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i]! > 0 ? 1 : 0;
  let tp = 0;
  let best = { precision: 0, recall: 0, f1: 0, threshold: Infinity };
  for (let i = 0; i < n; i++) {
    tp += labels[order[i]!]! > 0 ? 1 : 0;
    const current = scores[order[i]!]!;
    if (i + 1 < n && scores[order[i + 1]!]! === current) continue; // ties enter together
    const precision = tp / (i + 1);
    const recall = ratio(tp, positives);
    const f1 = harmonic(precision, recall);
    const next = i + 1 < n ? scores[order[i + 1]!]! : -Infinity;
    if (f1 > best.f1) best = { precision, recall, f1, threshold: Number.isFinite(next) ? (current + next) / 2 : current - 1 };
  }
  return best;
}
