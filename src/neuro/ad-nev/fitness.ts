/**
 * AD-NEv's label-free ensemble fitness (ad-nev.md §3.1 `fitness: recon`): reconstruction error on the
 * held-out last part of the training series, made comparable across features and subspaces.
 *
 * Why normalise: SMAP/MSL columns differ in kind (column 0 is telemetry, the rest are one-hot command flags)
 * and in spread, so a raw mean error rewards subspaces of near-constant flags, which are trivially
 * reconstructable but carry no signal. Each feature's error is therefore divided by that feature's variance
 * on the fitting part (1 − R²-like: 1 ≈ predicting the training mean), and features constant on the fitting
 * part are excluded (nothing to learn). A feature no member sees costs the naive predictor's normalised error
 * (squared deviation of the held-out values from the fitting mean), so dropping hard features does not pay.
 *
 * The ensemble fitness = mean over counted features of the smallest normalised error among members that see
 * the feature. Every level (baseline, 1, 2, 3) is scored with this one function, so "the best fitness never
 * gets worse from level to level" is a checkable property. Pure functions; no engine.
 */
import type { Series } from '../../tasks/anomaly/series.js';

export type FitnessNormalisation = 'variance' | 'none';

/** below this variance (scaled units) a feature counts as constant on the fitting part */
export const CONSTANT_VARIANCE = 1e-12;

export interface FeatureProfile {
  /** per feature: 1/variance on the fitting part (`variance`), 1 (`none`), 0 = excluded */
  readonly weights: Float64Array;
  /** per feature: the naive predictor's error on the held-out part (squared deviation from the fitting mean) */
  readonly naiveErrors: Float64Array;
  /** features with a nonzero weight */
  readonly counted: number;
}

export interface MemberErrors {
  readonly features: readonly number[];
  /** mean squared reconstruction error of each of the member's features on the held-out part (local order) */
  readonly featureErrors: ArrayLike<number>;
}

function columnMoments(series: Series, f: number): { mean: number; variance: number } {
  let mean = 0;
  for (let r = 0; r < series.rows; r++) mean += series.values[r * series.columns + f]!;
  mean /= series.rows;
  let variance = 0;
  for (let r = 0; r < series.rows; r++) variance += (series.values[r * series.columns + f]! - mean) ** 2;
  return { mean, variance: variance / series.rows };
}

/**
 * Weights and naive errors of every feature. With `variance`, a series whose features are all constant on
 * the fitting part (e.g. SMAP D-12's training series) falls back to unit weights, so candidates still differ.
 */
export function featureProfile(fit: Series, heldOut: Series, normalisation: FitnessNormalisation): FeatureProfile {
  const features = fit.columns;
  const weights = new Float64Array(features);
  const naiveErrors = new Float64Array(features);
  for (let f = 0; f < features; f++) {
    const { mean, variance } = columnMoments(fit, f);
    for (let r = 0; r < heldOut.rows; r++) naiveErrors[f]! += (heldOut.values[r * heldOut.columns + f]! - mean) ** 2;
    naiveErrors[f]! /= heldOut.rows;
    weights[f] = normalisation === 'none' ? 1 : variance > CONSTANT_VARIANCE ? 1 / variance : 0;
  }
  let counted = weights.reduce((n, w) => n + (w > 0 ? 1 : 0), 0);
  if (counted === 0) {
    weights.fill(1);
    counted = features;
  }
  return { weights, naiveErrors, counted };
}

/** Mean over counted features of the weighted smallest member error (unseen features: the naive error). */
export function ensembleFitness(profile: FeatureProfile, members: readonly MemberErrors[]): number {
  const best = new Float64Array(profile.weights.length).fill(Infinity);
  for (const member of members) {
    if (member.featureErrors.length !== member.features.length) return NaN;
    member.features.forEach((f, local) => {
      const error = member.featureErrors[local]!;
      if (!Number.isFinite(error)) best[f] = NaN;
      else if (error < best[f]!) best[f] = error;
    });
  }
  let sum = 0;
  for (let f = 0; f < best.length; f++) {
    const weight = profile.weights[f]!;
    if (weight === 0) continue;
    const error = best[f] === Infinity ? profile.naiveErrors[f]! : best[f]!;
    sum += weight * error;
  }
  return sum / profile.counted;
}
