/**
 * Compares two directories of `results:continual` run artifacts (<dir>/<benchmark>/<variant>/seed-<s>.json),
 * e.g. the same small configuration before and after a change of training code: per (benchmark, variant),
 * ACC and BWT as mean ± sd and [min, max] over seeds on each side, whether the ranges overlap, |Δ mean| against
 * the seed noise (the larger sd), and how many seeds agree exactly. Prints a markdown table.
 * Usage: node --import tsx scripts/compare-continual-runs.ts <before-dir> <after-dir>
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanStd } from '../src/continual/metrics.js';

interface Artifact {
  seed: number;
  acc: number;
  bwt: number | null;
  secondsPerTask: number[];
}

const [before, after] = process.argv.slice(2);
if (!before || !after) throw new Error('usage: compare-continual-runs.ts <before-dir> <after-dir>');

function load(dir: string, benchmark: string, variant: string): Artifact[] {
  const path = join(dir, benchmark, variant);
  if (!existsSync(path)) return [];
  return readdirSync(path)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(path, f), 'utf8')) as Artifact)
    .sort((a, b) => a.seed - b.seed);
}

const pct = (v: number): string => (100 * v).toFixed(2);
function cell(values: number[]): string {
  const { mean, std } = meanStd(values);
  return `${pct(mean)} ± ${pct(std)} [${pct(Math.min(...values))}, ${pct(Math.max(...values))}]`;
}
function verdict(a: number[], b: number[]): string {
  const overlap = Math.max(Math.min(...a), Math.min(...b)) <= Math.min(Math.max(...a), Math.max(...b));
  const [x, y] = [meanStd(a), meanStd(b)];
  const delta = y.mean - x.mean;
  return `${overlap ? 'overlap' : 'NO overlap'}; Δ ${pct(delta)} (${(Math.abs(delta) / Math.max(x.std, y.std, 1e-12)).toFixed(2)} sd)`;
}

console.log('| benchmark | variant | seeds | ACC before (%) | ACC after (%) | ACC | BWT before (%) | BWT after (%) | BWT | identical seeds (ACC to 1e-5) | s / task before → after |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const benchmark of readdirSync(after).sort()) {
  for (const variant of readdirSync(join(after, benchmark)).sort()) {
    const a = load(before, benchmark, variant);
    const b = load(after, benchmark, variant);
    if (a.length === 0 || b.length === 0) continue;
    const seconds = (runs: Artifact[]): string => (runs.flatMap((r) => r.secondsPerTask).reduce((s, v) => s + v, 0) / runs.flatMap((r) => r.secondsPerTask).length).toFixed(1);
    const same = b.filter((r) => a.some((q) => q.seed === r.seed && Math.abs(q.acc - r.acc) <= 1e-5)).length;
    const bwt = (runs: Artifact[]): number[] => runs.map((r) => r.bwt ?? NaN);
    const hasBwt = !bwt(a).some(Number.isNaN) && !bwt(b).some(Number.isNaN);
    console.log(
      `| ${benchmark} | ${variant} | ${a.length} / ${b.length} | ${cell(a.map((r) => r.acc))} | ${cell(b.map((r) => r.acc))} | ${verdict(a.map((r) => r.acc), b.map((r) => r.acc))} | ${hasBwt ? cell(bwt(a)) : '–'} | ${hasBwt ? cell(bwt(b)) : '–'} | ${hasBwt ? verdict(bwt(a), bwt(b)) : '–'} | ${same} / ${b.length} | ${seconds(a)} → ${seconds(b)} |`,
    );
  }
}
