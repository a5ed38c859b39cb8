/**
 * ComS2T's prompt features and prompt targets (coms2t.md §2), per node and window, rows node-major (row n·B + b,
 * matching GWN's [N, B, …] activations):
 * - temporal (13): the 11 first differences of the window's 12 z-scored inputs (0 where either reading is
 *   missing), the hour of the window start as a fraction of the day, and the weekday of the window start / 7.
 *   On the 7-day METR-LA subset each weekday occurs on one day only, so the weekday is a per-day constant that
 *   cannot separate weekday from day-of-series effects; we keep it for fidelity to the spec.
 * - spatial (2): the node's coordinates (given, or the spectral embedding of spectral.ts).
 * The backbone still reads GWN's own 2 channels (z-scored value, time of day). Where the spec scales all 27
 * features with one global mean/std, we scale each kind on its own (differences by the value scaler, hour and
 * weekday as fractions, coordinates O(1)): one shared mean/std over speeds, hours and coordinates would
 * squash the small features.
 *
 * Prompt target: [mean, population variance] of the node's next 12 z-scored readings, missing ones excluded;
 * a row with no valid future reading is masked out.
 */
import { HORIZON_STEPS, INPUT_STEPS, type ZScoreScaler } from '../../tasks/traffic/windows.js';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';

export const TEMPORAL_FEATURES = INPUT_STEPS - 1 + 2;
export const SPATIAL_FEATURES = 2;

export interface PromptFeatureContext {
  readonly network: Pick<TrafficNetwork, 'values' | 'sensorIds'>;
  readonly scaler: ZScoreScaler;
  readonly stepsPerDay: number;
  /** node coordinates [N × 2] */
  readonly coordinates: Float64Array;
  /** weekday (0–6) of the series' first day; unknown for the subset, 0 by default */
  readonly firstWeekday?: number;
}

export interface PromptFeatures {
  /** [N·B, 13] */
  readonly temporal: Float32Array;
  /** [N·B, 2] */
  readonly spatial: Float32Array;
}

export function promptFeatures(context: PromptFeatureContext, samples: readonly number[]): PromptFeatures {
  const { network, scaler, stepsPerDay, coordinates } = context;
  const nodes = network.sensorIds.length;
  const batch = samples.length;
  const temporal = new Float32Array(nodes * batch * TEMPORAL_FEATURES);
  const spatial = new Float32Array(nodes * batch * SPATIAL_FEATURES);
  samples.forEach((sample, b) => {
    const hour = (sample % stepsPerDay) / stepsPerDay;
    const weekday = ((Math.floor(sample / stepsPerDay) + (context.firstWeekday ?? 0)) % 7) / 7;
    for (let n = 0; n < nodes; n++) {
      const row = n * batch + b;
      const at = row * TEMPORAL_FEATURES;
      for (let t = 0; t < INPUT_STEPS - 1; t++) {
        const before = network.values[(sample + t) * nodes + n]!;
        const after = network.values[(sample + t + 1) * nodes + n]!;
        temporal[at + t] = before === 0 || after === 0 ? 0 : (after - before) / scaler.std;
      }
      temporal[at + INPUT_STEPS - 1] = hour;
      temporal[at + INPUT_STEPS] = weekday;
      spatial[row * 2] = coordinates[n * 2]!;
      spatial[row * 2 + 1] = coordinates[n * 2 + 1]!;
    }
  });
  return { temporal, spatial };
}

export interface PromptTargets {
  /** [N·B, 2]: mean and population variance of the next 12 z-scored readings */
  readonly target: Float32Array;
  /** [N·B]: 1 where at least one future reading is valid */
  readonly mask: Float32Array;
}

export function promptTargets(context: Pick<PromptFeatureContext, 'network' | 'scaler'>, samples: readonly number[]): PromptTargets {
  const { network, scaler } = context;
  const nodes = network.sensorIds.length;
  const batch = samples.length;
  const target = new Float32Array(nodes * batch * 2);
  const mask = new Float32Array(nodes * batch);
  samples.forEach((sample, b) => {
    for (let n = 0; n < nodes; n++) {
      let count = 0;
      let sum = 0;
      let sumSquares = 0;
      for (let h = 0; h < HORIZON_STEPS; h++) {
        const raw = network.values[(sample + INPUT_STEPS + h) * nodes + n]!;
        if (raw === 0) continue;
        const z = (raw - scaler.mean) / scaler.std;
        count++;
        sum += z;
        sumSquares += z * z;
      }
      const row = n * batch + b;
      if (count === 0) continue;
      const mean = sum / count;
      target[row * 2] = mean;
      target[row * 2 + 1] = Math.max(sumSquares / count - mean * mean, 0);
      mask[row] = 1;
    }
  });
  return { target, mask };
}
