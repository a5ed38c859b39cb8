/**
 * `modelevo st train --data <dir> [--epochs] [--run-dir [--resume]] [--json]`: Graph WaveNet against the
 * last-value and historical-average baselines on a traffic folder (series CSV + adjacency CSV), 12-in/12-out,
 * 7:1:2 split, masked MAE / RMSE / MAPE at horizons 3, 6, 12 (spatiotemporal.md). With --run-dir the run is
 * stored like every run (kind `st-train`: options, one record per epoch, best and last weights, results) and an
 * interrupted run continues with --resume. The SynEVO / ComS2T verbs register in their own files.
 */
import { resolve } from 'node:path';
import { examplesHelp, watchLiveLine } from '../options.js';
import { addSchemaOptions, flag } from '../schema-options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { renderResultsTable, runTrafficExperiment, type TrafficExperimentResult } from '../../spatiotemporal/experiment.js';
import { registerStSynevoCommand } from './st-synevo.js';
import { registerStComs2tCommand } from './st-coms2t.js';
import type { EpochRecord, GwnTrainOptions } from '../../spatiotemporal/gwn-trainer.js';
import { StRun } from '../../spatiotemporal/run-record.js';
import { epochLine, gwnWidthFields, gwnWidthOf, positiveInt, seedField, storedRunNote, workersFields, workersOf, jsonFields, type GwnWidthDefaults } from './st-common.js';

/** the paper's widths */
const WIDTHS: GwnWidthDefaults = { residual: 32, skip: 256, end: 512 };

export const StTrainOptionsSchema = z.object({
  data: flag(z.string(), 'folder with the series CSV (los_speed.csv | speed.csv | series.csv) and adjacency CSV (los_adj.csv | adj.csv | adjacency.csv)', '<dir>'),
  epochs: flag(positiveInt.default(100), 'maximum epochs', '<n>'),
  batchSize: flag(positiveInt.default(64), 'minibatch size', '<n>'),
  lr: flag(z.coerce.number().positive().default(1e-3), 'Adam learning rate', '<x>'),
  seed: flag(seedField, 'seed for init, batch order and dropout', '<n>'),
  maxSeconds: flag(z.coerce.number().positive().optional(), 'stop training after this many seconds (reduced budgets)', '<s>'),
  patience: flag(positiveInt.optional(), 'early stopping: stop after n epochs without a better validation MAE (the best epoch is kept)', '<n>'),
  ...gwnWidthFields(WIDTHS),
  runDir: flag(z.string().optional(), 'store the run here: run.sqlite (options, one record per epoch) and artifacts/ (model.safetensors = best validation epoch, results.json)', '<dir>'),
  resume: flag(z.boolean().default(false), 'continue the interrupted run in --run-dir from its last recorded epoch (same options; Adam restarts)'),
  ...workersFields,
  ...jsonFields,
});
export type StTrainOptions = z.input<typeof StTrainOptionsSchema>;

/** Test seam: called after each epoch is stored (a test throws here to simulate a crash). */
export interface StTrainHooks {
  readonly afterEpochStored?: (epoch: number) => void;
}

export async function runStTrainCommand(raw: StTrainOptions, write: (text: string) => void, hooks: StTrainHooks = {}): Promise<TrafficExperimentResult> {
  const o = parseWithSchema(StTrainOptionsSchema, raw, 'modelevo st train options');
  if (o.resume && !o.runDir) throw new ConfigError([{ path: ['resume'], message: '--resume needs --run-dir (the run to continue)' }], { source: 'modelevo st train options' });
  // everything that determines the numbers; a resumed run must match it
  const runConfig = { ...o, data: resolve(o.data), runDir: undefined, resume: undefined, json: undefined };
  const run = o.runDir ? StRun.open(o.runDir, { kind: 'st-train', seed: o.seed, config: runConfig, resume: o.resume }) : undefined;
  if (o.runDir && !o.json) process.stderr.write(`${watchLiveLine(o.runDir)}\n`);
  try {
    const progress = o.json ? undefined : (r: EpochRecord) => process.stderr.write(`${epochLine(r)}\n`);
    const trained = await runTrafficExperiment(
      o.data,
      {
        seed: o.seed,
        epochs: o.epochs,
        batchSize: o.batchSize,
        learningRate: o.lr,
        ...(o.maxSeconds === undefined ? {} : { maxSeconds: o.maxSeconds }),
        ...(o.patience === undefined ? {} : { patience: o.patience }),
        config: gwnWidthOf(o),
        workers: workersOf(o),
        onEpoch: progress,
        ...(run ? recordingOptions(run, progress, hooks) : {}),
      },
      run?.artifactsDir,
    );
    // a resumed run reports its whole history: the stored epochs before this process, then the new ones
    const earlier = run?.resumed ? run.epochs().filter((r) => r.epoch < (trained.history[0]?.epoch ?? Infinity)) : [];
    const result = earlier.length === 0 ? trained : {
      ...trained,
      history: [...earlier.map((r) => ({ epoch: r.epoch, trainLoss: r.metrics?.trainLoss ?? Number.NaN, valMae: r.valMae, seconds: r.seconds })), ...trained.history],
    };
    run?.finish(result);
    if (o.json) write(`${JSON.stringify(result)}\n`);
    else {
      write(`${result.sensors} sensors × ${result.steps} steps; samples train/val/test ${result.split.train}/${result.split.val}/${result.split.test}; GWN best epoch ${result.bestEpoch} of ${result.history.length} (${result.stopReason}), ${result.trainSeconds.toFixed(0)} s\n\n`);
      write(`${renderResultsTable(result.results)}\n`);
      if (o.runDir) write(storedRunNote(o.runDir, 'artifacts/model.safetensors, artifacts/results.json'));
    }
    return result;
  } catch (error) {
    run?.fail(error);
    throw error;
  }
}

/**
 * Epoch records and weights into the run store, and — for a resumed run — the start point: the last recorded
 * epoch's weights (BatchNorm statistics included; Adam's moments start afresh) and the best epoch so far.
 */
function recordingOptions(run: StRun, progress: ((r: EpochRecord) => void) | undefined, hooks: StTrainHooks): Partial<GwnTrainOptions> {
  let pending: EpochRecord | undefined;
  let bestMae = Math.min(Infinity, ...run.epochs().map((r) => r.valMae));
  const options: Partial<GwnTrainOptions> = {
    onEpoch: (record) => {
      pending = record;
      progress?.(record);
    },
    onEpochWeights: (epoch, weights) => {
      const record = pending!;
      run.recordEpoch({ epoch, valMae: record.valMae, seconds: record.seconds, metrics: { trainLoss: record.trainLoss, ...(record.trainMae === undefined ? {} : { trainMae: record.trainMae }) } }, { weights });
      if (record.valMae < bestMae) {
        bestMae = record.valMae;
        run.saveWeights('best-epoch', undefined, weights, { epoch: String(epoch) });
      }
      hooks.afterEpochStored?.(epoch);
    },
  };
  const last = run.resumed ? run.lastEpoch() : undefined;
  if (!last) return options;
  const best = run.loadWeights('best-epoch');
  return {
    ...options,
    firstEpoch: last.epoch + 1,
    session: { initialWeights: last.weights },
    ...(best ? { initialBest: { epoch: Number(best.metadata.epoch), valMae: bestMae, weights: best.weights } } : {}),
  };
}

export function registerStCommand(program: Command): void {
  const st = program
    .command('st')
    .description('Spatiotemporal forecasting on sensor networks (Graph WaveNet, baselines)')
    .addHelpText('after', examplesHelp(['modelevo st train --data test/fixtures/metr-la-subset --epochs 2', 'modelevo st synevo --help']));
  const train = st.command('train')
    .description('train Graph WaveNet and compare it with last-value and historical-average baselines (masked MAE/RMSE/MAPE at horizons 3/6/12)');
  addSchemaOptions(train, StTrainOptionsSchema)
    .addHelpText(
      'after',
      `
The data folder holds a series CSV (header row of sensor ids, one row of readings per time step, 0 = missing)
and an N×N adjacency CSV in the header's sensor order. Samples are 12 input → 12 target steps, split 7:1:2 in
time; the model is chosen on the validation split and scored once on the test split.

Examples:
  modelevo st train --data test/fixtures/metr-la-subset --residual-channels 8 --skip-channels 32 \\
      --end-channels 64 --batch-size 16 --lr 0.003 --max-seconds 600            # small budget, ~10 min
  modelevo st train --data my-city/ --epochs 100 --run-dir runs/my-city       # paper widths, stored run
  modelevo st train --data my-city/ --epochs 100 --run-dir runs/my-city --resume   # after a crash or kill
  modelevo runs show runs/my-city`,
    )
    .action(async (options: StTrainOptions) => {
      await runStTrainCommand(options, (text) => process.stdout.write(text));
    });
  registerStSynevoCommand(st);
  registerStComs2tCommand(st);
}
