/**
 * What every part of `npm run results:spatiotemporal` (scripts/results-st/<part>.ts) shares: where its cache
 * lives, the provenance header its cache starts with (commit, date, command, budget, load before/after, seconds),
 * the reuse-or-measure step with an atomic cache write, and the standalone entry point
 * (`node --import tsx scripts/results-st/<part>.ts [--rerun]`). Each part keeps its own measurement and text.
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeJsonAtomic } from '../../src/core/atomic-file.js';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';

export function partCachePath(part: string): string {
  // MODELEVO_ST_TINY=1 (seeds.ts): tiny-budget checks never touch docs/results
  return process.env.MODELEVO_ST_TINY === '1' ? `out/results-st-tiny/${part}.json` : `docs/results/spatiotemporal/${part}.json`;
}

/** The command that re-measures one part (stored in its cache and quoted in its section). */
export function rerunCommand(part: string): string {
  return `npm run results:spatiotemporal -- --rerun ${part}`;
}

/** The fields every part's cache starts with, in this order. */
export interface PartProvenance<Budget> {
  readonly commit: string;
  readonly date: string;
  readonly command: string;
  readonly budget: Budget;
  /** load average (1/5/15 min) when the measurement started and ended: the cores are shared */
  readonly loadBefore: number[];
  readonly loadAfter: number[];
  readonly totalSeconds: number;
}

/**
 * HEAD's short hash, 'unknown' outside a git checkout. With `markUncommitted`, a checkout whose src/ or scripts/
 * differ from HEAD is marked, since the code that ran is then not exactly that commit.
 */
export function headCommit(options: { markUncommitted?: boolean } = {}): string {
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    if (!options.markUncommitted) return head;
    const dirty = execSync('git status --porcelain --untracked-files=no -- src scripts', { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes in src/ or scripts/)` : head;
  } catch {
    return 'unknown';
  }
}

/** Progress lines on stderr, prefixed with the part's name (stdout may carry the section). */
export function partLogger(part: string): (text: string) => void {
  return (text) => process.stderr.write(`[${part}] ${text}\n`);
}

/** One training epoch as a progress line, with the load average now (to read slow epochs against). */
export function epochProgress(record: { epoch: number; trainLoss: number; valMae: number; seconds: number }, stage?: string): string {
  return `${stage ? `${stage} ` : ''}epoch ${record.epoch}: train ${record.trainLoss.toFixed(3)} val ${record.valMae.toFixed(3)} (${record.seconds.toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)})`;
}

export interface MeasurementClock {
  /** the provenance header of a measurement that ends now */
  finish<Budget>(fields: { commit: string; command: string; budget: Budget }): PartProvenance<Budget>;
}

/** Starts timing a measurement and reads the load average it starts under. */
export function startMeasurement(): MeasurementClock {
  const started = performance.now();
  const loadBefore = loadavg();
  return {
    finish: ({ commit, command, budget }) => ({
      commit,
      date: new Date().toISOString(),
      command,
      budget,
      loadBefore,
      loadAfter: loadavg(),
      totalSeconds: (performance.now() - started) / 1000,
    }),
  };
}

export interface CachedPartOptions<Cache> {
  readonly cachePath: string;
  /** measure even when the cache exists (and replace it) */
  readonly rerun: boolean;
  readonly measure: () => Promise<Cache>;
  readonly render: (cache: Cache) => string;
}

/** The part's section from its cache, or from a fresh measurement that is cached first (temp file + rename). */
export async function cachedPart<Cache>(options: CachedPartOptions<Cache>): Promise<string> {
  const { cachePath } = options;
  if (!options.rerun && existsSync(cachePath)) return options.render(JSON.parse(readFileSync(cachePath, 'utf8')) as Cache);
  // a rerun forgets the old aggregate first, so an interrupted rerun is resumed (finished seed units reused) by
  // running the command again without --rerun instead of showing the old numbers
  if (options.rerun) rmSync(cachePath, { force: true });
  const cache = await options.measure();
  writeJsonAtomic(cachePath, cache);
  return options.render(cache);
}

/** Runs the part and prints its section when `moduleUrl` is the script node was started with. */
export async function runPartIfMain(moduleUrl: string, runPart: (options: { rerun: boolean }) => Promise<string>): Promise<void> {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  process.stdout.write(await runPart({ rerun: process.argv.includes('--rerun') }));
}

/**
 * The section for a cache written before issue #14 (one seed, no `seeds` list): its numbers are not re-rendered
 * in the new multi-seed format, and nothing is measured; the page says so and how to measure.
 */
export function legacyCacheSection(title: string, part: string, cache: object): string | undefined {
  if (Array.isArray((cache as { seeds?: unknown }).seeds)) return undefined;
  return `## ${title}\n\nThe cache \`${partCachePath(part)}\` holds a round-1 measurement (one seed, fixed epochs; issue #7) in the format before issue #14; this page no longer renders it (its text is in the git history of docs/results/spatiotemporal.md). Measure the three-seed version with \`${rerunCommand(part)}\`.\n`;
}
