/**
 * `modelevo st coms2t`: ComS2T (coms2t.md) on a traffic folder with the time-of-day OOD split (train 08–16,
 * validation 16–24, prompt 00–01, test 01–08): Stage 0 (plain GWN, also reported as the baseline), the
 * stable/dynamic weight split, prompt pre-training, prompt-conditioned training of the dynamic part and test-time
 * adaptation, or one ablation (hip | ssl | pmt | ttf). Test masked MAE / RMSE / MAPE, 12-step average and
 * horizons 3/6/12. With --run-dir the run is stored in the run store (kind `st-coms2t`: options in the manifest,
 * one event per epoch, the weight split and the results; artifacts/results.json).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseWithSchema } from '../../core/schema.js';
import { withStoredRun } from './st-stored-run.js';
import { addSchemaOptions, flag } from '../schema-options.js';
import { DEFAULT_COMS2T } from '../../spatiotemporal/coms2t/pipeline.js';
import { epochLine, gwnWidthFields, gwnWidthOf, metricCells, jsonFields, positiveInt, seedField, storedRunNote, type GwnWidthDefaults } from './st-common.js';

/** the paper's widths */
const WIDTHS: GwnWidthDefaults = { residual: 32, skip: 256, end: 512 };

const D = DEFAULT_COMS2T;

export const StComs2tOptionsSchema = z.object({
  data: flag(z.string(), 'traffic folder (series CSV + adjacency CSV), series starting at midnight', '<dir>'),
  split: flag(z.enum(['time-of-day']).default('time-of-day'), 'OOD split: time-of-day (train 08–16, val 16–24, prompt 00–01, test 01–08)', '<kind>'),
  stepsPerDay: flag(positiveInt.default(288), 'steps per day of the series (288 = 5-minute steps)', '<n>'),
  ratio: flag(z.coerce.number().min(0).max(100).default(D.split.ratio), 'percentage of eligible tensors made dynamic (tensor-ratio split)', '<pct>'),
  splitMethod: flag(z.enum(['tensor-ratio', 'element-variance']).default(D.split.method), 'tensor-ratio (ComS2T code) | element-variance (CMuST δ rule)', '<name>'),
  delta: flag(z.coerce.number().positive().default(D.split.delta), 'element-variance threshold δ', '<x>'),
  ablation: flag(z.enum(['none', 'hip', 'ssl', 'pmt', 'ttf']).default('none'), 'none | hip (no freezing) | ssl (no prompt pre-training/TTA) | pmt (no prompts) | ttf (no TTA)', '<name>'),
  stage1Init: flag(z.enum(['keep', 'reinit']).default(D.stage1Init), "stable tensors in Stage 1b: keep (Stage-0 values) | reinit (the code's retrain=1)", '<how>'),
  epochs: flag(positiveInt.min(2).default(D.stage0Epochs), 'Stage-0 epochs (checkpoints for the split; at least 2)', '<n>'),
  stage1Epochs: flag(positiveInt.default(D.stage1Epochs), 'Stage-1b epochs', '<n>'),
  promptEpochs: flag(positiveInt.default(D.promptEpochs), 'prompt pre-training and test-time adaptation epochs', '<n>'),
  maxStepsPerEpoch: flag(positiveInt.optional(), 'cap optimiser steps per GWN epoch (reduced budgets)', '<n>'),
  batchSize: flag(positiveInt.default(D.batchSize), 'minibatch size', '<n>'),
  lr: flag(z.coerce.number().positive().default(D.learningRate), 'Adam learning rate of Stage 0', '<x>'),
  stage1Lr: flag(z.coerce.number().positive().default(D.stage1LearningRate), "learning rate of Stage 1b (a fresh Adam, as the authors' code)", '<x>'),
  patience: flag(positiveInt.optional(), 'early stopping of Stages 0 and 1b on validation MAE (default: all epochs)', '<n>'),
  promptLr: flag(z.coerce.number().positive().default(D.promptLearningRate), 'Adam learning rate of the prompt stages', '<x>'),
  promptDim: flag(positiveInt.default(D.promptDim), 'prompt dimension', '<n>'),
  ...gwnWidthFields(WIDTHS),
  seed: flag(seedField, 'seed', '<n>'),
  runDir: flag(z.string().optional(), 'store the run here (run.sqlite with epochs, weight split and results; artifacts/results.json)', '<dir>'),
  resume: flag(z.boolean().optional(), 'continue the interrupted run in --run-dir (same options; the computation starts again and stores the same result)'),
  ...jsonFields,
});
export type StComs2tOptions = z.input<typeof StComs2tOptionsSchema>;

export async function runStComs2tCommand(raw: StComs2tOptions, write: (text: string) => void): Promise<unknown> {
  const o = parseWithSchema(StComs2tOptionsSchema, raw, 'modelevo st coms2t options');
  const { loadTrafficNetwork } = await import('../../tasks/traffic/csv-loader.js');
  const { runComS2T, setupComS2T } = await import('../../spatiotemporal/coms2t/pipeline.js');
  const setup = setupComS2T(loadTrafficNetwork(o.data), o.stepsPerDay);
  const runConfig = { ...o, data: resolve(o.data), runDir: undefined, resume: undefined, json: undefined };
  return withStoredRun({ runDir: o.runDir, kind: 'st-coms2t', seed: o.seed, config: runConfig, json: o.json, resume: o.resume }, async ({ store, log, finish }) => {
    const { split } = setup;
    log(`windows train/val/prompt/test ${split.train.length}/${split.val.length}/${split.prompt.length}/${split.test.length}`);
    const run = await runComS2T(
      setup,
      {
        ...DEFAULT_COMS2T,
        seed: o.seed,
        config: gwnWidthOf(o),
        stage0Epochs: o.epochs,
        stage1Epochs: o.stage1Epochs,
        promptEpochs: o.promptEpochs,
        batchSize: o.batchSize,
        learningRate: o.lr,
        stage1LearningRate: o.stage1Lr,
        ...(o.patience === undefined ? {} : { patience: o.patience }),
        promptLearningRate: o.promptLr,
        promptDim: o.promptDim,
        split: { method: o.splitMethod, ratio: o.ratio, delta: o.delta },
        stage1Init: o.stage1Init,
        ...(o.maxStepsPerEpoch === undefined ? {} : { maxStepsPerEpoch: o.maxStepsPerEpoch }),
        onEpoch: (stage, r) => {
          store?.event('epoch', { stage, ...r });
          log(epochLine(r, stage));
        },
      },
      o.ablation,
    );
    const { result } = run;
    const output = {
      data: o.data,
      split: o.split,
      ablation: o.ablation,
      windows: { train: split.train.length, val: split.val.length, prompt: split.prompt.length, test: split.test.length },
      weightSplit: { method: result.weightSplit.method, eligible: result.weightSplit.eligible.length, dynamic: result.weightSplit.dynamic, frozen: result.frozen, scores: result.weightSplit.scores },
      stage0: { bestEpoch: run.stageZero.trained.bestEpoch, history: run.stageZero.trained.history },
      stage1: result.stage1,
      promptPretrainLosses: result.promptPretrainLosses,
      promptObjective: result.promptObjective,
      test: { plainGwn: run.plainGwnTest, coms2t: run.test },
    };
    if (store) {
      store.event('weight-split', output.weightSplit);
      store.event('result', { ablation: o.ablation, plainGwn: run.plainGwnTest.all, coms2t: run.test.all });
      finish(output);
    }
    if (o.json) write(`${JSON.stringify(output)}\n`);
    else {
      write(`ComS2T (${o.ablation === 'none' ? 'full' : `ablation ${o.ablation}`}): ${result.weightSplit.dynamic.length} of ${result.weightSplit.eligible.length} eligible tensors dynamic, ${result.frozen.length} frozen\n\n`);
      write('| model | test MAE | RMSE | MAPE % | MAE h3 | MAE h6 | MAE h12 |\n|---|---|---|---|---|---|---|\n');
      for (const [name, r] of [['Graph WaveNet (Stage 0)', run.plainGwnTest], ['ComS2T', run.test]] as const) {
        write(`| ${name} | ${metricCells(r.all)} | ${r.h3.mae.toFixed(3)} | ${r.h6.mae.toFixed(3)} | ${r.h12.mae.toFixed(3)} |\n`);
      }
      if (o.runDir) write(storedRunNote(o.runDir, 'artifacts/results.json'));
    }
    return output;
  });
}

export function registerStComs2tCommand(st: Command): void {
  const coms2t = st.command('coms2t')
    .description('ComS2T: stable/dynamic weight split, spatial and temporal prompts, test-time adaptation on a time-of-day OOD split');
  addSchemaOptions(coms2t, StComs2tOptionsSchema)
    .addHelpText(
      'after',
      `
A window belongs to a period only if all its 24 steps lie in it. The prompt (test-time adaptation) windows are
the 12 per night whose targets end in 00:00–01:00; they read validation and prompt steps, never test steps.

Examples:
  modelevo st coms2t --data test/fixtures/metr-la-subset --epochs 10 --stage1-epochs 4 --batch-size 16 --lr 0.003 \\
    --residual-channels 8 --skip-channels 32 --end-channels 64 --run-dir runs/coms2t
  modelevo st coms2t --data test/fixtures/metr-la-subset --ablation hip --json`,
    )
    .action(async (options: StComs2tOptions) => {
      await runStComs2tCommand(options, (text) => process.stdout.write(text));
    });
}
