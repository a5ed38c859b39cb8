/**
 * AD-NEv's bagging ensemble at detection time (ad-nev.md §1.4, §3): every member scores the windows of its
 * own feature subspace; thresholds are calibrated on the scores of a held-out part of the training series,
 * scored exactly like the test (channel.ts `calibration`). Members are combined per time step by
 * - `any` (default): an alarm when any member's score exceeds its own threshold;
 * - `majority`: when more than half of the members alarm (the spec's earlier default);
 * - `mean`: the mean of per-member normalised scores — each member's score divided by its mean calibration
 *   score, so members on different features and scales weigh alike — against one threshold (POT or
 *   percentile) calibrated on the same mean over the calibration series.
 * Why `any`: with members on different subspaces an anomaly often shows only in the member that watches the
 * affected features, which a majority outvotes; on the dev channels of docs/results/ad-nev-design.md, `any`
 * with the variance-normalised fitness had the best final F1 (by a small margin over `none` + `majority`).
 * The continuous ensemble score (oracle metrics, VUS) is the normalised mean under every rule.
 */
import type { ConvAutoencoderGenome, ModelWeights } from './conv-autoencoder.js';
import type { EnginePool } from './pool.js';
import { makeWindows, windowScoresToPoints, type Series } from '../../tasks/anomaly/series.js';
import { percentileThreshold } from '../../tasks/anomaly/metrics.js';
import { potThreshold } from '../../tasks/anomaly/pot.js';
import type { AdNevConfig } from './config.js';
import { ModelevoError } from '../../core/errors.js';

export interface Member {
  readonly features: readonly number[];
  readonly genome: ConvAutoencoderGenome;
  readonly weights: ModelWeights;
}

export type ThresholdMethod = 'pot' | 'percentile';

export interface MemberThresholds {
  readonly pot: number;
  readonly percentile: number;
  /** mean calibration score: the member's normaliser in the ensemble score */
  readonly calibrationMean: number;
}

export interface EnsembleThresholds {
  readonly pot: number;
  readonly percentile: number;
}

export interface EnsembleScores {
  /** per member, per test step */
  readonly memberScores: Float64Array[];
  readonly thresholds: MemberThresholds[];
  /** thresholds of the normalised-mean ensemble score, calibrated on the calibration series */
  readonly ensembleThresholds: EnsembleThresholds;
}

/** keeps a member that reconstructs its calibration data exactly from dividing by zero */
const MIN_NORMALISER = 1e-12;

/** Per step: mean over members of score / calibration mean. */
export function normalisedMeanScore(memberScores: readonly Float64Array[], thresholds: readonly MemberThresholds[]): Float64Array {
  const rows = memberScores[0]?.length ?? 0;
  const score = new Float64Array(rows);
  memberScores.forEach((scores, m) => {
    const normaliser = Math.max(thresholds[m]!.calibrationMean, MIN_NORMALISER);
    for (let t = 0; t < rows; t++) score[t]! += scores[t]! / normaliser;
  });
  for (let t = 0; t < rows; t++) score[t]! /= memberScores.length;
  return score;
}

function calibrate(scores: Float64Array, config: AdNevConfig): { pot: number; percentile: number } {
  return {
    pot: potThreshold(scores, { q: config.threshold.q, level: config.threshold.level }).threshold,
    percentile: percentileThreshold(scores, config.threshold.percentile),
  };
}

/** Scores `series` with every member and calibrates each member's thresholds on `calibration`. */
export async function scoreEnsemble(pool: EnginePool, members: readonly Member[], calibration: Series, series: Series, config: AdNevConfig): Promise<EnsembleScores> {
  const results = await pool.run(
    members.map((m) => ({
      kind: 'score' as const,
      genome: m.genome,
      weights: m.weights,
      score: [makeWindows(calibration, m.features, m.genome.window, 'calibration series'), makeWindows(series, m.features, m.genome.window, 'scored series')],
    })),
  );
  const memberScores: Float64Array[] = [];
  const calibrationPoints: Float64Array[] = [];
  const thresholds: MemberThresholds[] = [];
  results.forEach((result, i) => {
    if (!result.ok) {
      throw new ModelevoError('STRATEGY_FAILED', `scoring ensemble member ${i} failed: ${result.error}`, {
        hint: 'the member\'s network could not score the windows (non-finite weights or a data shape it was not built for); rerun with --debug for the worker\'s stack',
        details: { member: i, error: result.error },
      });
    }
    const [calibrationScores, scores] = result.scores as [Float64Array, Float64Array];
    const calibrationMean = calibrationScores.reduce((s, x) => s + x, 0) / calibrationScores.length;
    thresholds.push({ ...calibrate(calibrationScores, config), calibrationMean });
    // members may differ in window length: align everything on time steps
    calibrationPoints.push(windowScoresToPoints(calibrationScores, calibration.rows, members[i]!.genome.window));
    memberScores.push(windowScoresToPoints(scores, series.rows, members[i]!.genome.window));
  });
  return { memberScores, thresholds, ensembleThresholds: calibrate(normalisedMeanScore(calibrationPoints, thresholds), config) };
}

/** Ensemble decisions and the normalised mean score for one threshold method. */
export function ensembleDecisions(scores: EnsembleScores, method: ThresholdMethod, vote: AdNevConfig['vote']): { predictions: Uint8Array; score: Float64Array } {
  const score = normalisedMeanScore(scores.memberScores, scores.thresholds);
  const rows = score.length;
  const k = scores.memberScores.length;
  const predictions = new Uint8Array(rows);
  if (vote === 'mean') {
    const tau = scores.ensembleThresholds[method];
    for (let t = 0; t < rows; t++) predictions[t] = score[t]! > tau ? 1 : 0;
    return { predictions, score };
  }
  for (let t = 0; t < rows; t++) {
    let alarms = 0;
    for (let m = 0; m < k; m++) if (scores.memberScores[m]![t]! > scores.thresholds[m]![method]) alarms++;
    predictions[t] = vote === 'any' ? (alarms > 0 ? 1 : 0) : alarms > k / 2 ? 1 : 0;
  }
  return { predictions, score };
}
