/** Plain-text tables and the one-sentence verdict of the demo (the results document has its own markdown). */
import { DOMAINS } from './family.js';
import type { StaticScore } from './statics.js';

export interface TestRow {
  readonly model: string;
  readonly dev: number;
  readonly test: Record<string, number>;
  readonly testMean: number;
}

/** the search-row fields the tables need */
export interface SearchRowLike {
  readonly name: string;
  readonly label: string;
  readonly seed: number;
  readonly bestDev: number;
  readonly testMean: number;
  readonly summary: { readonly evaluations: number };
}

function align(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const out = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out;
}

export function staticTable(statics: readonly StaticScore[], best: string): string[] {
  return align([['static baseline', 'dev loss', ''], ...statics.map((s) => [s.name, s.dev.toFixed(4), s.name === best ? '← best' : ''])]);
}

export function inputRows(rows: readonly TestRow[]): string[] {
  return align([
    ['model', 'dev loss', ...DOMAINS.map((d) => `test ${d}`), 'test mean'],
    ...rows.map((r) => [r.model, r.dev.toFixed(4), ...DOMAINS.map((d) => r.test[d]!.toFixed(4)), r.testMean.toFixed(4)]),
  ]);
}

export function searchTable(results: readonly SearchRowLike[], inputs: readonly TestRow[]): string[] {
  const base = inputs.find((r) => r.model === 'base')!;
  const best = inputs.find((r) => r.model.startsWith('best static'))!;
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
  return align([
    ['search (one seed)', 'evaluations', 'best dev', 'test mean', 'test − best static', 'test − base'],
    ...results.map((r) => [r.label, String(r.summary.evaluations), r.bestDev.toFixed(4), r.testMean.toFixed(4), signed(r.testMean - best.testMean), signed(r.testMean - base.testMean)]),
  ]);
}

/** One sentence: did any selected merge beat the base and every expert on test? */
export function testVerdict(inputs: readonly TestRow[], results: readonly SearchRowLike[]): string {
  const base = inputs.find((r) => r.model === 'base')!;
  const experts = inputs.filter((r) => r.model.startsWith('expert-'));
  const bestExpert = experts.reduce((a, b) => (b.testMean < a.testMean ? b : a));
  const staticRow = inputs.find((r) => r.model.startsWith('best static'))!;
  const staticIsMerge = !/^best static: (base|expert-)/.test(staticRow.model);
  const merges = [
    ...(staticIsMerge ? [{ name: staticRow.model, testMean: staticRow.testMean }] : []),
    ...results.map((r) => ({ name: `${r.name} (seed ${r.seed})`, testMean: r.testMean })),
  ].filter((m) => Number.isFinite(m.testMean));
  const bar = Math.min(base.testMean, bestExpert.testMean);
  const winners = merges.filter((m) => m.testMean < bar);
  const top = merges.reduce((a, b) => (b.testMean < a.testMean ? b : a), merges[0] ?? { name: 'none', testMean: NaN });
  if (winners.length > 0) {
    return `Verdict: ${winners.length} of ${merges.length} selected merges beat the base (test mean ${base.testMean.toFixed(4)}) and every expert (best: ${bestExpert.model} ${bestExpert.testMean.toFixed(4)}) on test; the best is ${top.name} at ${top.testMean.toFixed(4)}, ${(bar - top.testMean).toFixed(4)} nats lower.`;
  }
  return `Verdict: no selected merge beat both the base (test mean ${base.testMean.toFixed(4)}) and the best expert (${bestExpert.model} ${bestExpert.testMean.toFixed(4)}) on test; the best merge, ${top.name}, scored ${top.testMean.toFixed(4)}.`;
}
