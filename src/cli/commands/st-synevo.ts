/**
 * `modelevo st synevo`: SynEVO cross-domain adaptation (synevo.md) on a traffic folder split into time-of-day
 * periods (cross-temporal, one period held out) or on the synthetic multi-source generator (cross-source, one
 * source held out), with zero-shot and few-shot metrics on the held-out domain, an optional ablation and the
 * optional joint / sequential GWN references. With --run-dir the run is stored in the run store (kind
 * `st-synevo`: options in the manifest, one event per log line, gate decisions with D_min, the results JSON
 * in artifacts/).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { withStoredRun } from './st-stored-run.js';
import { parseDomainSpec } from '../../tasks/traffic/domains.js';
import { addGwnWidthOptions, addOutputOptions, gwnWidthFields, gwnWidthOf, metricCells, outputFields, positiveInt, seedField, storedRunNote, type GwnWidthDefaults } from './st-common.js';

/** small widths: a SynEVO run trains one model per group plus the container */
const WIDTHS: GwnWidthDefaults = { residual: 8, skip: 32, end: 64 };

export const StSynevoOptionsSchema = z.object({
  data: z.string().optional(),
  domains: z.string().default('time-of-day:4'),
  holdout: z.string().default('last'),
  stepsPerDay: positiveInt.default(288),
  cycles: positiveInt.default(2),
  ablation: z.enum(['none', 'static', 'no-reorder', 'no-gate']).default('none'),
  synthetic: z.string().regex(/^sources:\d+$/, "expected 'sources:N'").optional(),
  syntheticNodes: positiveInt.default(30),
  syntheticDays: positiveInt.default(7),
  references: z.boolean().default(false),
  stepsPerGroup: positiveInt.default(40),
  scoringSteps: positiveInt.default(40),
  fewShotSteps: positiveInt.default(15),
  fewShotFraction: z.coerce.number().gt(0).max(1).default(0.25),
  batchSize: positiveInt.default(16),
  lr: z.coerce.number().positive().default(0.01),
  p0: z.coerce.number().gt(0).max(1).default(0.5),
  lambda0: z.coerce.number().gt(0).lt(1).default(0.05),
  kappa: z.coerce.number().positive().default(1e3),
  kappaFactor: z.coerce.number().positive().optional(),
  margin: z.coerce.number().positive().default(1),
  dropMode: z.enum(['dropconnect', 'activation']).default('dropconnect'),
  separateInit: z.enum(['random', 'warm']).default('random'),
  ...gwnWidthFields(WIDTHS),
  seed: seedField,
  runDir: z.string().optional(),
  resume: z.boolean().optional(),
  ...outputFields,
});
export type StSynevoOptions = z.input<typeof StSynevoOptionsSchema>;

export async function runStSynevoCommand(raw: StSynevoOptions, write: (text: string) => void): Promise<unknown> {
  const o = parseWithSchema(StSynevoOptionsSchema, raw, 'modelevo st synevo options');
  const domains = parseDomainSpec(o.domains);
  if (!o.data && !o.synthetic) throw new ConfigError([{ path: ['data'], message: 'pass --data <dir> (cross-temporal) or --synthetic sources:N (cross-source)' }], { source: 'modelevo st synevo options' });
  const { useBackend } = await import('../../train/tf.js');
  const { DEFAULT_SYNEVO, domainSetupOf, runComparison } = await import('../../spatiotemporal/synevo/experiment.js');
  const { loadTrafficNetwork } = await import('../../tasks/traffic/csv-loader.js');
  await useBackend(o.backend);
  const spec = o.synthetic
    ? { kind: 'cross-source' as const, sources: Number(o.synthetic.split(':')[1]), nodes: o.syntheticNodes, days: o.syntheticDays, stepsPerDay: 96, seed: o.seed, holdout: o.holdout }
    : { kind: 'cross-temporal' as const, network: loadTrafficNetwork(o.data!), stepsPerDay: o.stepsPerDay, periods: domains.periods, holdout: o.holdout };
  const setup = domainSetupOf(spec);
  const synevo = {
    ...DEFAULT_SYNEVO,
    seed: o.seed,
    config: gwnWidthOf(o),
    learningRate: o.lr,
    batchSize: o.batchSize,
    cycles: o.cycles,
    stepsPerGroup: o.stepsPerGroup,
    elastic: { p0: o.p0, lambda0: o.lambda0 },
    kappa: o.kappa,
    ...(o.kappaFactor === undefined ? {} : { kappaFactor: o.kappaFactor }),
    extractor: { ...DEFAULT_SYNEVO.extractor, margin: o.margin },
    dropMode: o.dropMode,
    separateInit: o.separateInit,
    fewShotFraction: o.fewShotFraction,
    fewShotSteps: o.fewShotSteps,
    scoring: { ...DEFAULT_SYNEVO.scoring, steps: o.scoringSteps, batchSize: o.batchSize },
  };
  const runConfig = { ...o, data: o.data ? resolve(o.data) : undefined, runDir: undefined, resume: undefined, json: undefined };
  return withStoredRun({ runDir: o.runDir, kind: 'st-synevo', seed: o.seed, config: runConfig, json: o.json, resume: o.resume }, async ({ store, log, finish }) => {
    const ablations = o.ablation === 'none' ? (['none'] as const) : (['none', o.ablation] as const);
    const result = await runComparison(setup, { synevo, ablations, references: o.references, referenceWeightDecay: DEFAULT_SYNEVO.scoring.weightDecay }, log);
    const output = { setting: spec.kind, data: o.data ?? o.synthetic, ...result };
    if (store) {
      for (const s of result.synevo) for (const d of s.gate) store.event('gate', { ablation: s.ablation, ...d });
      store.event('result', { heldOut: result.heldOut, synevo: result.synevo.map((s) => ({ ablation: s.ablation, zeroShot: s.zeroShot.all, fewShot: s.fewShot.all })), references: result.references.map((r) => ({ method: r.method, zeroShot: r.zeroShot.all, fewShot: r.fewShot.all })) });
      finish(output);
    }
    if (o.json) write(`${JSON.stringify(output)}\n`);
    else {
      write(`held-out ${result.heldOut}; groups ${result.groups.map((g) => `${g.id} ${g.train}/${g.val}/${g.test}`).join(', ')} (train/val/test windows)\n\n`);
      write('| method | zero-shot MAE | RMSE | MAPE % | few-shot MAE | RMSE | MAPE % |\n|---|---|---|---|---|---|---|\n');
      const row = (name: string, zeroShot: { mae: number; rmse: number; mape: number }, fewShot: { mae: number; rmse: number; mape: number }): void =>
        write(`| ${name} | ${metricCells(zeroShot)} | ${metricCells(fewShot)} |\n`);
      for (const s of result.synevo) row(s.ablation === 'none' ? 'SynEVO' : `SynEVO (${s.ablation})`, s.zeroShot.all, s.fewShot.all);
      for (const r of result.references) row(r.method === 'gwn-joint' ? 'GWN joint' : 'GWN sequential', r.zeroShot.all, r.fewShot.all);
      if (o.runDir) write(storedRunNote(o.runDir, 'artifacts/results.json'));
    }
    return output;
  });
}

export function registerStSynevoCommand(st: Command): void {
  const synevo = st.command('synevo')
    .description('SynEVO cross-domain adaptation: curriculum order, elastic container, personality extractor, κ-gated coupler; zero/few-shot on a held-out domain')
    .option('--data <dir>', 'traffic folder (series CSV + adjacency CSV) for the cross-temporal setting')
    .option('--domains <spec>', "domain split: 'time-of-day:K' (K equal periods per day)", 'time-of-day:4')
    .option('--holdout <which>', "held-out period (or source with --synthetic): 'last' or an index", 'last')
    .option('--steps-per-day <n>', 'steps per day of the series (288 = 5-minute steps)', '288')
    .option('--cycles <n>', 'passes over the training groups', '2')
    .option('--ablation <name>', 'also run an ablation: none | static | no-reorder | no-gate', 'none')
    .option('--synthetic <spec>', "cross-source on the synthetic generator: 'sources:N' (the last source held out by default)")
    .option('--synthetic-nodes <n>', 'synthetic graph nodes', '30')
    .option('--synthetic-days <n>', 'synthetic days (96 steps per day)', '7')
    .option('--references', 'also train GWN jointly and sequentially on the training groups (same step budget)')
    .option('--steps-per-group <n>', 'container steps per group visit', '40')
    .option('--scoring-steps <n>', "steps of each group's fresh model for the curriculum", '40')
    .option('--few-shot-steps <n>', 'adaptation steps on the held-out few-shot slice', '15')
    .option('--few-shot-fraction <x>', "first fraction of the held-out group's training windows used for few-shot", '0.25')
    .option('--batch-size <n>', 'minibatch size', '16')
    .option('--lr <x>', 'Adam learning rate', '0.01')
    .option('--p0 <x>', 'elastic dropout p₀ (Eq. 10)', '0.5')
    .option('--lambda0 <x>', 'elastic weight decay λ₀ (Eq. 11)', '0.05')
    .option('--kappa <x>', 'gate threshold κ on D_min', '1000')
    .option('--kappa-factor <x>', 'instead of --kappa: κ = x × the median pairwise distance of the training domains\' representations')
    .option('--margin <x>', 'contrastive margin m of the extractor', '1')
    .option('--drop-mode <mode>', 'elastic masking: dropconnect (weights) | activation', 'dropconnect')
    .option('--separate-init <how>', "rejected groups' separate model: random | warm", 'random');
  addGwnWidthOptions(synevo, WIDTHS)
    .option('--seed <n>', 'seed', '0')
    .option('--run-dir <dir>', 'store the run here (run.sqlite with the log and gate decisions, artifacts/results.json)')
    .option('--resume', 'continue the interrupted run in --run-dir (same options; the computation starts again and stores the same result)');
  addOutputOptions(synevo)
    .addHelpText(
      'after',
      `
Cross-temporal: each day is cut into K periods; a window belongs to a period only if all its 24 steps lie in
it; per period a chronological 7:1:2 split. The held-out period is never trained on except, for few-shot, the
first --few-shot-fraction of its training windows; both settings are scored on its test windows.

Examples:
  modelevo st synevo --data test/fixtures/metr-la-subset --domains time-of-day:4 --holdout last --references
  modelevo st synevo --data test/fixtures/metr-la-subset --ablation static --run-dir runs/synevo-static
  modelevo st synevo --synthetic sources:4 --references --json`,
    )
    .action(async (options: StSynevoOptions) => {
      await runStSynevoCommand(options, (text) => process.stdout.write(text));
    });
}
