/**
 * Last value (the last non-missing input reading, for every horizon) scored on a list of windows: masked metrics at
 * horizons 3 / 6 / 12 and over all 12 — the no-training floor of the SynEVO and ComS2T parts.
 */
import { lastValueForecast } from '../../src/spatiotemporal/baselines.js';
import { targetsOf, type PreparedTraffic } from '../../src/spatiotemporal/gwn-data.js';
import { horizonMetrics, type ForecastMetrics } from '../../src/spatiotemporal/metrics.js';
import { HORIZON_STEPS } from '../../src/tasks/traffic/windows.js';

export interface LastValueScores {
  readonly h3: ForecastMetrics;
  readonly h6: ForecastMetrics;
  readonly h12: ForecastMetrics;
  readonly all: ForecastMetrics;
}

export function lastValueScores(prepared: PreparedTraffic, windows: readonly number[]): LastValueScores {
  const { network } = prepared;
  const nodes = network.sensorIds.length;
  const forecast = new Float64Array(windows.length * HORIZON_STEPS * nodes);
  const fallback = new Float64Array(nodes).fill(prepared.scaler.mean);
  windows.forEach((s, i) => forecast.set(lastValueForecast(network, { start: s, end: s + 1 }, fallback), i * HORIZON_STEPS * nodes));
  const truth = targetsOf(prepared, windows);
  const layout = { samples: windows.length, horizons: HORIZON_STEPS, nodes };
  return { h3: horizonMetrics(forecast, truth, layout, 3), h6: horizonMetrics(forecast, truth, layout, 6), h12: horizonMetrics(forecast, truth, layout, 12), all: horizonMetrics(forecast, truth, layout, 'all') };
}
