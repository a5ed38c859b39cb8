/**
 * `modelevo continual run --method naive|gpm|sgp|fs-dgpm --benchmark pfmnist|split-fmnist [--seeds 3]`:
 * gradient-projection continual learning on Fashion-MNIST task streams (fs-dgpm.md). Prints the accuracy
 * matrix per seed and ACC / BWT / forgetting as mean ± std, or `--json`. With `--run-dir` the run is stored
 * through openRun (events: continual/run-events.ts) and `--resume` continues it.
 */
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { addSchemaOptions, flag } from '../schema-options.js';
import { CONTINUAL_METHODS } from '../../continual/config.js';
import { formatPercent, runExperiment, type ExperimentResult } from '../../continual/experiment.js';
import { DEFAULT_FASHION_MNIST_DIR } from '../../tasks/fashion-mnist/streams.js';
import type { ContinualRunResult } from '../../continual/run.js';
import { CONTINUAL_RUN_KIND, CONTINUAL_SEED_EVENT, CONTINUAL_TASK_EVENT, completedSeeds, type ContinualSeedEvent, type ContinualTaskEvent } from '../../continual/run-events.js';
import { withStoredRun } from './st-stored-run.js';

const positiveInt = z.coerce.number().int().positive();

/** One declaration per flag; the hyperparameters left out keep config.ts defaults. */
export const ContinualCommandOptionsSchema = z.object({
  method: flag(z.enum(CONTINUAL_METHODS), `one of ${CONTINUAL_METHODS.join(', ')}`, '<name>'),
  benchmark: flag(z.enum(['pfmnist', 'split-fmnist']), 'pfmnist (10 permuted tasks) or split-fmnist (5 two-class tasks)', '<name>'),
  seeds: flag(positiveInt.default(3), 'number of seeds', '<n>'),
  firstSeed: flag(z.coerce.number().int().min(0).default(0), 'first seed', '<n>'),
  epochs: flag(positiveInt.optional(), 'epochs per task (default 1)', '<n>'),
  trainPerTask: flag(positiveInt.optional(), 'training examples per task (default 2000)', '<n>'),
  testPerTask: flag(positiveInt.optional(), 'test examples per task (default 2000)', '<n>'),
  batchSize: flag(positiveInt.optional(), 'minibatch size (default 10)', '<n>'),
  lr: flag(z.coerce.number().positive().optional(), 'SGD learning rate (default 0.1)', '<x>'),
  glances: flag(positiveInt.optional(), "FS-DGPM only: updates per incoming batch (default 1; the paper's PMNIST setting: 5)", '<n>'),
  momentum: flag(z.coerce.number().min(0).lt(1).optional(), "FS-DGPM only: SGD momentum (default 0; the paper's PMNIST setting: 0.9)", '<x>'),
  dataDir: flag(z.string().default(DEFAULT_FASHION_MNIST_DIR), 'folder with the Fashion-MNIST idx files', '<dir>'),
  backend: flag(z.enum(['wasm', 'cpu']).default('wasm'), 'engine kernels: wasm (SIMD) or cpu (plain TypeScript reference)', '<name>'),
  json: flag(z.boolean().default(false), 'print JSON instead of tables'),
  runDir: flag(z.string().optional(), 'store the run (config, accuracy rows, bases per task, results) in this folder', '<dir>'),
  resume: flag(z.boolean().default(false), 'continue the interrupted run in --run-dir: finished seeds are kept, the others train again'),
});
export type ContinualCommandOptions = z.input<typeof ContinualCommandOptionsSchema>;

export async function runContinualCommand(raw: ContinualCommandOptions, write: (text: string) => void): Promise<ExperimentResult> {
  const parsed = ContinualCommandOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: issue.message })),
      { source: 'modelevo continual run options' },
    );
  }
  const o = parsed.data;
  const defined = <T extends object>(value: T): Partial<T> => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
  const config = { method: o.method, benchmark: o.benchmark, ...defined({ epochs: o.epochs, trainPerTask: o.trainPerTask, testPerTask: o.testPerTask, batchSize: o.batchSize, lr: o.lr, glances: o.glances, momentum: o.momentum }) };
  // what determines the numbers (compared on --resume); the data folder's path and output format do not
  const storedConfig = { ...config, seeds: o.seeds, firstSeed: o.firstSeed, backend: o.backend };
  return withStoredRun({ runDir: o.runDir, kind: CONTINUAL_RUN_KIND, seed: o.firstSeed, config: storedConfig, json: o.json, resume: o.resume }, async (stored) => {
    const kept = stored.store ? completedSeeds(stored.store.events()) : new Map<number, ContinualRunResult>();
    const result = await runExperiment({
      config,
      seeds: o.seeds,
      firstSeed: o.firstSeed,
      dataDir: o.dataDir,
      backend: o.backend,
      completed: (seed) => kept.get(seed),
      onSeed: (run) => stored.event(CONTINUAL_SEED_EVENT, { result: run } satisfies ContinualSeedEvent),
      hooks: (seed) => ({
        onTask: (task, row, seconds, view) => {
          stored.event(CONTINUAL_TASK_EVENT, { seed, task, row, seconds, basisSizes: view.strategy.basisSizes() } satisfies ContinualTaskEvent);
          if (!o.json) process.stderr.write(`seed ${seed} task ${task}: ${seconds.toFixed(1)} s, mean accuracy so far ${(100 * mean(row.slice(0, task + 1))).toFixed(1)}%\n`);
        },
      }),
    });
    const output = { method: result.method, benchmark: result.benchmark, acc: result.acc, bwt: result.bwt, bwtAll: result.bwtAll, forgetting: result.forgetting, runs: result.runs.map((r) => ({ seed: r.seed, accuracy: r.accuracy, summary: r.summary, secondsPerTask: r.secondsPerTask, basisSizes: r.basisSizes })) };
    stored.finish(output);
    write(o.json ? `${JSON.stringify(output)}\n` : renderExperiment(result));
    return result;
  });
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
}

export function renderExperiment(result: ExperimentResult): string {
  const lines: string[] = [`${result.method} on ${result.benchmark}, ${result.runs.length} seed(s)`];
  for (const run of result.runs) {
    lines.push('', `seed ${run.seed}: accuracy matrix R[i][j] (%) — row i = after training task i, column j = task j`);
    for (const row of run.accuracy) lines.push(`  ${row.map((v) => (100 * v).toFixed(1).padStart(5)).join(' ')}`);
    lines.push(`  bases per layer: ${run.basisSizes.join(' / ')}`);
  }
  lines.push(
    '',
    `ACC        ${formatPercent(result.acc)} %`,
    `BWT        ${formatPercent(result.bwt)} %   (mean over earlier tasks; FS-DGPM's all-tasks convention: ${formatPercent(result.bwtAll)} %)`,
    `forgetting ${formatPercent(result.forgetting)} %`,
    `time/task  ${result.secondsPerTask.toFixed(2)} s`,
    '',
  );
  return lines.join('\n');
}

export function registerContinualCommand(program: Command): void {
  const continual = program
    .command('continual')
    .description('Continual learning with gradient projection (GPM, SGP, FS-DGPM) on Fashion-MNIST streams')
    .addHelpText('after', examplesHelp(['modelevo continual run --method gpm --benchmark pfmnist --seeds 1']));
  const run = continual
    .command('run')
    .description('train a method task after task and report ACC / BWT / forgetting over seeds')
    .addHelpText('after', examplesHelp([
      'modelevo continual run --method gpm --benchmark pfmnist --seeds 1',
      'modelevo continual run --method fs-dgpm --benchmark split-fmnist --json',
      'modelevo continual run --method sgp --benchmark pfmnist --run-dir runs/sgp-pfmnist   # add --resume after an interruption',
    ]));
  addSchemaOptions(run, ContinualCommandOptionsSchema)
    .action(async (options: ContinualCommandOptions) => {
      await runContinualCommand(options, (text) => process.stdout.write(text));
    });
}
