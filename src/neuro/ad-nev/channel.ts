/**
 * One AD-NEv channel's data as every level sees it (ad-nev.md §3.1): the training series z-scored with a scaler
 * fitted on it, median-downsampled, its last part held out for the label-free fitness, and the held-out time span
 * at full resolution for calibrating thresholds. Test data never enter here.
 */
import { ModelevoError } from '../../core/errors.js';
import { BASELINE_GENOME } from './conv-autoencoder.js';
import { applyScaler, fitScaler, medianDownsample, sliceRows, splitTail, type Scaler, type Series } from '../../tasks/anomaly/series.js';
import type { AdNevConfig } from './config.js';

export interface PreparedChannel {
  readonly id: string;
  readonly names: readonly string[];
  readonly features: number;
  readonly scaler: Scaler;
  /** scaled, downsampled training rows used for fitting */
  readonly fit: Series;
  /** scaled, downsampled last part of the training series (label-free fitness) */
  readonly heldOut: Series;
  /**
   * scaled, **full-resolution** rows of the held-out time span (the raw rows the downsampled `heldOut` came
   * from): thresholds are calibrated on its scores, computed exactly like the test's (same resolution, same
   * windows). Why not the downsampled training series: a window there spans ×`downsample` more raw steps and
   * the median removed one-step spikes, so thresholds fitted on it flagged 20–50% of test steps (issue #13).
   * Not used for fitting weights; it is the time span of the label-free fitness.
   */
  readonly calibration: Series;
}

export function prepareChannel(id: string, rawTrain: Series, config: AdNevConfig): PreparedChannel {
  const scaler = fitScaler(rawTrain, config.scaler);
  const scaled = applyScaler(rawTrain, scaler);
  const train = medianDownsample(scaled, config.downsample);
  const { fit, heldOut } = splitTail(train, config.validationFraction);
  // downsampled row r is the median of raw rows [r·factor, (r + 1)·factor): the held-out span starts at fit.rows·factor
  const calibration = sliceRows(scaled, Math.min(scaled.rows, fit.rows * config.downsample), scaled.rows);
  const window = BASELINE_GENOME.window;
  if (fit.rows < window || heldOut.rows < window || calibration.rows < window) {
    throw new ModelevoError('VALUE_INVALID', `channel ${id}: ${rawTrain.rows} training rows leave ${fit.rows} for fitting and ${heldOut.rows} held out after ×${config.downsample} downsampling and a ${config.validationFraction} hold-out; each needs at least the window of ${window} time steps`, {
      hint: `provide at least ${Math.ceil((window * config.downsample) / Math.min(config.validationFraction, 1 - config.validationFraction))} training rows`,
      details: { rows: rawTrain.rows, fit: fit.rows, heldOut: heldOut.rows, window },
    });
  }
  return { id, names: rawTrain.names, features: rawTrain.columns, scaler, fit, heldOut, calibration };
}
