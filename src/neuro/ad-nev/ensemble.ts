/**
 * AD-NEv's bagging ensemble at detection time (ad-nev.md §1.4, §3): every member scores the windows of its
 * own feature subspace; its threshold is calibrated on its scores over the training windows only (POT or a
 * percentile); members vote per time step (majority by default; options: any member, or the mean of
 * per-member scores normalised by their thresholds, compared with 1). The continuous ensemble score used
 * for oracle metrics is that normalised mean.
 */
import type { ConvAutoencoderGenome, ModelWeights } from '../conv-autoencoder.js';
import type { EnginePool } from '../../train/pool.js';
import { makeWindows, windowScoresToPoints, type Series } from '../../tasks/anomaly/series.js';
import { percentileThreshold, potThreshold } from '../../tasks/anomaly/metrics.js';
import type { AdNevConfig } from './config.js';

export interface Member {
  readonly features: readonly number[];
  readonly genome: ConvAutoencoderGenome;
  readonly weights: ModelWeights;
}

export interface MemberThresholds {
  readonly pot: number;
  readonly percentile: number;
}

export interface EnsembleScores {
  /** per member, per test step */
  readonly memberScores: Float64Array[];
  readonly thresholds: MemberThresholds[];
}

/** Scores `series` with every member and calibrates each member's thresholds on `calibration`. */
export async function scoreEnsemble(pool: EnginePool, members: readonly Member[], calibration: Series, series: Series, config: AdNevConfig): Promise<EnsembleScores> {
  const results = await pool.run(
    members.map((m) => ({
      kind: 'score' as const,
      genome: m.genome,
      weights: m.weights,
      score: [makeWindows(calibration, m.features, m.genome.window, 'training series'), makeWindows(series, m.features, m.genome.window, 'scored series')],
    })),
  );
  const memberScores: Float64Array[] = [];
  const thresholds: MemberThresholds[] = [];
  results.forEach((result, i) => {
    if (!result.ok) throw new Error(`scoring member ${i} failed: ${result.error}`);
    const [calibrationScores, scores] = result.scores as [Float64Array, Float64Array];
    thresholds.push({
      pot: potThreshold(calibrationScores, { q: config.threshold.q, level: config.threshold.level }).threshold,
      percentile: percentileThreshold(calibrationScores, config.threshold.percentile),
    });
    memberScores.push(windowScoresToPoints(scores, series.rows, members[i]!.genome.window));
  });
  return { memberScores, thresholds };
}

/** Ensemble decisions and the normalised mean score for one threshold method. */
export function ensembleDecisions(scores: EnsembleScores, method: keyof MemberThresholds, vote: AdNevConfig['vote']): { predictions: Uint8Array; score: Float64Array } {
  const rows = scores.memberScores[0]?.length ?? 0;
  const k = scores.memberScores.length;
  const predictions = new Uint8Array(rows);
  const score = new Float64Array(rows);
  for (let t = 0; t < rows; t++) {
    let alarms = 0;
    let normalised = 0;
    for (let m = 0; m < k; m++) {
      const tau = scores.thresholds[m]![method];
      const s = scores.memberScores[m]![t]!;
      if (s > tau) alarms++;
      normalised += s / (tau > 0 ? tau : Number.MIN_VALUE);
    }
    score[t] = normalised / k;
    predictions[t] = vote === 'any' ? (alarms > 0 ? 1 : 0) : vote === 'majority' ? (alarms > k / 2 ? 1 : 0) : score[t]! > 1 ? 1 : 0;
  }
  return { predictions, score };
}
