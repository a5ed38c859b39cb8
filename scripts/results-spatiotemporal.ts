/**
 * `npm run results:spatiotemporal [-- --rerun <part|all>]` → docs/results/spatiotemporal.md: the one command
 * behind issue #7's results. It runs the parts `scripts/results-st/<part>.ts` (gwn, synevo, coms2t) in order;
 * each exports `runPart({ rerun })`, returns its markdown section and caches its measured numbers in
 * docs/results/spatiotemporal/<part>.json, which it reuses unless asked to rerun. A part whose module does not
 * exist yet gets a line saying so; a part that fails gets its error, and the command exits non-zero.
 * `--rerun` may be repeated (`--rerun gwn --rerun coms2t`). `--cached-only` never measures: a part without its
 * cache file gets a line saying so (to rebuild the page while another part is still being measured).
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { writeFileAtomic } from '../src/core/atomic-file.js';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { partCachePath } from './results-st/part-cache.js';

export const PARTS = ['gwn', 'synevo', 'coms2t'] as const;
export type PartName = (typeof PARTS)[number];

const TITLES: Record<PartName, string> = {
  gwn: 'Graph WaveNet vs baselines',
  synevo: 'SynEVO (cross-temporal and cross-source)',
  coms2t: 'ComS2T (time-of-day split)',
};

interface PartModule {
  runPart(options: { rerun: boolean }): Promise<string>;
}

/** Which parts to rerun from the `--rerun` values; unknown names are an error listing the valid ones. */
export function partsToRerun(values: readonly string[]): Set<PartName> {
  const chosen = new Set<PartName>();
  for (const value of values) {
    if (value === 'all') PARTS.forEach((p) => chosen.add(p));
    else if ((PARTS as readonly string[]).includes(value)) chosen.add(value as PartName);
    else throw new Error(`--rerun: unknown part '${value}'; expected one of ${[...PARTS, 'all'].join(', ')}`);
  }
  return chosen;
}

const OUT = process.env.MODELEVO_ST_TINY === '1' ? 'out/results-st-tiny/spatiotemporal.md' : 'docs/results/spatiotemporal.md';

function invocationFlags(rerun: readonly string[], cachedOnly: boolean): string {
  const flags = [...rerun.map((r) => `--rerun ${r}`), ...(cachedOnly ? ['--cached-only'] : [])];
  return flags.length ? ` -- ${flags.join(' ')}` : '';
}

/** "measured in 63.2 min of wall time, finished 2026-12-06 22:01 UTC" from a part's cache, if it says so. */
function measuredWallTime(cachePath: string): string | undefined {
  if (!existsSync(cachePath)) return undefined;
  const cache = JSON.parse(readFileSync(cachePath, 'utf8')) as { totalSeconds?: number; date?: string };
  if (typeof cache.totalSeconds !== 'number' || typeof cache.date !== 'string') return undefined;
  return `measured in ${(cache.totalSeconds / 60).toFixed(1)} min of wall time, finished ${cache.date.slice(0, 16).replace('T', ' ')} UTC`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { rerun: { type: 'string', multiple: true, default: [] }, out: { type: 'string', default: OUT }, 'cached-only': { type: 'boolean', default: false } },
  });
  const rerun = partsToRerun(values.rerun ?? []);
  const partsDir = join(dirname(fileURLToPath(import.meta.url)), 'results-st');
  const sections: string[] = [];
  const status: string[] = [];
  let failed = false;
  for (const part of PARTS) {
    const file = join(partsDir, `${part}.ts`);
    if (!existsSync(file)) {
      sections.push(`## ${TITLES[part]}\n\nNot yet available: \`scripts/results-st/${part}.ts\` does not exist in this checkout.\n`);
      status.push(`- ${part}: missing (no module)`);
      continue;
    }
    const cache = partCachePath(part);
    const hadCache = existsSync(cache);
    if (values['cached-only'] && !rerun.has(part) && !hadCache) {
      sections.push(`## ${TITLES[part]}\n\nNot measured yet: no cache \`${cache}\` (this page was built with \`--cached-only\`).\n`);
      status.push(`- ${part}: not measured yet (no cache)`);
      continue;
    }
    const started = performance.now();
    try {
      process.stderr.write(`[results] part ${part}: ${rerun.has(part) ? 'measuring' : 'from cache if present'}\n`);
      const module = (await import(pathToFileURL(file).href)) as PartModule;
      sections.push((await module.runPart({ rerun: rerun.has(part) })).trimEnd() + '\n');
      const how = rerun.has(part) || !hadCache ? 'measured in this invocation' : 'from its cache';
      status.push(`- ${part}: ${how} — \`${cache}\` (${measuredWallTime(cache) ?? `${((performance.now() - started) / 1000).toFixed(0)} s`})`);
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? error.message : String(error);
      sections.push(`## ${TITLES[part]}\n\n**This part failed** in the last invocation: ${message}\n`);
      status.push(`- ${part}: FAILED (${message})`);
      process.stderr.write(`[results] part ${part} failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    }
  }
  const text = `# Spatiotemporal forecasting and model evolution (issues #7 and #14)

Produced by \`npm run results:spatiotemporal${invocationFlags(values.rerun ?? [], values['cached-only'] ?? false)}\`. Each part caches its measured numbers
(commit, date, command, budget and machine load inside) and is reused unless rerun with \`--rerun <part|all>\`;
every section states its own provenance and its reduced budget. All runs train on modelevo's own engine (src/nn) on 2 shared CPU cores, so
budgets are far below the papers'; no paper-scale number is implied.

Machine that built this page: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; each part's wall time and load are in its section.

Parts in this file:
${status.join('\n')}

${sections.join('\n')}`;
  writeFileAtomic(values.out!, text);
  process.stderr.write(`[results] wrote ${values.out}\n`);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
