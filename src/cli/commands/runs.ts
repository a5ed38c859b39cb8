/**
 * `modelevo runs list [root]` and `modelevo runs show <run-dir>`: what runs exist, how far they got, and
 * their best individuals — read from each run's store, so they work for finished and interrupted runs.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openInBrowser, startUi } from './ui.js';
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { addSchemaOptions, flag, parseCommandOptions } from '../schema-options.js';
import { ModelevoError } from '../../core/errors.js';
import { RunStore } from '../../runs/store.js';
import { stepSummaries } from '../../runs/report.js';

interface RunRow {
  dir: string;
  id: string;
  kind: string;
  strategy: string;
  status: string;
  created: string;
  evaluations: number;
  failed: number;
  best: number | null;
}

function objectiveOf(config: unknown): 'min' | 'max' {
  const fitness = (config as { fitness?: Record<string, { objective?: string }> }).fitness ?? {};
  if ('builtin' in fitness) return 'min';
  const entry = Object.values(fitness)[0];
  return entry?.objective === 'min' ? 'min' : 'max';
}

function summarise(dir: string): RunRow {
  const store = RunStore.open(dir);
  try {
    const manifest = store.manifest();
    const records = store.individuals();
    const finite = records.map((r) => r.fitness).filter(Number.isFinite);
    const objective = objectiveOf(manifest.config);
    const best = finite.length ? (objective === 'max' ? Math.max(...finite) : Math.min(...finite)) : null;
    return {
      dir,
      id: manifest.id,
      kind: manifest.kind,
      strategy: (manifest.config as { strategy?: { name?: string } }).strategy?.name ?? '',
      status: manifest.status,
      created: manifest.createdAt,
      evaluations: records.length,
      failed: records.length - finite.length,
      best,
    };
  } finally {
    store.close();
  }
}

/**
 * The runs under `root`, oldest first. A run whose store cannot be read (damaged, truncated) is skipped and
 * reported to `onSkip` (default: a warning on stderr), so one bad folder never hides the others.
 */
export function listRuns(root: string, onSkip: (dir: string, error: ModelevoError) => void = warnSkipped): RunRow[] {
  if (!existsSync(root)) return [];
  const rows: RunRow[] = [];
  for (const dir of readdirSync(root).map((name) => join(root, name))) {
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'run.sqlite'))) continue;
    try {
      rows.push(summarise(dir));
    } catch (error) {
      if (!(error instanceof ModelevoError)) throw error;
      onSkip(dir, error);
    }
  }
  return rows.sort((a, b) => a.created.localeCompare(b.created));
}

function warnSkipped(dir: string, error: ModelevoError): void {
  process.stderr.write(`warning: skipped ${dir}: [${error.code}] ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}\n`);
}

/** A run directory, or the directory of the run under `root` whose id starts with `run`. */
export function resolveRun(run: string, root: string): string {
  if (existsSync(join(run, 'run.sqlite'))) return run;
  const matches = listRuns(resolve(root)).filter((r) => r.id.startsWith(run));
  if (matches.length === 1) return matches[0]!.dir;
  throw new ModelevoError('CHECKPOINT_NOT_FOUND', matches.length === 0 ? `no run directory or run id '${run}' under ${resolve(root)}` : `run id prefix '${run}' matches ${matches.length} runs`, {
    hint: 'modelevo runs list shows the runs and their directories',
  });
}

/** `runs list` flags, one declaration each (the root folder is the positional argument) */
export const RunsListOptionsSchema = z.object({
  json: flag(z.boolean().default(false), 'print JSON'),
});

/** `runs show` flags */
export const RunsShowOptionsSchema = z.object({
  root: flag(z.string().default('runs'), 'where run ids are looked up', '<dir>'),
  json: flag(z.boolean().default(false), 'print JSON'),
  open: flag(z.boolean().default(false), 'open the run in the live dashboard (modelevo ui over its folder) and keep serving it'),
});

export function registerRunsCommand(program: Command): void {
  const runs = program
    .command('runs')
    .description('list stored runs and show one run')
    .addHelpText('after', examplesHelp(['modelevo runs list', 'modelevo runs show runs/cma --json']));
  const list = runs
    .command('list')
    .description('list the runs under a folder (default ./runs)')
    .addHelpText('after', examplesHelp(['modelevo runs list', 'modelevo runs list out/demo/runs --json']))
    .argument('[root]', 'folder holding run directories', 'runs');
  addSchemaOptions(list, RunsListOptionsSchema)
    .action((root: string, raw: unknown) => {
      const options = parseCommandOptions(RunsListOptionsSchema, raw, 'modelevo runs list options');
      const rows = listRuns(resolve(root));
      if (options.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      if (rows.length === 0) return void process.stdout.write(`no runs under ${resolve(root)}\n`);
      const header = ['run', 'strategy', 'status', 'evaluations', 'failed', 'best'];
      const body = rows.map((r) => [r.dir, r.strategy, r.status, String(r.evaluations), String(r.failed), r.best === null ? 'n/a' : r.best.toFixed(5)]);
      const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
      for (const row of [header, ...body]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
    });
  const show = runs
    .command('show')
    .description('show one run: configuration, progress per step and the best individuals')
    .addHelpText('after', examplesHelp(['modelevo runs show runs/cma', 'modelevo runs show 3f2a --root runs', 'modelevo runs show runs/cma --open']))
    .argument('<run>', 'the run directory, or a run id (or its first characters) under ./runs');
  addSchemaOptions(show, RunsShowOptionsSchema)
    .action(async (run: string, raw: unknown) => {
      const options = parseCommandOptions(RunsShowOptionsSchema, raw, 'modelevo runs show options');
      const dir = resolveRun(run, options.root);
      if (options.open) {
        const { url } = await startUi({ runs: [dirname(resolve(dir))], port: 0 }, (line) => process.stderr.write(`${line}\n`));
        const page = `${url}run/0/${encodeURIComponent(basename(resolve(dir)))}`;
        process.stdout.write(`${page}\n`);
        return openInBrowser(page, (line) => process.stderr.write(`${line}\n`));
      }
      const row = summarise(resolve(dir));
      const store = RunStore.open(resolve(dir));
      try {
        const manifest = store.manifest();
        const objective = objectiveOf(manifest.config);
        const records = store.individuals();
        const steps = stepSummaries(records, objective);
        const top = records
          .filter((r) => Number.isFinite(r.fitness))
          .sort((a, b) => (objective === 'max' ? b.fitness - a.fitness : a.fitness - b.fitness))
          .slice(0, 5);
        if (options.json) {
          return void process.stdout.write(`${JSON.stringify({ ...row, objective, config: manifest.config, steps, top })}\n`);
        }
        process.stdout.write(`${row.dir}\n  id ${row.id} · ${row.kind}/${row.strategy} · ${row.status} · created ${row.created}\n`);
        process.stdout.write(`  ${row.evaluations} evaluations (${row.failed} failed); objective: ${objective === 'max' ? 'maximise' : 'minimise'}\n\n  step  evals  best of step  best so far\n`);
        for (const s of steps) process.stdout.write(`  ${String(s.step).padStart(4)}  ${String(s.count).padStart(5)}  ${s.best.toFixed(5).padStart(12)}  ${s.bestSoFar.toFixed(5).padStart(11)}\n`);
        process.stdout.write('\n  best individuals:\n');
        for (const r of top) process.stdout.write(`    ${r.fitness.toFixed(5)}  ${r.key}\n`);
      } finally {
        store.close();
      }
    });
}
