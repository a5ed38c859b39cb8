/**
 * Compares two `results:ad-nev` run directories (e.g. before and after the engine port, issue #22) level by
 * level: per seed the mean over channels of each channel's POT F1, PA-F1, VUS-PR and held-out fitness (report.json), then over
 * seeds mean ± sd and [min, max], whether the ranges overlap, and the largest per-(seed, channel) difference.
 *
 * Usage: node --import tsx scripts/ad-nev-equivalence.ts <old-run-dir> <new-run-dir> [--dataset smap]
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { argValue } from '../bench/support/child-run.js';

const [oldDir, newDir] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--dataset');
if (!oldDir || !newDir) throw new Error('usage: ad-nev-equivalence.ts <old-run-dir> <new-run-dir> [--dataset smap]');
const dataset = argValue('--dataset') ?? 'smap';
const LEVELS = ['untrained', 'baseline', 'level1', 'level2', 'level3'] as const;
/** `validationFitness` is the label-free objective the levels minimise (held-out reconstruction error, fitness.ts) */
const METRICS = [['POT F1', 'pot_f1'], ['PA-F1', 'pot_pa_f1'], ['VUS-PR', 'vus_pr'], ['held-out fitness', 'validationFitness']] as const;

interface Report {
  readonly id: string;
  readonly levels: { readonly level: string; readonly validationFitness: number; readonly metrics: Record<string, number> }[];
}

/** seed → channel → report */
function load(dir: string): Map<string, Map<string, Report>> {
  const out = new Map<string, Map<string, Report>>();
  for (const seed of readdirSync(dir).filter((d) => d.startsWith('seed-')).sort()) {
    const root = join(dir, seed, dataset);
    const channels = new Map<string, Report>();
    for (const channel of readdirSync(root)) {
      const file = join(root, channel, 'report.json');
      if (existsSync(file)) channels.set(channel, JSON.parse(readFileSync(file, 'utf8')) as Report);
    }
    out.set(seed, channels);
  }
  return out;
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]): number => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
const f = (x: number): string => x.toFixed(3);
function value(r: Report, level: string, key: string): number {
  const entry = r.levels.find((l) => l.level === level)!;
  return key === 'validationFitness' ? entry.validationFitness : entry.metrics[key]!;
}

const [before, after] = [load(oldDir), load(newDir)];
const seeds = [...before.keys()].filter((s) => after.has(s));
console.log(`| level | metric | old: mean ± sd [min, max] over ${seeds.length} seeds | new: mean ± sd [min, max] | ranges overlap | |Δ mean| / pooled sd | max |Δ| per (seed, channel) |`);
console.log('|---|---|---|---|---|---|---|');
for (const level of LEVELS) {
  for (const [title, key] of METRICS) {
    const perSeed = (runs: typeof before): number[] => seeds.map((s) => mean([...runs.get(s)!.values()].map((r) => value(r, level, key))));
    const [a, b] = [perSeed(before), perSeed(after)];
    const overlap = Math.max(Math.min(...a), Math.min(...b)) <= Math.min(Math.max(...a), Math.max(...b));
    const pooled = Math.sqrt((sd(a) ** 2 + sd(b) ** 2) / 2);
    let worst = 0;
    for (const s of seeds) for (const [c, r] of after.get(s)!) worst = Math.max(worst, Math.abs(value(r, level, key) - value(before.get(s)!.get(c)!, level, key)));
    const ratio = pooled > 0 ? (Math.abs(mean(a) - mean(b)) / pooled).toFixed(2) : mean(a) === mean(b) ? '0' : '∞';
    console.log(`| ${level} | ${title} | ${f(mean(a))} ± ${f(sd(a))} [${f(Math.min(...a))}, ${f(Math.max(...a))}] | ${f(mean(b))} ± ${f(sd(b))} [${f(Math.min(...b))}, ${f(Math.max(...b))}] | ${overlap ? 'yes' : 'no'} | ${ratio} | ${f(worst)} |`);
  }
}
