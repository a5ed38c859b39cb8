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
import { flag, addSchemaOptions } from '../schema-options.js';
import { DEFAULT_SYNEVO } from '../../spatiotemporal/synevo/loop.js';
import { synevoOptionsFrom } from '../../spatiotemporal/synevo/options-from.js';
import { parseDomainSpec } from '../../tasks/traffic/domains.js';
import { gwnWidthFields, gwnWidthOf, jsonFields, metricCells, positiveInt, seedField, storedRunNote, workersFields, workersOf, type GwnWidthDefaults } from './st-common.js';

/** small widths: a SynEVO run trains one model per group plus the container */
const WIDTHS: GwnWidthDefaults = { residual: 8, skip: 32, end: 64 };

export const StSynevoOptionsSchema = z.object({
  data: flag(z.string().optional(), 'traffic folder (series CSV + adjacency CSV) for the cross-temporal setting', '<dir>'),
  domains: flag(z.string().default('time-of-day:4'), "domain split: 'time-of-day:K' (K equal periods per day)", '<spec>'),
  holdout: flag(z.string().default('last'), "held-out period (or source with --synthetic): 'last' or an index", '<which>'),
  stepsPerDay: flag(positiveInt.default(288), 'steps per day of the series (288 = 5-minute steps)', '<n>'),
  cycles: flag(positiveInt.default(DEFAULT_SYNEVO.cycles), 'passes over the training groups', '<n>'),
  ablation: flag(z.enum(['none', 'static', 'no-reorder', 'no-gate']).default('none'), 'also run an ablation: none | static | no-reorder | no-gate', '<name>'),
  synthetic: flag(z.string().regex(/^sources:\d+$/, "expected 'sources:N'").optional(), "cross-source on the synthetic generator: 'sources:N' (the last source held out by default)", '<spec>'),
  syntheticNodes: flag(positiveInt.default(30), 'synthetic graph nodes', '<n>'),
  syntheticDays: flag(positiveInt.default(7), 'synthetic days (96 steps per day)', '<n>'),
  references: flag(z.boolean().default(false), 'also train GWN jointly and sequentially on the training groups (same step budget)'),
  stepsPerGroup: flag(positiveInt.default(DEFAULT_SYNEVO.stepsPerGroup), 'container steps per group visit', '<n>'),
  scoringSteps: flag(positiveInt.default(DEFAULT_SYNEVO.scoring.steps), "steps of each group's fresh model for the curriculum", '<n>'),
  fewShotSteps: flag(positiveInt.default(DEFAULT_SYNEVO.fewShotSteps), 'adaptation steps on the held-out few-shot slice', '<n>'),
  fewShotFraction: flag(z.coerce.number().gt(0).max(1).default(DEFAULT_SYNEVO.fewShotFraction), "first fraction of the held-out group's training windows used for few-shot", '<x>'),
  batchSize: flag(positiveInt.default(DEFAULT_SYNEVO.batchSize), 'minibatch size', '<n>'),
  lr: flag(z.coerce.number().positive().default(DEFAULT_SYNEVO.learningRate), 'Adam learning rate', '<x>'),
  p0: flag(z.coerce.number().gt(0).max(1).default(DEFAULT_SYNEVO.elastic.p0), 'elastic dropout p₀ (Eq. 10)', '<x>'),
  lambda0: flag(z.coerce.number().gt(0).lt(1).default(DEFAULT_SYNEVO.elastic.lambda0), 'elastic weight decay λ₀ (Eq. 11)', '<x>'),
  kappa: flag(z.coerce.number().positive().default(DEFAULT_SYNEVO.kappa), 'gate threshold κ on D_min', '<x>'),
  kappaFactor: flag(z.coerce.number().positive().optional(), "instead of --kappa: κ = x × the median pairwise distance of the training domains' representations", '<x>'),
  margin: flag(z.coerce.number().positive().default(DEFAULT_SYNEVO.extractor.margin), 'contrastive margin m of the extractor', '<x>'),
  dropMode: flag(z.enum(['dropconnect', 'activation']).default(DEFAULT_SYNEVO.dropMode), 'elastic masking: dropconnect (weights) | activation', '<mode>'),
  separateInit: flag(z.enum(['random', 'warm']).default(DEFAULT_SYNEVO.separateInit), "rejected groups' separate model: random | warm", '<how>'),
  ...gwnWidthFields(WIDTHS),
  seed: flag(seedField, 'seed', '<n>'),
  runDir: flag(z.string().optional(), 'store the run here (run.sqlite with the log and gate decisions, artifacts/results.json)', '<dir>'),
  resume: flag(z.boolean().optional(), 'continue the interrupted run in --run-dir (same options; the computation starts again and stores the same result)'),
  ...workersFields,
  ...jsonFields,
});
export type StSynevoOptions = z.input<typeof StSynevoOptionsSchema>;

export async function runStSynevoCommand(raw: StSynevoOptions, write: (text: string) => void): Promise<unknown> {
  const o = parseWithSchema(StSynevoOptionsSchema, raw, 'modelevo st synevo options');
  const domains = parseDomainSpec(o.domains);
  if (!o.data && !o.synthetic) throw new ConfigError([{ path: ['data'], message: 'pass --data <dir> (cross-temporal) or --synthetic sources:N (cross-source)' }], { source: 'modelevo st synevo options' });
  const { domainSetupOf, runComparison } = await import('../../spatiotemporal/synevo/experiment.js');
  const { loadTrafficNetwork } = await import('../../tasks/traffic/csv-loader.js');
  const spec = o.synthetic
    ? { kind: 'cross-source' as const, sources: Number(o.synthetic.split(':')[1]), nodes: o.syntheticNodes, days: o.syntheticDays, stepsPerDay: 96, seed: o.seed, holdout: o.holdout }
    : { kind: 'cross-temporal' as const, network: loadTrafficNetwork(o.data!), stepsPerDay: o.stepsPerDay, periods: domains.periods, holdout: o.holdout };
  const setup = domainSetupOf(spec);
  const synevo = synevoOptionsFrom({
    seed: o.seed,
    config: gwnWidthOf(o),
    learningRate: o.lr,
    batchSize: o.batchSize,
    cycles: o.cycles,
    stepsPerGroup: o.stepsPerGroup,
    scoringSteps: o.scoringSteps,
    fewShotSteps: o.fewShotSteps,
    fewShotFraction: o.fewShotFraction,
    p0: o.p0,
    lambda0: o.lambda0,
    kappa: o.kappa,
    ...(o.kappaFactor === undefined ? {} : { kappaFactor: o.kappaFactor }),
    margin: o.margin,
    dropMode: o.dropMode,
    separateInit: o.separateInit,
    workers: workersOf(o),
  });
  const runConfig = { ...o, data: o.data ? resolve(o.data) : undefined, runDir: undefined, resume: undefined, json: undefined };
  return withStoredRun({ runDir: o.runDir, kind: 'st-synevo', seed: o.seed, config: runConfig, json: o.json, resume: o.resume }, async ({ store, log, finish }) => {
    const ablations = o.ablation === 'none' ? (['none'] as const) : (['none', o.ablation] as const);
    const result = await runComparison(setup, { synevo, ablations, references: o.references, referenceWeightDecay: synevo.scoring.weightDecay }, log);
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
    .description('SynEVO cross-domain adaptation: curriculum order, elastic container, personality extractor, κ-gated coupler; zero/few-shot on a held-out domain');
  addSchemaOptions(synevo, StSynevoOptionsSchema)
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
