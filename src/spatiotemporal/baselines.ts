/**
 * Non-learned forecasting baselines (spatiotemporal.md §2, issue #7): last value and historical average.
 * Forecasts are laid out [samples, 12 horizons, nodes] in original units, like `forecastTargets`.
 * - Last value repeats the last non-missing reading of the 12-step input window (a missing last reading would
 *   otherwise forecast 0); a window with no reading falls back to the sensor's training mean.
 * - Historical average forecasts the mean reading of the sensor at the target's time-of-day slot over the
 *   training steps (missing excluded), falling back to the sensor's training mean for an empty slot.
 */
import type { TrafficNetwork } from '../tasks/traffic/csv-loader.js';
import { HORIZON_STEPS, INPUT_STEPS, STEPS_PER_DAY_5MIN, type SampleRange } from '../tasks/traffic/windows.js';

type Series = Pick<TrafficNetwork, 'values' | 'sensorIds'>;

/** Ground truth [samples, 12, nodes] for the samples in `range` (sample s reads steps s…s+23). */
export function forecastTargets(network: Series, range: SampleRange): Float64Array {
  const nodes = network.sensorIds.length;
  const samples = range.end - range.start;
  const out = new Float64Array(samples * HORIZON_STEPS * nodes);
  for (let s = 0; s < samples; s++) {
    for (let h = 0; h < HORIZON_STEPS; h++) {
      const step = range.start + s + INPUT_STEPS + h;
      out.set(network.values.subarray(step * nodes, (step + 1) * nodes), (s * HORIZON_STEPS + h) * nodes);
    }
  }
  return out;
}

/** Per-sensor mean of the non-missing readings in steps [0, stepEnd) (0 for a sensor never observed). */
export function sensorMeans(network: Series, stepEnd: number): Float64Array {
  const nodes = network.sensorIds.length;
  const sums = new Float64Array(nodes);
  const counts = new Float64Array(nodes);
  for (let t = 0; t < stepEnd; t++) {
    for (let n = 0; n < nodes; n++) {
      const v = network.values[t * nodes + n]!;
      if (v !== 0) { sums[n]! += v; counts[n]! += 1; }
    }
  }
  return sums.map((sum, n) => (counts[n]! > 0 ? sum / counts[n]! : 0));
}

export function lastValueForecast(network: Series, range: SampleRange, fallback: Float64Array): Float64Array {
  const nodes = network.sensorIds.length;
  const samples = range.end - range.start;
  const out = new Float64Array(samples * HORIZON_STEPS * nodes);
  for (let s = 0; s < samples; s++) {
    const first = range.start + s;
    for (let n = 0; n < nodes; n++) {
      let value = fallback[n]!;
      for (let t = first + INPUT_STEPS - 1; t >= first; t--) {
        const v = network.values[t * nodes + n]!;
        if (v !== 0) { value = v; break; }
      }
      for (let h = 0; h < HORIZON_STEPS; h++) out[(s * HORIZON_STEPS + h) * nodes + n] = value;
    }
  }
  return out;
}

export interface HistoricalAverage {
  readonly stepsPerDay: number;
  /** mean reading [slot × nodes] */
  readonly table: Float64Array;
}

export function fitHistoricalAverage(network: Series, stepEnd: number, stepsPerDay = STEPS_PER_DAY_5MIN): HistoricalAverage {
  const nodes = network.sensorIds.length;
  const sums = new Float64Array(stepsPerDay * nodes);
  const counts = new Float64Array(stepsPerDay * nodes);
  for (let t = 0; t < stepEnd; t++) {
    const slot = t % stepsPerDay;
    for (let n = 0; n < nodes; n++) {
      const v = network.values[t * nodes + n]!;
      if (v !== 0) { sums[slot * nodes + n]! += v; counts[slot * nodes + n]! += 1; }
    }
  }
  const fallback = sensorMeans(network, stepEnd);
  const table = sums.map((sum, i) => (counts[i]! > 0 ? sum / counts[i]! : fallback[i % nodes]!));
  return { stepsPerDay, table };
}

export function historicalAverageForecast(model: HistoricalAverage, nodes: number, range: SampleRange): Float64Array {
  const samples = range.end - range.start;
  const out = new Float64Array(samples * HORIZON_STEPS * nodes);
  for (let s = 0; s < samples; s++) {
    for (let h = 0; h < HORIZON_STEPS; h++) {
      const slot = (range.start + s + INPUT_STEPS + h) % model.stepsPerDay;
      out.set(model.table.subarray(slot * nodes, (slot + 1) * nodes), (s * HORIZON_STEPS + h) * nodes);
    }
  }
  return out;
}
