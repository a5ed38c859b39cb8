/**
 * Graph WaveNet inputs and targets under the 12-in/12-out protocol (spatiotemporal.md §2): per sample the
 * z-scored value and the time-of-day fraction of its 12 input steps, node-major [N, B, 12, 2], and raw
 * targets [B, 12, N] (0 = missing). Sample indices are the step of the first input; any list of them works.
 */
import { validateTrafficNetwork, type TrafficNetwork } from '../tasks/traffic/csv-loader.js';
import { HORIZON_STEPS, INPUT_STEPS, STEPS_PER_DAY_5MIN, chronologicalSplit, timeOfDay, type ForecastSplits, type SampleRange, type ZScoreScaler } from '../tasks/traffic/windows.js';
import { fitScaler } from '../tasks/traffic/scaler.js';
import { forecastTargets } from './baselines.js';

export interface PreparedTraffic {
  readonly network: TrafficNetwork;
  readonly splits: ForecastSplits;
  readonly scaler: ZScoreScaler;
  readonly stepsPerDay: number;
}

/** The chronological 7:1:2 split with a scaler fitted on the training steps (after checking the network). */
export function prepareTraffic(network: TrafficNetwork, stepsPerDay = STEPS_PER_DAY_5MIN): PreparedTraffic {
  validateTrafficNetwork(network);
  const splits = chronologicalSplit(network.steps);
  return { network, splits, scaler: fitScaler(network, { stepEnd: splits.trainStepEnd }), stepsPerDay };
}

/** Inputs [N, B, 12, 2] (z-scored value, time of day) for the given sample indices. */
export function buildInputs(prepared: PreparedTraffic, samples: readonly number[]): Float32Array {
  const { network, scaler, stepsPerDay } = prepared;
  const nodes = network.sensorIds.length;
  const batch = samples.length;
  const out = new Float32Array(nodes * batch * INPUT_STEPS * 2);
  samples.forEach((sample, b) => {
    for (let t = 0; t < INPUT_STEPS; t++) {
      const step = sample + t;
      const tod = timeOfDay(step, stepsPerDay);
      for (let n = 0; n < nodes; n++) {
        const at = ((n * batch + b) * INPUT_STEPS + t) * 2;
        out[at] = (network.values[step * nodes + n]! - scaler.mean) / scaler.std;
        out[at + 1] = tod;
      }
    }
  });
  return out;
}

/** Inputs [B, 2, N, 12] (z-scored value, time of day) for the given sample indices: the engine's layout. */
export function engineInputs(prepared: PreparedTraffic, samples: readonly number[], out: Float32Array | Float64Array = new Float32Array(samples.length * 2 * prepared.network.sensorIds.length * INPUT_STEPS)): Float32Array | Float64Array {
  const { network, scaler, stepsPerDay } = prepared;
  const nodes = network.sensorIds.length;
  samples.forEach((sample, b) => {
    const values = ((b * 2) * nodes) * INPUT_STEPS;
    const tods = ((b * 2 + 1) * nodes) * INPUT_STEPS;
    for (let t = 0; t < INPUT_STEPS; t++) {
      const tod = timeOfDay(sample + t, stepsPerDay);
      for (let n = 0; n < nodes; n++) {
        out[values + n * INPUT_STEPS + t] = (network.values[(sample + t) * nodes + n]! - scaler.mean) / scaler.std;
        out[tods + n * INPUT_STEPS + t] = tod;
      }
    }
  });
  return out;
}

/** Raw targets [B, 12, N] of the given samples. */
export function targetsOf(prepared: Pick<PreparedTraffic, 'network'>, samples: readonly number[]): Float32Array {
  const nodes = prepared.network.sensorIds.length;
  const out = new Float32Array(samples.length * HORIZON_STEPS * nodes);
  samples.forEach((sample, b) => out.set(forecastTargets(prepared.network, { start: sample, end: sample + 1 }), b * HORIZON_STEPS * nodes));
  return out;
}

export function rangeIndices(range: SampleRange): number[] {
  return Array.from({ length: range.end - range.start }, (_, i) => range.start + i);
}
