/**
 * Old vs new ComS2T end to end (issue #22 equivalence; the Graph WaveNet part is st-engine-equivalence.ts):
 * Stage 0, the weight split, Stage 1a, Stage 1b, Stage 2 and the test evaluation at the MODELEVO_ST_TINY budget of
 * scripts/results-st/coms2t.ts, on the METR-LA subset, per seed. It only calls the pipeline's public functions
 * (setupComS2T, runStageZero, runComS2TStages, evaluateComS2T), which the tfjs version had too, so the same file
 * runs in a checkout of the previous implementation (`git archive` of main into /tmp) and in this one.
 *
 * Measure one side:  node --import tsx scripts/st-engine-equivalence-coms2t.ts --side new --json out/coms2t-new.json
 *   (the tfjs side also needs `--tfjs-backend wasm`: its Stage 1b ran on tfjs)
 * Report:            node --import tsx scripts/st-engine-equivalence-coms2t.ts --report out/coms2t-old.json out/coms2t-new.json
 *   writes (or replaces) the budget's "## ComS2T end to end" section of docs/results/st-engine-equivalence.md (or
 *   --out). `--steps N --stage1-lr X` (both when measuring and when reporting) change the budget.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { argValue } from '../bench/support/child-run.js';

const DATA = 'test/fixtures/metr-la-subset';
// scripts/results-st/coms2t.ts with MODELEVO_ST_TINY=1 (3 seeds here instead of 2)
const TINY = { width: { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 8 }, batchSize: 16, learningRate: 3e-3, stage1LearningRate: 1e-4, stage0Epochs: 2, patience: 2, stage1Epochs: 1, promptEpochs: 1, maxStepsPerEpoch: 2 };
// --steps (optimiser steps per epoch of Stages 0 and 1b) and --stage1-lr make Stage 1b move the weights further
const BUDGET = { ...TINY, maxStepsPerEpoch: Number(argValue('--steps') ?? TINY.maxStepsPerEpoch), stage1LearningRate: Number(argValue('--stage1-lr') ?? TINY.stage1LearningRate) };
const IS_TINY = BUDGET.maxStepsPerEpoch === TINY.maxStepsPerEpoch && BUDGET.stage1LearningRate === TINY.stage1LearningRate;
/** one section per budget; a report replaces the section of its own budget */
const SECTION = `## ComS2T end to end, tfjs Stage 1b vs engine (old vs new), ${IS_TINY ? 'tiny budget' : `${BUDGET.maxStepsPerEpoch} steps per epoch, Stage 1b lr ${BUDGET.stage1LearningRate}`}`;

interface SeedRow {
  readonly seed: number;
  readonly stage0ValMae: number;
  readonly stage0TestMae: number;
  readonly stage1ValMae: number;
  readonly testMae: number;
  readonly testH3: number;
  readonly testH12: number;
  readonly promptObjective: { before: number; after: number } | undefined;
  readonly seconds: number;
}

interface SideResult {
  readonly side: string;
  readonly commit: string;
  readonly started: string;
  readonly machine: string;
  readonly load: [number, number];
  readonly rows: SeedRow[];
}

async function measure(side: string, seeds: readonly number[]): Promise<SideResult> {
  const tfjsBackend = argValue('--tfjs-backend');
  if (tfjsBackend) {
    // the previous implementation's Stage 1b and evaluation ran on tfjs
    const { useBackend } = (await import('../test/support/tfjs/tf.js' as string)) as { useBackend: (name: string) => Promise<string> };
    await useBackend(tfjsBackend);
  }
  const { loadTrafficNetwork } = await import('../src/tasks/traffic/csv-loader.js');
  const { DEFAULT_COMS2T, evaluateComS2T, runComS2TStages, runStageZero, setupComS2T } = await import('../src/spatiotemporal/coms2t/pipeline.js');
  const setup = setupComS2T(loadTrafficNetwork(DATA));
  const loadBefore = loadavg()[0]!;
  const started = new Date().toISOString();
  const rows: SeedRow[] = [];
  for (const seed of seeds) {
    const t0 = performance.now();
    const options = { ...DEFAULT_COMS2T, seed, config: BUDGET.width, batchSize: BUDGET.batchSize, learningRate: BUDGET.learningRate, stage1LearningRate: BUDGET.stage1LearningRate, stage0Epochs: BUDGET.stage0Epochs, patience: BUDGET.patience, stage1Epochs: BUDGET.stage1Epochs, promptEpochs: BUDGET.promptEpochs, maxStepsPerEpoch: BUDGET.maxStepsPerEpoch };
    const stageZero = await runStageZero(setup, options);
    const result = await runComS2TStages(setup, stageZero, options, 'none');
    const plain = await evaluateComS2T(setup, { config: stageZero.trained.config, weights: stageZero.trained.weights, prompts: false }, setup.split.test);
    const test = await evaluateComS2T(setup, result.model, setup.split.test);
    const row: SeedRow = {
      seed,
      stage0ValMae: Math.min(...stageZero.trained.history.map((r) => r.valMae)),
      stage0TestMae: plain.all.mae,
      stage1ValMae: Math.min(...result.stage1.history.map((r) => r.valMae)),
      testMae: test.all.mae,
      testH3: test.h3.mae,
      testH12: test.h12.mae,
      promptObjective: result.promptObjective,
      seconds: (performance.now() - t0) / 1000,
    };
    rows.push(row);
    console.log(`${side} seed ${seed}: Stage 0 test MAE ${row.stage0TestMae.toFixed(4)}, Stage 1b val MAE ${row.stage1ValMae.toFixed(4)}, ComS2T test MAE ${row.testMae.toFixed(4)}, ${row.seconds.toFixed(1)} s`);
  }
  const commit = argValue('--commit') ?? 'working tree';
  return { side, commit, started, machine: `${cpus()[0]?.model} × ${cpus().length}`, load: [loadBefore, loadavg()[0]!], rows };
}

const range = (values: readonly number[]): [number, number] => [Math.min(...values), Math.max(...values)];
const overlap = (a: [number, number], b: [number, number]): boolean => a[0] <= b[1] && b[0] <= a[1];
const fmt = (r: [number, number]): string => `${r[0].toFixed(3)} – ${r[1].toFixed(3)}`;

function report(old: SideResult, next: SideResult): string[] {
  const keys = [
    ['stage0TestMae', 'Stage 0 (plain GWN) test MAE'],
    ['stage1ValMae', 'Stage 1b best val MAE'],
    ['testMae', 'ComS2T test MAE'],
    ['testH12', 'ComS2T test MAE h12'],
  ] as const;
  const ranges = keys.map(([key, label]) => {
    const a = range(old.rows.map((r) => r[key]));
    const b = range(next.rows.map((r) => r[key]));
    return `${label}: ${old.side} ${fmt(a)}, ${next.side} ${fmt(b)} (${overlap(a, b) ? 'overlap' : 'DO NOT overlap'})`;
  });
  const line = (s: SideResult, r: SeedRow): string =>
    `| ${s.side} | ${r.seed} | ${r.stage0TestMae.toFixed(4)} | ${r.stage1ValMae.toFixed(4)} | ${r.testMae.toFixed(4)} | ${r.testH3.toFixed(4)} | ${r.testH12.toFixed(4)} | ${r.promptObjective ? `${r.promptObjective.before.toFixed(4)} → ${r.promptObjective.after.toFixed(4)}` : '—'} | ${r.seconds.toFixed(1)} |`;
  return [
    SECTION,
    '',
    `Generated by \`scripts/st-engine-equivalence-coms2t.ts\`: ${old.side} = ${old.commit} (measured ${old.started.slice(0, 16)} UTC, load ${old.load[0].toFixed(1)} → ${old.load[1].toFixed(1)}), ${next.side} = ${next.commit} (measured ${next.started.slice(0, 16)} UTC, load ${next.load[0].toFixed(1)} → ${next.load[1].toFixed(1)}), ${next.machine}, shared machine (the seconds are not speed measurements).`,
    '',
    `Budget: scripts/results-st/coms2t.ts's MODELEVO_ST_TINY=1${IS_TINY ? '' : ' with more steps per epoch and a larger Stage-1b lr (as stated)'} — width ${BUDGET.width.residualChannels}/${BUDGET.width.dilationChannels}/${BUDGET.width.skipChannels}/${BUDGET.width.endChannels}, batch ${BUDGET.batchSize}, Stage 0 lr ${BUDGET.learningRate} for ${BUDGET.stage0Epochs} epochs × ${BUDGET.maxStepsPerEpoch} steps (patience ${BUDGET.patience}), tensor-ratio split 50 %, Stage 1a ${BUDGET.promptEpochs} epoch, Stage 1b lr ${BUDGET.stage1LearningRate} (fresh Adam on both sides) for ${BUDGET.stage1Epochs} epoch × ${BUDGET.maxStepsPerEpoch} steps, Stage 2 ${BUDGET.promptEpochs} epoch; METR-LA subset (${DATA}), time-of-day split, full method (ablation none), seeds ${next.rows.map((r) => r.seed).join(', ')}. Stage 0, 1a and 2 ran on the engine on both sides already; the sides differ in Stage 1b and the prompt-conditioned evaluation (tfjs session + promptConditionedForward vs stage-one.ts / prompted-gwn.ts).`,
    '',
    '| side | seed | Stage 0 test MAE | Stage 1b best val MAE | ComS2T test MAE | h3 | h12 | prompt objective (Stage 2) | seconds |',
    '|---|---|---|---|---|---|---|---|---|',
    ...old.rows.map((r) => line(old, r)),
    ...next.rows.map((r) => line(next, r)),
    '',
    `Ranges over ${next.rows.length} seeds — ${ranges.join('; ')}.`,
    '',
  ];
}

if (argValue('--report') !== undefined) {
  const arg = process.argv.indexOf('--report');
  const [oldFile, newFile] = [process.argv[arg + 1]!, process.argv[arg + 2]!];
  const read = (file: string): SideResult => JSON.parse(readFileSync(file, 'utf8')) as SideResult;
  const out = argValue('--out') ?? 'docs/results/st-engine-equivalence.md';
  const page = readFileSync(out, 'utf8');
  const lines = report(read(oldFile), read(newFile));
  const at = page.indexOf(`${SECTION}\n`);
  // the section runs to the next '## ' heading (or the end of the page)
  const next = at < 0 ? -1 : page.indexOf('\n## ', at + SECTION.length);
  const updated = at < 0 ? `${page.trimEnd()}\n\n${lines.join('\n')}` : `${page.slice(0, at)}${lines.join('\n')}${next < 0 ? '' : page.slice(next)}`;
  writeFileSync(out, updated);
  console.log(lines.slice(-2).join('\n'));
} else {
  const side = argValue('--side') ?? 'new';
  const seeds = (argValue('--seeds') ?? '0,1,2').split(',').map(Number);
  const json = argValue('--json') ?? `out/coms2t-equivalence-${side}.json`;
  const result = await measure(side, seeds);
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify(result, null, 2));
}
