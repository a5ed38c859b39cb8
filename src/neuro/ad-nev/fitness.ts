/**
 * AD-NEv's label-free ensemble fitness (ad-nev.md §3.1 `fitness: recon`): reconstruction error on the
 * held-out last part of the training series, made comparable across features and subspaces.
 *
 * Why normalise: SMAP/MSL columns differ in kind (column 0 is telemetry, the rest are one-hot command flags)
 * and in spread, so a raw mean error rewards subspaces of near-constant flags, which are trivially
 * reconstructable. With `variance`, each feature's error is divided by that feature's variance on the
 * fitting part (1 ≈ predicting the training mean). A feature no member sees costs the naive predictor's
 * normalised error (squared deviation of the held-out values from the fitting mean), so dropping hard
 * features does not pay. Features constant on the fitting part have nothing to learn but must still be
 * watched (in SMAP D-9 the telemetry column is constant in training and carries the test anomaly; a first
 * version that skipped constant features dropped it — docs/results/ad-nev-design.md): seen, they cost 0;
 * unseen, 1 (as much as a feature nobody models). With `none`, every feature counts with its raw error.
 *
 * The ensemble fitness = mean over features of the smallest (normalised) error among members that see the
 * feature. Every level (baseline, 1, 2, 3) is scored with this one function, so "the best fitness never
 * gets worse from level to level" is a checkable property. Pure functions; no engine.
 */
import type { Series } from '../../tasks/anomaly/series.js';

export type FitnessNormalisation = 'variance' | 'none';

/** below this variance (scaled units) a feature counts as constant on the fitting part */
export const CONSTANT_VARIANCE = 1e-12;

export interface FeatureProfile {
  /** per feature: 1/variance on the fitting part (`variance`), 1 (`none`); 0 marks a constant feature under `variance` */
  readonly weights: Float64Array;
  /** per feature: the naive predictor's error on the held-out part (squared deviation from the fitting mean) */
  readonly naiveErrors: Float64Array;
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

/** Weights and naive errors of every feature. */
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
  return { weights, naiveErrors };
}

/** Mean over features of the (weighted) smallest member error; see the header for unseen and constant features. */
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
    const seen = best[f] !== Infinity;
    if (weight === 0) sum += seen ? (Number.isNaN(best[f]!) ? NaN : 0) : 1;
    else sum += weight * (seen ? best[f]! : profile.naiveErrors[f]!);
  }
  return sum / best.length;
}
