/**
 * `modelevo evolve <evolve.yml>`: runs (or resumes) an evolution run — a strategy proposing merges of the
 * configured models, scored on development data, stored so that a crashed or killed run continues with
 * `--resume` without losing or repeating an evaluation. Writes the best model, the mergekit YAML that
 * reproduces it (recipe strategies) and report.md/report.html into the run directory.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { addSchemaOptions, flag, hiddenFlag, parseCommandOptions } from '../schema-options.js';
import { ConfigError } from '../../core/errors.js';
import { loadEvolveConfig, type EvolveConfig } from '../../evolve/config.js';
import { buildFitness } from '../../evolve/fitness/build.js';
import { referenceFitness } from '../../evolve/references.js';
import { EVOLVE_STRATEGY_NAMES } from '../../evolve/registry.js';
import { runEvolution, type EvolveSummary } from '../../evolve/run.js';
import { writeRunReport } from '../../runs/report.js';
import { RunStore } from '../../runs/store.js';
import { parseQueueUrl, redactQueueUrl } from '../../queue/redis-url.js';
import { queueRunEvaluation } from '../../queue/run-evaluation.js';
import { parseIntegerFlag, watchLiveLine } from '../options.js';

/** One declaration per flag; --budget stays text here and is checked by parseIntegerFlag (its message names the flag). */
export const EvolveCommandOptionsSchema = z.object({
  runDir: flag(z.string().optional(), 'where the run is stored (default runs/<name>-<timestamp>)', '<dir>'),
  resume: flag(z.boolean().default(false), 'continue the run in --run-dir after a crash or kill, without repeating evaluations'),
  budget: flag(z.string().optional(), 'maximum number of fitness evaluations (overrides the config)', '<n>'),
  json: flag(z.boolean().default(false), 'print one JSON summary on stdout'),
  queue: flag(z.string().optional(), 'evaluate on `modelevo worker`s through Redis: redis://[user:password@]host:port[/db] (never printed or stored)', '<url>'),
  maxInFlight: flag(z.string().optional(), 'jobs of this run in the queue at once (default 2 × the workers seen at start)', '<n>'),
  queueName: hiddenFlag(z.string().optional(), 'the BullMQ queue (tests isolate themselves)', '<name>'),
  queuePollMs: hiddenFlag(z.string().optional(), 'how often pending jobs are re-read in case an event was lost (ms, default 5000)', '<ms>'),
});
export type EvolveCommandOptions = z.input<typeof EvolveCommandOptionsSchema>;

function defaultRunDir(config: EvolveConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return join('runs', `${config.name}-${stamp}`);
}

export async function runEvolveCommand(configPath: string, raw: EvolveCommandOptions): Promise<EvolveSummary> {
  const options = parseCommandOptions(EvolveCommandOptionsSchema, raw, 'modelevo evolve options');
  let config = loadEvolveConfig(resolve(configPath));
  if (options.budget !== undefined) {
    config = { ...config, budget: parseIntegerFlag(options.budget, '--budget', 1) };
  }
  if (options.resume && !options.runDir) {
    throw new ConfigError([{ path: ['--run-dir'], message: '--resume needs the --run-dir of the run to continue' }], { hint: 'modelevo runs list shows the runs' });
  }
  if (options.queue === undefined && (options.maxInFlight !== undefined || options.queueName !== undefined)) {
    throw new ConfigError([{ path: ['--max-in-flight'], message: 'only applies with --queue' }], { hint: 'modelevo evolve cfg.yml --queue redis://host:6379 --max-in-flight 8' });
  }
  if (options.queue !== undefined) parseQueueUrl(options.queue); // a malformed URL is refused before a run is created
  const runDir = resolve(options.runDir ?? defaultRunDir(config));
  const remote = options.queue === undefined ? undefined : queueRunEvaluation({
    url: options.queue,
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: parseIntegerFlag(options.maxInFlight, '--max-in-flight', 1) }),
    ...(options.queueName === undefined ? {} : { queueName: options.queueName }),
    ...(options.queuePollMs === undefined ? {} : { pollIntervalMs: parseIntegerFlag(options.queuePollMs, '--queue-poll-ms', 10) }),
    fitness: config.fitness,
    models: config.models,
    ...(config.base_model === undefined ? {} : { baseModel: config.base_model }),
    cwd: process.cwd(),
    onStart: ({ maxInFlight, workers }) => {
      if (!options.json) process.stderr.write(`  evaluating on ${redactQueueUrl(options.queue!)}: ${maxInFlight} jobs in flight${workers === undefined ? '' : ` (${workers} worker${workers === 1 ? '' : 's'} seen)`}\n`);
    },
  });
  const fitness = await buildFitness(config, process.cwd());
  const quiet = options.json;
  if (!quiet) process.stderr.write(`${watchLiveLine(runDir)}\n`);
  const started = Date.now();
  try {
    const summary = await runEvolution({
      config,
      runDir,
      resume: options.resume ?? false,
      fitness,
      ...(remote ? { remote } : {}),
      onProgress: quiet
        ? undefined
        : (p) =>
            process.stderr.write(
              `  step ${p.step} · ${p.evaluations}/${config.budget} evaluations${p.reused ? ` (${p.reused} reused)` : ''} · best ${p.best?.toFixed(4) ?? 'n/a'} · ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
            ),
    });
    const references = await referenceFitness(config, fitness, process.cwd());
    const store = RunStore.open(runDir);
    try {
      // the dashboard draws them as the static reference lines (modelevo ui)
      if (references.length > 0) store.event('references', { references });
      writeRunReport({
        store,
        objective: summary.objective,
        bestKey: summary.best?.key,
        references,
        ...(summary.geneNames ? { geneNames: summary.geneNames } : {}),
        notes: [
          `stop reason: ${summary.stopReason}`,
          `time: ${summary.seconds.total.toFixed(1)} s total, ${summary.seconds.merge.toFixed(1)} s merging, ${summary.seconds.evaluate.toFixed(1)} s evaluating (framework overhead ${(100 * summary.seconds.overheadFraction).toFixed(1)}%)`,
        ],
      });
    } finally {
      store.close();
    }
    if (quiet) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        [
          `run ${summary.runDir}: ${summary.evaluations} evaluations (${summary.evaluatedThisSession} now, ${summary.reused} reused), stopped: ${summary.stopReason}`,
          summary.best ? `best: ${summary.best.description} → fitness ${summary.best.fitness.toFixed(5)}` : 'no successful evaluation',
          ...(summary.best?.output ? [`best model: ${summary.best.output}`] : []),
          ...(summary.best?.recipeFile ? [`recipe:     ${summary.best.recipeFile}`] : []),
          `report:     ${join(summary.runDir, 'report.md')} and report.html`,
        ].join('\n') + '\n',
      );
    }
    return summary;
  } finally {
    await fitness.close?.();
  }
}

export function registerEvolveCommand(program: Command): void {
  const command = program
    .command('evolve')
    .description(`evolve a better model out of existing ones (strategies: ${EVOLVE_STRATEGY_NAMES.join(', ')})`)
    .argument('<evolve.yml>', 'evolution config: models, base_model, strategy, fitness, budget (see docs/evolve.md)');
  addSchemaOptions(command, EvolveCommandOptionsSchema)
    .addHelpText(
      'after',
      `
Examples:
  modelevo evolve examples/evolve/cma-es.yml --run-dir runs/cma
  modelevo evolve examples/evolve/cma-es.yml --run-dir runs/cma --resume     # after a crash
  modelevo evolve examples/evolve/cma-es.yml --run-dir runs/cma --queue redis://10.0.0.5:6379/0   # on modelevo workers
  modelevo runs show runs/cma`,
    )
    .action(async (configPath: string, options: EvolveCommandOptions) => {
      await runEvolveCommand(configPath, options);
    });
}
