/**
 * `modelevo continual run --method naive|gpm|sgp|fs-dgpm --benchmark pfmnist|split-fmnist [--seeds 3]`:
 * gradient-projection continual learning on Fashion-MNIST task streams (fs-dgpm.md). Prints the accuracy
 * matrix per seed and ACC / BWT / forgetting as mean ± std, or `--json`.
 */
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { CONTINUAL_METHODS } from '../../continual/config.js';
import { formatPercent, runExperiment, type ExperimentResult } from '../../continual/experiment.js';
import { DEFAULT_FASHION_MNIST_DIR } from '../../tasks/fashion-mnist/streams.js';

const positiveInt = z.coerce.number().int().positive();

/** Every key has a flag (registerContinualCommand); the remaining hyperparameters keep config.ts defaults. */
export const ContinualCommandOptionsSchema = z.object({
  method: z.enum(CONTINUAL_METHODS),
  benchmark: z.enum(['pfmnist', 'split-fmnist']),
  seeds: positiveInt.default(3),
  firstSeed: z.coerce.number().int().min(0).default(0),
  epochs: positiveInt.optional(),
  trainPerTask: positiveInt.optional(),
  testPerTask: positiveInt.optional(),
  batchSize: positiveInt.optional(),
  lr: z.coerce.number().positive().optional(),
  glances: positiveInt.optional(),
  momentum: z.coerce.number().min(0).lt(1).optional(),
  dataDir: z.string().default(DEFAULT_FASHION_MNIST_DIR),
  backend: z.enum(['wasm', 'cpu']).default('wasm'),
  json: z.boolean().default(false),
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
  const result = await runExperiment({
    config: { method: o.method, benchmark: o.benchmark, ...defined({ epochs: o.epochs, trainPerTask: o.trainPerTask, testPerTask: o.testPerTask, batchSize: o.batchSize, lr: o.lr, glances: o.glances, momentum: o.momentum }) },
    seeds: o.seeds,
    firstSeed: o.firstSeed,
    dataDir: o.dataDir,
    backend: o.backend,
    hooks: (seed) => ({
      onTask: o.json ? undefined : (task, row, seconds) => process.stderr.write(`seed ${seed} task ${task}: ${seconds.toFixed(1)} s, mean accuracy so far ${(100 * mean(row.slice(0, task + 1))).toFixed(1)}%\n`),
    }),
  });
  if (o.json) {
    write(`${JSON.stringify({ method: result.method, benchmark: result.benchmark, acc: result.acc, bwt: result.bwt, bwtAll: result.bwtAll, forgetting: result.forgetting, runs: result.runs.map((r) => ({ seed: r.seed, accuracy: r.accuracy, summary: r.summary, secondsPerTask: r.secondsPerTask, basisSizes: r.basisSizes })) })}\n`);
  } else {
    write(renderExperiment(result));
  }
  return result;
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
  continual
    .command('run')
    .description('train a method task after task and report ACC / BWT / forgetting over seeds')
    .addHelpText('after', examplesHelp([
      'modelevo continual run --method gpm --benchmark pfmnist --seeds 1',
      'modelevo continual run --method fs-dgpm --benchmark split-fmnist --json',
    ]))
    .requiredOption('--method <name>', `one of ${CONTINUAL_METHODS.join(', ')}`)
    .requiredOption('--benchmark <name>', 'pfmnist (10 permuted tasks) or split-fmnist (5 two-class tasks)')
    .option('--seeds <n>', 'number of seeds', '3')
    .option('--first-seed <n>', 'first seed', '0')
    .option('--epochs <n>', 'epochs per task (default 1)')
    .option('--train-per-task <n>', 'training examples per task (default 2000)')
    .option('--test-per-task <n>', 'test examples per task (default 2000)')
    .option('--batch-size <n>', 'minibatch size (default 10)')
    .option('--lr <x>', 'SGD learning rate (default 0.1)')
    .option('--glances <n>', 'FS-DGPM only: updates per incoming batch (default 1; the paper\'s PMNIST setting: 5)')
    .option('--momentum <x>', 'FS-DGPM only: SGD momentum (default 0; the paper\'s PMNIST setting: 0.9)')
    .option('--data-dir <dir>', 'folder with the Fashion-MNIST idx files', DEFAULT_FASHION_MNIST_DIR)
    .option('--backend <name>', 'engine kernels: wasm (SIMD) or cpu (plain TypeScript reference)', 'wasm')
    .option('--json', 'print JSON instead of tables')
    .action(async (options: ContinualCommandOptions) => {
      await runContinualCommand(options, (text) => process.stdout.write(text));
    });
}
