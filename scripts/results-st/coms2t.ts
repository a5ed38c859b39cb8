/**
 * Results part `coms2t` of `npm run results:spatiotemporal` (issue #7): ComS2T (coms2t.md) on the METR-LA subset
 * with the time-of-day OOD split (train 08–16, validation 16–24, prompt 00–01, test 01–08): plain Graph WaveNet
 * vs ComS2T and its four ablations, test masked MAE / RMSE / MAPE (12-step average, horizons 3/6/12). Measured
 * numbers are cached in docs/results/spatiotemporal/coms2t.json and reused unless `rerun`.
 * Standalone: `node --import tsx scripts/results-st/coms2t.ts [--rerun]`.
 */
import { useBackend } from '../../src/train/tf.js';
import { loadTrafficNetwork } from '../../src/tasks/traffic/csv-loader.js';
import { lastValueForecast } from '../../src/spatiotemporal/baselines.js';
import { horizonMetrics } from '../../src/spatiotemporal/metrics.js';
import { targetsOf } from '../../src/spatiotemporal/gwn-data.js';
import { trainGwn } from '../../src/spatiotemporal/gwn-trainer.js';
import { HORIZON_STEPS } from '../../src/tasks/traffic/windows.js';
import { DEFAULT_COMS2T, evaluateComS2T, runComS2TStages, runStageZero, setupComS2T, type Ablation, type ComS2TOptions, type HorizonReport } from '../../src/spatiotemporal/coms2t/pipeline.js';
import { cachedPart, epochProgress, headCommit, partCachePath, partLogger, rerunCommand, runPartIfMain, startMeasurement, type PartProvenance } from './part-cache.js';

const DATA = 'test/fixtures/metr-la-subset';
/** reduced budget: 2 shared cores; the paper's is width 32/256/512, batch 64, 20 + 20 epochs */
const BUDGET = {
  width: { residualChannels: 8, dilationChannels: 8, skipChannels: 32, endChannels: 64 },
  batchSize: 16,
  learningRate: 3e-3,
  stage0Epochs: 10,
  stage1Epochs: 4,
  promptEpochs: 5,
  seed: 0,
};

interface Row {
  readonly method: string;
  readonly note: string;
  readonly valMae?: number;
  readonly test: HorizonReport;
  readonly seconds: number;
}

interface Cache extends PartProvenance<typeof BUDGET> {
  readonly windows: { train: number; val: number; prompt: number; test: number };
  readonly split: { eligible: number; dynamic: string[]; frozen: number };
  readonly promptObjective?: { before: number; after: number };
  readonly stage0: { bestEpoch: number; epochs: number; valMae: number[] };
  readonly rows: Row[];
}

const log = partLogger('coms2t');

async function measure(): Promise<Cache> {
  await useBackend('wasm');
  const codeVersion = headCommit({ markUncommitted: true }); // HEAD when the measurement starts (the code that runs)
  const clock = startMeasurement();
  const network = loadTrafficNetwork(DATA);
  const setup = setupComS2T(network);
  const { split } = setup;
  const options: ComS2TOptions = {
    ...DEFAULT_COMS2T,
    seed: BUDGET.seed,
    config: BUDGET.width,
    stage0Epochs: BUDGET.stage0Epochs,
    stage1Epochs: BUDGET.stage1Epochs,
    promptEpochs: BUDGET.promptEpochs,
    batchSize: BUDGET.batchSize,
    learningRate: BUDGET.learningRate,
    onEpoch: (stage, r) => log(epochProgress(r, stage)),
  };
  const rows: Row[] = [];
  const nodes = network.sensorIds.length;
  const layout = { samples: split.test.length, horizons: HORIZON_STEPS, nodes };
  const truth = targetsOf(setup.prepared, split.test);
  const lastValue = new Float64Array(split.test.length * HORIZON_STEPS * nodes);
  const fallback = new Float64Array(nodes).fill(setup.prepared.scaler.mean);
  split.test.forEach((s, i) => lastValue.set(lastValueForecast(network, { start: s, end: s + 1 }, fallback), i * HORIZON_STEPS * nodes));
  const report = (predicted: Float64Array): HorizonReport => ({ all: horizonMetrics(predicted, truth, layout, 'all'), h3: horizonMetrics(predicted, truth, layout, 3), h6: horizonMetrics(predicted, truth, layout, 6), h12: horizonMetrics(predicted, truth, layout, 12) });
  rows.push({ method: 'last value', note: 'no training', test: report(lastValue), seconds: 0 });

  let t = performance.now();
  const stageZero = await runStageZero(setup, options);
  const config = stageZero.trained.config;
  const stage0Seconds = (performance.now() - t) / 1000;
  const stage0Val = stageZero.trained.history.map((r) => r.valMae);
  rows.push({ method: 'Graph WaveNet (Stage 0)', note: `${BUDGET.stage0Epochs} epochs, best val epoch ${stageZero.trained.bestEpoch}`, valMae: Math.min(...stage0Val), test: await evaluateComS2T(setup, { config, weights: stageZero.trained.weights, prompts: false }, split.test), seconds: stage0Seconds });

  // the same extra budget as Stage 1b, without prompts or freezing: separates "more epochs" from ComS2T itself
  t = performance.now();
  const continued = await trainGwn(setup.prepared, {
    epochs: BUDGET.stage1Epochs,
    batchSize: BUDGET.batchSize,
    learningRate: BUDGET.learningRate,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    seed: `${BUDGET.seed}-1b`,
    config,
    trainSamples: split.train,
    valSamples: split.val,
    session: { initialWeights: stageZero.trained.weights },
    onEpoch: (r) => options.onEpoch?.('GWN continued', r),
  });
  rows.push({ method: 'Graph WaveNet continued', note: `+${BUDGET.stage1Epochs} epochs from Stage 0, all tensors, no prompts`, valMae: Math.min(...continued.history.map((r) => r.valMae)), test: await evaluateComS2T(setup, { config, weights: continued.weights, prompts: false }, split.test), seconds: stage0Seconds + (performance.now() - t) / 1000 });

  let full: Awaited<ReturnType<typeof runComS2TStages>> | undefined;
  const notes: Record<Exclude<Ablation, 'ttf'>, string> = {
    none: 'full: split, 1a, 1b (stable frozen), 2 (TTA)',
    hip: 'no freezing in 1b',
    ssl: 'no 1a, no 2',
    pmt: 'no prompts (1b with freezing only)',
  };
  for (const ablation of ['none', 'ssl', 'hip', 'pmt'] as const) {
    t = performance.now();
    const result = await runComS2TStages(setup, stageZero, options, ablation);
    const seconds = stage0Seconds + (performance.now() - t) / 1000;
    const valMae = Math.min(...result.stage1.history.map((r) => r.valMae));
    rows.push({ method: ablation === 'none' ? 'ComS2T' : `ComS2T −${ablation}`, note: notes[ablation], valMae, test: await evaluateComS2T(setup, result.model, split.test), seconds });
    if (ablation === 'none') {
      full = result;
      // ttf differs from the full method only by skipping Stage 2: its model is the full run's pre-TTA model
      rows.push({ method: 'ComS2T −ttf', note: 'no test-time adaptation (the full run before Stage 2)', valMae, test: await evaluateComS2T(setup, result.beforeAdaptation, split.test), seconds });
    }
    log(`${ablation}: test MAE ${rows[rows.length - 1]!.test.all.mae.toFixed(3)}`);
  }
  return {
    ...clock.finish({ commit: codeVersion, command: rerunCommand('coms2t'), budget: BUDGET }),
    windows: { train: split.train.length, val: split.val.length, prompt: split.prompt.length, test: split.test.length },
    split: { eligible: full!.weightSplit.eligible.length, dynamic: [...full!.weightSplit.dynamic], frozen: full!.frozen.length },
    ...(full!.promptObjective ? { promptObjective: full!.promptObjective } : {}),
    stage0: { bestEpoch: stageZero.trained.bestEpoch, epochs: stageZero.trained.history.length, valMae: stage0Val },
    rows,
  };
}

const f = (x: number | undefined, digits = 3): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));

function render(cache: Cache): string {
  const table = [
    '| method | what | val MAE | test MAE | test RMSE | test MAPE % | MAE h3 | MAE h6 | MAE h12 | s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...cache.rows.map((r) => `| ${r.method} | ${r.note} | ${f(r.valMae)} | ${f(r.test.all.mae)} | ${f(r.test.all.rmse)} | ${f(r.test.all.mape * 100, 2)} | ${f(r.test.h3.mae)} | ${f(r.test.h6.mae)} | ${f(r.test.h12.mae)} | ${r.seconds.toFixed(0)} |`),
  ];
  const mae = (method: string): number => cache.rows.find((r) => r.method === method)!.test.all.mae;
  const full = mae('ComS2T');
  const comparisons = ['Graph WaveNet (Stage 0)', 'Graph WaveNet continued', 'ComS2T −hip', 'ComS2T −ssl', 'ComS2T −pmt', 'ComS2T −ttf'].map((m) => `${m} ${f(mae(m))} (${mae(m) > full ? 'ComS2T better' : mae(m) < full ? 'ComS2T NOT better' : 'tie'})`);
  const best = (label: string, pick: (r: Row) => number): string => {
    const winner = [...cache.rows].sort((x, y) => pick(x) - pick(y))[0]!;
    return `${label} ${winner.method} (${f(pick(winner))})`;
  };
  const bestLine = [best('12-step MAE:', (r) => r.test.all.mae), best('h3:', (r) => r.test.h3.mae), best('h6:', (r) => r.test.h6.mae), best('h12:', (r) => r.test.h12.mae)].join('; ');
  const stageZeroVal = cache.rows.find((r) => r.method === 'Graph WaveNet (Stage 0)')!.valMae!;
  const beatStageZero = cache.rows.filter((r) => r.method !== 'Graph WaveNet (Stage 0)' && r.valMae !== undefined && r.valMae < stageZeroVal).map((r) => r.method);
  const stage1Line = beatStageZero.length === 0
    ? `No model trained on from Stage 0 (continued GWN, ComS2T, its ablations) reached Stage 0's best validation MAE (${f(stageZeroVal)}): each selects its best epoch among its own ${cache.budget.stage1Epochs} extra epochs, so at this budget the extra training (prompted or not) starts by losing validation accuracy.`
    : `Better than Stage 0 on validation (${f(stageZeroVal)}): ${beatStageZero.join(', ')}.`;
  const b = cache.budget;
  return `## ComS2T: time-of-day OOD split (METR-LA subset)

Split (coms2t.md §4; src/spatiotemporal/coms2t/split.ts): per day 08–16 train, 16–24 validation, 00–01 prompt,
01–08 test; a window belongs to a period only if all 24 of its steps lie in it. The prompt windows are the 12 per
night whose targets end inside 00:00–01:00 (inputs are validation steps; no window reads a training or test step).
Windows: train ${cache.windows.train}, validation ${cache.windows.val}, prompt ${cache.windows.prompt}, test ${cache.windows.test}.
Selection uses the validation period only; the test period is used for this table only.

**Reduced budget** (2 shared cores): width ${b.width.residualChannels}/${b.width.skipChannels}/${b.width.endChannels} (residual/skip/end; paper
32/256/512), batch ${b.batchSize} (paper 64), Adam lr ${b.learningRate} (paper 1e-4), Stage 0 ${b.stage0Epochs} epochs (paper 20), Stage 1b
${b.stage1Epochs} epochs (paper 20), prompt stages ${b.promptEpochs} epochs, one seed (${b.seed}). Stage 0 is shared by all ComS2T rows;
its best-validation model is the plain GWN row. Total ${(cache.totalSeconds / 60).toFixed(1)} min at load ${cache.loadBefore[0]!.toFixed(1)} → ${cache.loadAfter[0]!.toFixed(1)} (1-min load average
before/after); code at commit ${cache.commit}, finished ${cache.date}; \`${cache.command}\`.

${table.join('\n')}

The "s" column counts Stage 0 in every row that starts from it. Weight split (tensor-ratio, 50%): ${cache.split.dynamic.length}
of ${cache.split.eligible} eligible tensors dynamic, ${cache.split.frozen} frozen in Stage 1b. Prompt objective on the prompt windows
(masked MAE of [mean, variance], z-score units) before/after Stage 2: ${cache.promptObjective ? `${f(cache.promptObjective.before)} → ${f(cache.promptObjective.after)}` : '—'}.

Against ComS2T (test MAE ${f(full)}): ${comparisons.join('; ')}.
Lowest test MAE per column: ${bestLine}. ${stage1Line}

Paper claims (coms2t.md §1; numbers UNVERIFIED, not quoted): the stable/dynamic split plus spatial and temporal
prompts with test-time adaptation improve out-of-distribution forecasting over the plain backbone, and each of
the four components (hip, ssl, pmt, ttf) contributes (removing any one is worse). Where the comparisons above say
"ComS2T NOT better", our reduced-budget, single-seed run disagrees with that claim; differences of a few
hundredths of a mph are within what a different seed could change (not measured here).
`;
}

export async function runPart(options: { rerun: boolean }): Promise<string> {
  return cachedPart({ cachePath: partCachePath('coms2t'), rerun: options.rerun, measure, render });
}

await runPartIfMain(import.meta.url, runPart);
