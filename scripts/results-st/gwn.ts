/**
 * Results part `gwn` of `npm run results:spatiotemporal` (issue #7, first acceptance item): Graph WaveNet against
 * the last-value and historical-average baselines on the METR-LA subset, 7:1:2 chronological split, masked MAE /
 * RMSE / MAPE at horizons 3 / 6 / 12 on the test split. The model is the best-validation epoch; the budget is
 * reduced (width, epochs, time cap) and the section says so. Measured numbers are cached in
 * docs/results/spatiotemporal/gwn.json and reused unless `rerun`.
 * Standalone: `node --import tsx scripts/results-st/gwn.ts [--rerun]`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../src/train/tf.js';
import { loadTrafficNetwork } from '../../src/tasks/traffic/csv-loader.js';
import { SafetensorsFile } from '../../src/io/safetensors/reader.js';
import { fitHistoricalAverage, forecastTargets, historicalAverageForecast, lastValueForecast, sensorMeans } from '../../src/spatiotemporal/baselines.js';
import { REPORTED_HORIZONS, renderResultsTable, runTrafficExperiment, type MethodResult, type TrafficExperimentResult } from '../../src/spatiotemporal/experiment.js';
import { forecastGwn, prepareTraffic } from '../../src/spatiotemporal/gwn-trainer.js';
import type { GraphWaveNetConfig, GwnWeights } from '../../src/spatiotemporal/graph-wavenet.js';
import { horizonMetrics, type ForecastMetrics } from '../../src/spatiotemporal/metrics.js';
import { cachedPart, epochProgress, headCommit, partCachePath, partLogger, rerunCommand, runPartIfMain, startMeasurement, type PartProvenance } from './part-cache.js';

const DATA = 'test/fixtures/metr-la-subset';
const RUN_DIR = 'out/results-st/gwn';
/**
 * Reduced budget for 2 shared cores (paper: width 32/32/256/512, batch 64, up to 100 epochs). Learning rate and
 * width were chosen on the validation split only (see the section text); the epoch is chosen on validation MAE.
 */
const BUDGET = {
  width: { residualChannels: 8, dilationChannels: 8, skipChannels: 32, endChannels: 64 },
  batchSize: 16,
  learningRate: 3e-3,
  weightDecay: 1e-4,
  epochs: 14,
  maxSeconds: 1080,
  seed: 0,
};

interface Cache extends PartProvenance<typeof BUDGET> {
  readonly result: TrafficExperimentResult;
  /** the same three methods on the validation split (the split used for every choice) */
  readonly validation: readonly MethodResult[];
}

const log = partLogger('gwn');

function readWeights(path: string): { config: GraphWaveNetConfig; weights: GwnWeights } {
  const file = SafetensorsFile.open(path);
  try {
    const weights: GwnWeights = {};
    for (const name of file.names()) weights[name] = { shape: file.info(name).shape, data: file.readFloat32(name) };
    return { config: JSON.parse(file.metadata!.config!) as GraphWaveNetConfig, weights };
  } finally {
    file.close();
  }
}

async function measure(): Promise<Cache> {
  await useBackend('wasm');
  const clock = startMeasurement();
  const measuredAt = headCommit(); // HEAD when the measurement starts (others may commit while it runs)
  rmSync(RUN_DIR, { recursive: true, force: true });
  const result = await runTrafficExperiment(
    DATA,
    {
      seed: BUDGET.seed,
      epochs: BUDGET.epochs,
      batchSize: BUDGET.batchSize,
      learningRate: BUDGET.learningRate,
      weightDecay: BUDGET.weightDecay,
      maxSeconds: BUDGET.maxSeconds,
      config: BUDGET.width,
      onEpoch: (r) => log(epochProgress(r)),
    },
    RUN_DIR,
  );
  // the validation table: what the choices were made on (the test split is only reported)
  const network = loadTrafficNetwork(DATA);
  const prepared = prepareTraffic(network);
  const { val, trainStepEnd } = prepared.splits;
  const truth = forecastTargets(network, val);
  const layout = { samples: val.end - val.start, horizons: 12, nodes: network.sensorIds.length };
  const score = (method: MethodResult['method'], forecast: Float64Array): MethodResult => {
    const metrics: Record<string, ForecastMetrics> = {};
    for (const h of REPORTED_HORIZONS) metrics[String(h)] = horizonMetrics(forecast, truth, layout, h);
    metrics.all = horizonMetrics(forecast, truth, layout, 'all');
    return { method, metrics };
  };
  const validation = [
    score('last value', lastValueForecast(network, val, sensorMeans(network, trainStepEnd))),
    score('historical average', historicalAverageForecast(fitHistoricalAverage(network, trainStepEnd, prepared.stepsPerDay), network.sensorIds.length, val)),
    score('graph wavenet', await forecastGwn(prepared, readWeights(join(RUN_DIR, 'model.safetensors')), val)),
  ];
  return { ...clock.finish({ commit: measuredAt, command: rerunCommand('gwn'), budget: BUDGET }), result, validation };
}

function maeOf(results: readonly MethodResult[], method: MethodResult['method'], h: string): number {
  return results.find((r) => r.method === method)!.metrics[h]!.mae;
}

function verdictOf(results: readonly MethodResult[]): { line: string; allBetter: boolean } {
  let allBetter = true;
  const parts = REPORTED_HORIZONS.map((h) => {
    const gwn = maeOf(results, 'graph wavenet', String(h));
    const best = Math.min(maeOf(results, 'last value', String(h)), maeOf(results, 'historical average', String(h)));
    allBetter &&= gwn < best;
    return `h${h}: GWN ${gwn.toFixed(2)} vs best baseline ${best.toFixed(2)} → ${gwn < best ? 'GWN better' : 'GWN NOT better'}`;
  });
  return { line: parts.join('; '), allBetter };
}

function render(cache: Cache): string {
  const { result, budget } = cache;
  const test = verdictOf(result.results);
  const val = verdictOf(cache.validation);
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' / ');
  const history = result.history.map((r) => `| ${r.epoch} | ${r.trainLoss.toFixed(3)} | ${r.valMae.toFixed(3)} | ${r.seconds.toFixed(1)} |`);
  const w = budget.width;
  return `## Graph WaveNet vs last value and historical average (METR-LA subset, 7:1:2)

Measured by \`${cache.command}\` at commit ${cache.commit} on ${cache.date.slice(0, 16).replace('T', ' ')} UTC (tfjs 4.22 wasm, one
thread, 2-core machine shared with other jobs: load average (1/5/15 min) ${load(cache.loadBefore)} before, ${load(cache.loadAfter)} after;
${cache.totalSeconds.toFixed(0)} s in all).

**Protocol.** \`${DATA}\`: ${result.sensors} sensors × ${result.steps} five-minute steps (7 days, from lehaifeng/T-GCN, derived from
METR-LA), zeros are missing. 12 input → 12 target steps over the whole series, split chronologically 7:1:2 →
${result.split.train} / ${result.split.val} / ${result.split.test} samples (DCRNN sizes); z-score fitted on the training steps only. Inputs: scaled
speed and time of day (seven days make day-of-week degenerate). Masked MAE / RMSE / MAPE (zeros missing) on
inverse-scaled predictions. Baselines: **last value** (last non-missing input reading, for all horizons) and
**historical average** (per sensor × 5-minute slot over the training steps, ~5 readings per slot).

**REDUCED budget (read before the numbers).** Width ${w.residualChannels} residual/dilation, ${w.skipChannels} skip, ${w.endChannels} end channels (paper
32/32/256/512); batch ${budget.batchSize}; Adam lr ${budget.learningRate}, weight decay ${budget.weightDecay}, clip 5, dropout 0.3; at most ${budget.epochs}
epochs and ${budget.maxSeconds} s of training (${result.history.length} epochs ran, ${result.trainSeconds.toFixed(0)} s with validation scoring); the model is
the best-validation epoch (${result.bestEpoch}). Width and lr are the earlier script's defaults, kept and not re-tuned;
the one new choice, training longer (this budget instead of 230 s), was checked on the validation split only
(a 600 s validation-only run: GWN val MAE 2.81 / 3.31 / 4.19 vs best baseline 3.22 / 3.73 / 4.46 at h3 / h6 / h12).
An earlier session's hand note compared widths on test-split numbers; nothing here uses it. Not a
reproduction of the paper's accuracy.

**Test split:**

${renderResultsTable(result.results)}

Verdict (test, masked MAE): ${test.line}. ${test.allBetter ? '**GWN beats both baselines at horizons 3, 6 and 12** (issue #7, first acceptance item, met at this budget; one seed).' : '**The acceptance item is NOT met** at this budget.'}

Validation split (the basis for every choice; the best epoch was picked on its 12-step average):

${renderResultsTable(cache.validation)}

Validation verdict: ${val.line}.

**Paper claim beside ours.** Graph WaveNet (Wu et al., IJCAI 2019; recalled, UNVERIFIED): METR-LA MAE 2.69 / 3.07 /
3.53 at horizons 3 / 6 / 12 on the full 4-month series, full width, up to 100 epochs. Ours are higher
(${REPORTED_HORIZONS.map((h) => maeOf(result.results, 'graph wavenet', String(h)).toFixed(2)).join(' / ')}) and disagree with it: 7 days of data (~5 training days), a quarter of the residual width and an
eighth of the skip/end width, ${(result.trainSeconds / 60).toFixed(0)} minutes of training, scored on ~1.4 test days. The numbers are not
comparable, and we do not claim the paper's accuracy.

Training history:

| epoch | train masked MAE | val masked MAE | seconds |
|---|---|---|---|
${history.join('\n')}
`;
}

export async function runPart(options: { rerun: boolean }): Promise<string> {
  return cachedPart({ cachePath: partCachePath('gwn'), rerun: options.rerun, measure, render });
}

await runPartIfMain(import.meta.url, runPart);
