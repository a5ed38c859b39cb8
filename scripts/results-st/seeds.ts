/**
 * Several seeds per results row (issue #14): per-seed measurement units cached one file each, so an interrupted
 * part resumes at the first missing seed (summaries and verdicts: src/spatiotemporal/seed-summary.ts).
 * `MODELEVO_ST_TINY=1` shrinks every part's budget and moves caches and output to out/results-st-tiny, to check
 * the scripts end to end without writing numbers into docs/results.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../src/core/atomic-file.js';

/** The seeds every row is measured with. */
export const SEEDS = [0, 1, 2] as const;

export function tinyBudget(): boolean {
  return process.env.MODELEVO_ST_TINY === '1';
}

/** Where a part keeps its per-seed units. */
export function unitDir(part: string): string {
  return tinyBudget() ? `out/results-st-tiny/${part}-units` : `docs/results/spatiotemporal/${part}-units`;
}

/**
 * The cached unit `name` of a part, measured when missing or when its stored budget differs from `budget`
 * (a changed budget never reuses old numbers). Written atomically as soon as it is measured.
 */
export async function cachedUnit<T>(part: string, name: string, budget: unknown, measure: () => Promise<T>): Promise<T> {
  const path = join(unitDir(part), `${name}.json`);
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { budget: unknown; value: T };
    if (JSON.stringify(stored.budget) === JSON.stringify(budget)) return stored.value;
  }
  const value = await measure();
  writeJsonAtomic(path, { budget, value });
  return value;
}

/** Forgets a part's units (a `--rerun`). */
export function clearUnits(part: string): void {
  rmSync(unitDir(part), { recursive: true, force: true });
}

export { mean, meanSd, sd, spreadVerdict, type SpreadVerdict } from '../../src/spatiotemporal/seed-summary.js';
