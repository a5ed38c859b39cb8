/**
 * `modelevo anomaly evolve|score`: AD-NEv multi-level neuroevolution of anomaly detectors (ad-nev.md).
 * The training engine (src/nn) is imported lazily inside the actions so other verbs start without it.
 */
import { examplesHelp, watchLiveLine } from '../options.js';
import { writeChannelSeries } from '../../ui/channel-series.js';
import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelevoError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { addSchemaOptions, flag } from '../schema-options.js';

export const AnomalyEvolveOptionsSchema = z.object({
  dataset: flag(z.string().min(1), 'smap, msl, or a training CSV (header row; optional timestamp and label columns)', '<name>'),
  channels: flag(z.string().optional(), 'comma-separated SMAP/MSL channel ids (default: all)', '<ids>'),
  budget: flag(z.enum(['tiny', 'small', 'paper']).default('small'), 'tiny | small | paper', '<preset>'),
  runDir: flag(z.string().min(1).default('runs/anomaly'), 'run directory', '<dir>'),
  resume: flag(z.boolean().default(false), 'continue the run in --run-dir'),
  dataDir: flag(z.string().optional(), 'SMAP/MSL folder or smap-msl.tar.gz (default ../shared/data)', '<dir>'),
  test: flag(z.string().optional(), 'CSV dataset only: a test CSV (a 0/1 label column enables metrics)', '<csv>'),
  impute: flag(z.enum(['reject', 'ffill']).default('reject'), 'non-finite CSV values: reject | ffill', '<policy>'),
  workers: flag(z.coerce.number().int().min(0).optional(), 'engine worker threads (default 2)', '<n>'),
  seed: flag(z.coerce.number().int().default(0), 'run seed', '<n>'),
  threshold: flag(z.enum(['pot', 'percentile']).default('pot'), 'pot | percentile (both are reported)', '<method>'),
  /** absent: the config default (adNevConfigSchema) */
  vote: flag(z.enum(['majority', 'any', 'mean']).optional(), 'any (default) | majority | mean (normalised member scores, one threshold)', '<rule>'),
  convention: flag(z.enum(['inclusive', 'exclusive']).default('inclusive'), 'label range ends: inclusive | exclusive', '<c>'),
  /** absent: the budget's value */
  finalEpochs: flag(z.coerce.number().int().min(0).optional(), 'final re-training epochs after level 2 (0 = off; the paper budget uses 70)', '<n>'),
  subspaceScope: flag(z.enum(['channel', 'dataset']).default('channel'), 'level 1 per channel, or one subspace set per dataset', '<scope>'),
});

export const AnomalyScoreOptionsSchema = z.object({
  data: flag(z.string().optional(), 'a CSV with the training columns', '<csv>'),
  channel: flag(z.string().optional(), 'channel of the run (SMAP/MSL: scores its test series when --data is absent)', '<id>'),
  level: flag(z.enum(['untrained', 'baseline', 'level1', 'level2', 'level3']).default('level3'), 'untrained | baseline | level1 | level2 | level3', '<level>'),
  out: flag(z.string().optional(), 'write the CSV here instead of stdout', '<file>'),
  impute: flag(z.enum(['reject', 'ffill']).default('reject'), 'non-finite CSV values: reject | ffill', '<policy>'),
  workers: flag(z.coerce.number().int().min(0).optional(), 'engine worker threads (default 2)', '<n>'),
});

export async function runAnomalyEvolve(raw: z.input<typeof AnomalyEvolveOptionsSchema>, write: (line: string) => void): Promise<void> {
  const options = parseWithSchema(AnomalyEvolveOptionsSchema, raw, 'modelevo anomaly evolve options');
  const { adNevConfigSchema, BUDGETS } = await import('../../neuro/ad-nev/config.js');
  const { runAdNev } = await import('../../neuro/ad-nev/run.js');
  if (existsSync(join(options.runDir, 'anomaly.json')) && !options.resume) {
    throw new ModelevoError('CONFIG_INVALID', `run directory ${options.runDir} already holds an anomaly run`, { hint: 'pass --resume to continue it, or choose another --run-dir' });
  }
  const config = adNevConfigSchema.parse({
    ...BUDGETS[options.budget],
    seed: options.seed,
    // the flag picks the method; q, level and percentile keep the config's defaults (written once, in config.ts)
    threshold: { ...adNevConfigSchema.shape.threshold.parse(undefined), method: options.threshold },
    ...(options.vote ? { vote: options.vote } : {}),
    convention: options.convention,
    subspaceScope: options.subspaceScope,
    ...(options.finalEpochs === undefined ? {} : { finalEpochs: options.finalEpochs }),
  });
  const datasetSpec = {
    dataset: options.dataset,
    ...(options.channels ? { channels: options.channels.split(',').map((c) => c.trim()).filter(Boolean) } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.test ? { testCsv: options.test } : {}),
    impute: options.impute,
  };
  process.stderr.write(`${watchLiveLine(options.runDir)}\n`);
  const { reports, outputs } = await runAdNev({
    runDir: options.runDir,
    config,
    dataset: datasetSpec,
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    log: (message) => process.stderr.write(`${message}\n`),
  });
  // the dashboard's channel view (modelevo ui): each labelled channel's test series, score and alarms
  const { loadDataset } = await import('../../neuro/ad-nev/run.js');
  for (const input of loadDataset(datasetSpec, config.convention)) {
    const output = outputs.get(input.id);
    if (!output || !input.test) continue;
    const test = input.test;
    writeChannelSeries(join(options.runDir, input.id), {
      features: test.names.map((_, c) => Float64Array.from({ length: test.rows }, (_, t) => test.values[t * test.columns + c]!)),
      featureNames: test.names,
      labels: output.labels,
      levels: [...output.levels].map(([level, out]) => ({ level, score: out.score, alarms: out.decisions[config.vote], thresholds: { ...out.ensembleThresholds } })),
    });
  }
  const method = options.threshold;
  write(`channel  level     val-error   ${method}-P   ${method}-R   ${method}-F1  event-F1  PA-F1  alarms  oracle-F1`);
  for (const report of reports)
    for (const level of report.levels) {
      const m = level.metrics;
      const cell = (key: string): string => (m && m[key] !== undefined ? m[key]!.toFixed(3) : '  –  ');
      write(`${report.id.padEnd(8)} ${level.level.padEnd(9)} ${level.validationFitness.toExponential(3)}  ${cell(`${method}_precision`)}   ${cell(`${method}_recall`)}   ${cell(`${method}_f1`)}   ${cell(`${method}_event_f1`)}     ${cell(`${method}_pa_f1`)}  ${cell(`${method}_alarm_rate`)}   ${cell('oracle_f1')}`);
    }
  write(`run stored in ${options.runDir} (results.json; models under <channel>/models/<level>/)`);
}

export async function runAnomalyScore(run: string, raw: z.input<typeof AnomalyScoreOptionsSchema>, write: (line: string) => void): Promise<void> {
  const options = parseWithSchema(AnomalyScoreOptionsSchema, raw, 'modelevo anomaly score options');
  const manifestPath = join(run, 'anomaly.json');
  if (!existsSync(manifestPath)) throw new ModelevoError('CHECKPOINT_NOT_FOUND', `${run} is not an anomaly run (no anomaly.json)`, { hint: 'pass the --run-dir of `modelevo anomaly evolve`' });
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dataset: { dataset: string; dataDir?: string }; config: { vote: 'majority' | 'any' | 'mean'; threshold: { method: 'pot' | 'percentile' }; convention: 'inclusive' | 'exclusive' } };
  const { loadMembers, detectionMetrics } = await import('../../neuro/ad-nev/run.js');
  const { EnginePool } = await import('../../neuro/ad-nev/pool.js');
  const { ensembleDecisions } = await import('../../neuro/ad-nev/ensemble.js');
  const { applyScaler, makeWindows, windowScoresToPoints } = await import('../../tasks/anomaly/series.js');
  let series;
  let labels: Uint8Array | undefined;
  let channel: string;
  if (options.data) {
    const { readCsvSeries } = await import('../../tasks/anomaly/csv-series.js');
    const parsed = readCsvSeries(options.data, { impute: options.impute });
    series = parsed.series;
    labels = parsed.labels;
    channel = options.channel ?? manifest.dataset.dataset.replace(/^.*\//, '').replace(/\.csv$/i, '');
  } else if (options.channel) {
    const { loadChannel, resolveSmapMslRoot } = await import('../../tasks/anomaly/smap-msl.js');
    const loaded = loadChannel(resolveSmapMslRoot(manifest.dataset.dataDir), options.channel, manifest.config.convention);
    series = loaded.test;
    labels = loaded.labels;
    channel = options.channel;
  } else {
    throw new ModelevoError('CONFIG_INVALID', 'nothing to score: pass --data <csv> or --channel <id> (its test series)', { hint: 'e.g. modelevo anomaly score runs/anomaly --channel A-1' });
  }
  const members = loadMembers(run, channel, options.level);
  if (members[0]!.columnNames.length !== series.columns) {
    throw new ModelevoError('SHAPE_MISMATCH', `the models were trained on ${members[0]!.columnNames.length} columns, the data has ${series.columns}`, { hint: `expected columns: ${members[0]!.columnNames.join(', ')}` });
  }
  const scaled = applyScaler(series, members[0]!.scaler);
  const pool = await EnginePool.create(options.workers === undefined ? {} : { workers: options.workers });
  try {
    const results = await pool.run(members.map((m) => ({ kind: 'score' as const, genome: m.genome, weights: m.weights, score: [makeWindows(scaled, m.features, m.genome.window, options.data ?? channel)] })));
    const memberScores = results.map((r, i) => {
      if (!r.ok) throw new ModelevoError('INTERNAL', `scoring member ${i} failed: ${r.error}`);
      return windowScoresToPoints(r.scores[0]!, scaled.rows, members[i]!.genome.window);
    });
    const method = manifest.config.threshold.method;
    const decisions = ensembleDecisions({ memberScores, thresholds: members.map((m) => m.thresholds), ensembleThresholds: members[0]!.ensembleThresholds }, method, manifest.config.vote);
    const lines = ['row,score,anomaly', ...Array.from(decisions.score, (s, t) => `${t},${s},${decisions.predictions[t]}`)];
    if (options.out) writeFileSync(options.out, `${lines.join('\n')}\n`);
    else lines.forEach(write);
    const alarms = decisions.predictions.reduce((a, b) => a + b, 0);
    process.stderr.write(`${channel}: ${alarms} of ${scaled.rows} rows flagged (${method} thresholds, ${manifest.config.vote} vote, ${members.length} members)\n`);
    if (labels) {
      const m = detectionMetrics(decisions.predictions, decisions.score, labels, method);
      process.stderr.write(`precision ${m[`${method}_precision`]!.toFixed(3)} recall ${m[`${method}_recall`]!.toFixed(3)} F1 ${m[`${method}_f1`]!.toFixed(3)} PA-F1 ${m[`${method}_pa_f1`]!.toFixed(3)}\n`);
    }
  } finally {
    await pool.close();
  }
}

export function registerAnomalyCommand(program: Command): void {
  const anomaly = program
    .command('anomaly')
    .description('AD-NEv: evolve and apply time-series anomaly detectors')
    .addHelpText('after', examplesHelp(['modelevo anomaly evolve --dataset smap --channels P-1 --budget tiny', 'modelevo anomaly score runs/anomaly --channel P-1']));
  const evolve = anomaly
    .command('evolve')
    .description('evolve feature subspaces, architectures and weights of a conv-autoencoder ensemble')
    .addHelpText('after', examplesHelp([
      'modelevo anomaly evolve --dataset smap --channels P-1,S-1 --budget tiny --run-dir runs/ad',
      'modelevo anomaly evolve --dataset train.csv --test test.csv --run-dir runs/ad-csv',
    ]));
  addSchemaOptions(evolve, AnomalyEvolveOptionsSchema)
    .action(async (opts: Record<string, unknown>) => runAnomalyEvolve(opts as z.input<typeof AnomalyEvolveOptionsSchema>, (line) => process.stdout.write(`${line}\n`)));
  const score = anomaly
    .command('score <run>')
    .description('score a series with the ensemble of a finished run; prints row,score,anomaly CSV')
    .addHelpText('after', examplesHelp(['modelevo anomaly score runs/ad --channel P-1', 'modelevo anomaly score runs/ad-csv --data new.csv --out scores.csv']));
  addSchemaOptions(score, AnomalyScoreOptionsSchema)
    .action(async (run: string, opts: Record<string, unknown>) => runAnomalyScore(run, opts as z.input<typeof AnomalyScoreOptionsSchema>, (line) => process.stdout.write(`${line}\n`)));
}
