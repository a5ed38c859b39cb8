/**
 * The GWN-vs-baselines comparison of issue #7 (spatiotemporal.md §2–§3): load a traffic folder, split 7:1:2,
 * fit last value / historical average / Graph WaveNet on the training split, and report masked MAE / RMSE /
 * MAPE on the test split at horizons 3, 6, 12 and the 12-step average. The trained model is saved as
 * safetensors (F32, config and scaler in the metadata) so `modelevo inspect` reads it.
 */
import { mkdirSync } from 'node:fs';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { join } from 'node:path';
import { writeSafetensors } from '../io/safetensors/writer.js';
import { loadTrafficNetwork } from '../tasks/traffic/csv-loader.js';
import { fitHistoricalAverage, forecastTargets, historicalAverageForecast, lastValueForecast, sensorMeans } from './baselines.js';
import { DEFAULT_GWN_TRAINING, forecastGwn, prepareTraffic, trainGwn, type EpochRecord, type GwnTrainOptions, type TrainedGwn } from './gwn-trainer.js';
import { horizonMetrics, type ForecastMetrics } from './metrics.js';
import { FORECAST_FOLDER, writeForecastArtifact } from './forecast-artifact.js';

export const REPORTED_HORIZONS = [3, 6, 12] as const;

export interface MethodResult {
  readonly method: 'last value' | 'historical average' | 'graph wavenet';
  /** key: '3' | '6' | '12' | 'all' */
  readonly metrics: Record<string, ForecastMetrics>;
}

export interface TrafficExperimentResult {
  readonly data: string;
  readonly sensors: number;
  readonly steps: number;
  readonly split: { train: number; val: number; test: number };
  readonly results: readonly MethodResult[];
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  /** why training ended (epoch maximum, early stopping, time cap) */
  readonly stopReason: TrainedGwn['stopReason'];
  readonly trainSeconds: number;
  readonly options: Omit<GwnTrainOptions, 'onEpoch' | 'onEpochWeights' | 'session' | 'initialBest'>;
}

export async function runTrafficExperiment(
  dataDir: string,
  options: Partial<Omit<GwnTrainOptions, 'seed'>> & { seed: number | string },
  runDir?: string,
): Promise<TrafficExperimentResult> {
  const network = loadTrafficNetwork(dataDir);
  const prepared = prepareTraffic(network);
  const { splits } = prepared;
  const nodes = network.sensorIds.length;
  const test = splits.test;
  const truth = forecastTargets(network, test);
  const layout = { samples: test.end - test.start, horizons: 12, nodes };
  const score = (method: MethodResult['method'], forecast: Float64Array): MethodResult => {
    const metrics: Record<string, ForecastMetrics> = {};
    for (const h of REPORTED_HORIZONS) metrics[String(h)] = horizonMetrics(forecast, truth, layout, h);
    metrics.all = horizonMetrics(forecast, truth, layout, 'all');
    return { method, metrics };
  };
  const results: MethodResult[] = [
    score('last value', lastValueForecast(network, test, sensorMeans(network, splits.trainStepEnd))),
    score('historical average', historicalAverageForecast(fitHistoricalAverage(network, splits.trainStepEnd, prepared.stepsPerDay), nodes, test)),
  ];
  const trainOptions: GwnTrainOptions = { ...DEFAULT_GWN_TRAINING, ...options };
  const started = performance.now();
  const trained = await trainGwn(prepared, trainOptions);
  const trainSeconds = (performance.now() - started) / 1000;
  const gwnForecast = await forecastGwn(prepared, trained, test, 64);
  results.push(score('graph wavenet', gwnForecast));
  // callbacks and weight payloads are not results
  const { onEpoch: _onEpoch, onEpochWeights: _onEpochWeights, session: _session, initialBest: _initialBest, ...recorded } = trainOptions;
  const result: TrafficExperimentResult = {
    data: dataDir,
    sensors: nodes,
    steps: network.steps,
    split: { train: splits.train.end - splits.train.start, val: splits.val.end - splits.val.start, test: test.end - test.start },
    results,
    history: trained.history,
    bestEpoch: trained.bestEpoch,
    stopReason: trained.stopReason,
    trainSeconds,
    options: recorded,
  };
  if (runDir) {
    saveRun(runDir, trained, prepared.scaler, result);
    // forecast vs truth per sensor for the dashboard (a few horizons: forecast-artifact.ts)
    writeForecastArtifact(join(runDir, FORECAST_FOLDER), { method: 'graph wavenet', predicted: gwnForecast, truth, layout, sensorIds: network.sensorIds });
  }
  return result;
}

function saveRun(runDir: string, trained: TrainedGwn, scaler: { mean: number; std: number }, result: TrafficExperimentResult): void {
  mkdirSync(runDir, { recursive: true });
  const tensors = Object.entries(trained.weights).map(([name, w]) => ({
    name,
    dtype: 'F32' as const,
    shape: [...w.shape],
    data: new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength),
  }));
  writeSafetensors(join(runDir, 'model.safetensors'), tensors, {
    modelevo_kind: 'modelevo-graph-wavenet',
    config: JSON.stringify(trained.config),
    scaler: JSON.stringify(scaler),
  });
  writeJsonAtomic(join(runDir, 'results.json'), result);
}

/** Markdown table: one row per method, MAE / RMSE / MAPE at each reported horizon and the average. */
export function renderResultsTable(results: readonly MethodResult[]): string {
  const columns = [...REPORTED_HORIZONS.map(String), 'all'];
  const head = `| method | ${columns.map((h) => (h === 'all' ? '12-step avg MAE / RMSE / MAPE' : `h${h} (${Number(h) * 5} min) MAE / RMSE / MAPE`)).join(' | ')} |`;
  const rule = `|---|${columns.map(() => '---').join('|')}|`;
  const rows = results.map((r) => `| ${r.method} | ${columns.map((h) => {
    const m = r.metrics[h]!;
    return `${m.mae.toFixed(2)} / ${m.rmse.toFixed(2)} / ${(100 * m.mape).toFixed(1)}%`;
  }).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}
