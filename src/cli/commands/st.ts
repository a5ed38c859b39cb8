/**
 * `modelevo st train --data <dir> [--epochs] [--run-dir] [--json]`: Graph WaveNet against the last-value and
 * historical-average baselines on a traffic folder (series CSV + adjacency CSV), 12-in/12-out, 7:1:2 split,
 * masked MAE / RMSE / MAPE at horizons 3, 6, 12 (spatiotemporal.md). SynEVO and ComS2T verbs come later.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { useBackend } from '../../train/tf.js';
import { renderResultsTable, runTrafficExperiment, type TrafficExperimentResult } from '../../spatiotemporal/experiment.js';
import { registerStSynevoCommand } from './st-synevo.js';
import { registerStComs2tCommand } from './st-coms2t.js';

const positiveInt = z.coerce.number().int().positive();

export const StTrainOptionsSchema = z.object({
  data: z.string(),
  epochs: positiveInt.default(100),
  batchSize: positiveInt.default(64),
  lr: z.coerce.number().positive().default(1e-3),
  seed: z.coerce.number().int().min(0).default(0),
  maxSeconds: z.coerce.number().positive().optional(),
  residualChannels: positiveInt.default(32),
  skipChannels: positiveInt.default(256),
  endChannels: positiveInt.default(512),
  runDir: z.string().optional(),
  backend: z.enum(['wasm', 'cpu']).default('wasm'),
  json: z.boolean().default(false),
});
export type StTrainOptions = z.input<typeof StTrainOptionsSchema>;

export async function runStTrainCommand(raw: StTrainOptions, write: (text: string) => void): Promise<TrafficExperimentResult> {
  const parsed = StTrainOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: issue.message })),
      { source: 'modelevo st train options' },
    );
  }
  const o = parsed.data;
  await useBackend(o.backend);
  const result = await runTrafficExperiment(
    o.data,
    {
      seed: o.seed,
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.lr,
      ...(o.maxSeconds === undefined ? {} : { maxSeconds: o.maxSeconds }),
      config: { residualChannels: o.residualChannels, dilationChannels: o.residualChannels, skipChannels: o.skipChannels, endChannels: o.endChannels },
      onEpoch: o.json ? undefined : (r) => process.stderr.write(`epoch ${r.epoch}: train masked MAE ${r.trainLoss.toFixed(3)}, val MAE ${r.valMae.toFixed(3)} (${r.seconds.toFixed(1)} s)\n`),
    },
    o.runDir,
  );
  if (o.json) write(`${JSON.stringify(result)}\n`);
  else {
    write(`${result.sensors} sensors × ${result.steps} steps; samples train/val/test ${result.split.train}/${result.split.val}/${result.split.test}; GWN best epoch ${result.bestEpoch} of ${result.history.length}, ${result.trainSeconds.toFixed(0)} s\n\n`);
    write(`${renderResultsTable(result.results)}\n`);
  }
  return result;
}

export function registerStCommand(program: Command): void {
  const st = program.command('st').description('Spatiotemporal forecasting on sensor networks (Graph WaveNet, baselines)');
  st.command('train')
    .description('train Graph WaveNet and compare it with last-value and historical-average baselines (masked MAE/RMSE/MAPE at horizons 3/6/12)')
    .requiredOption('--data <dir>', 'folder with the series CSV (los_speed.csv | speed.csv | series.csv) and adjacency CSV (los_adj.csv | adj.csv | adjacency.csv)')
    .option('--epochs <n>', 'maximum epochs', '100')
    .option('--batch-size <n>', 'minibatch size', '64')
    .option('--lr <x>', 'Adam learning rate', '0.001')
    .option('--seed <n>', 'seed for init, batch order and dropout', '0')
    .option('--max-seconds <s>', 'stop training after this many seconds (reduced budgets)')
    .option('--residual-channels <n>', 'residual and dilation channels', '32')
    .option('--skip-channels <n>', 'skip channels', '256')
    .option('--end-channels <n>', 'output-head hidden channels', '512')
    .option('--run-dir <dir>', 'write model.safetensors and results.json here')
    .option('--backend <name>', 'tfjs backend: wasm or cpu', 'wasm')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: StTrainOptions) => {
      await runStTrainCommand(options, (text) => process.stdout.write(text));
    });
  registerStSynevoCommand(st);
  registerStComs2tCommand(st);
}
