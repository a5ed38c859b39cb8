/**
 * Static run report: `report.md` and a self-contained `report.html` (inline SVG, no scripts, no network)
 * with fitness per step and the lineage of the best individual, built from the run store alone so it can be
 * regenerated for any finished or interrupted run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IndividualRecord, RunStore } from './store.js';

export interface StepSummary {
  readonly step: number;
  readonly count: number;
  readonly best: number;
  readonly median: number;
  readonly bestSoFar: number;
}

export function stepSummaries(records: readonly IndividualRecord[], objective: 'min' | 'max'): StepSummary[] {
  const better = (a: number, b: number) => (objective === 'max' ? a > b : a < b);
  const steps = [...new Set(records.map((r) => r.step))].sort((a, b) => a - b);
  let bestSoFar = NaN;
  return steps.map((step) => {
    const values = records.filter((r) => r.step === step && Number.isFinite(r.fitness)).map((r) => r.fitness).sort((a, b) => a - b);
    const best = values.length ? (objective === 'max' ? values[values.length - 1]! : values[0]!) : NaN;
    if (Number.isFinite(best) && (Number.isNaN(bestSoFar) || better(best, bestSoFar))) bestSoFar = best;
    const median = values.length ? values[Math.floor(values.length / 2)]! : NaN;
    return { step, count: records.filter((r) => r.step === step).length, best, median, bestSoFar };
  });
}

/** ancestors of `key` through the recorded `parents`, nearest first, each once */
export function lineage(records: readonly IndividualRecord[], key: string): { key: string; parents: readonly string[]; fitness: number }[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const out: { key: string; parents: readonly string[]; fitness: number }[] = [];
  const seen = new Set<string>();
  const queue = [key];
  while (queue.length > 0) {
    const current = queue.shift()!;
    if (seen.has(current)) continue;
    seen.add(current);
    const record = byKey.get(current);
    const parents = record?.parents ?? [];
    out.push({ key: current, parents, fitness: record?.fitness ?? NaN });
    queue.push(...parents);
  }
  return out;
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4)) : 'n/a');

export function fitnessChartSvg(steps: readonly StepSummary[], width = 640, height = 280): string {
  const finite = steps.flatMap((s) => [s.best, s.median, s.bestSoFar]).filter(Number.isFinite);
  if (steps.length === 0 || finite.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40"><text x="8" y="24">no evaluations</text></svg>`;
  const pad = { left: 64, right: 16, top: 16, bottom: 36 };
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo || Math.abs(hi) || 1;
  const x = (i: number) => pad.left + (steps.length === 1 ? 0.5 : i / (steps.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - lo) / span) * (height - pad.top - pad.bottom);
  const line = (pick: (s: StepSummary) => number, colour: string, dash = '') => {
    const points = steps.map((s, i) => (Number.isFinite(pick(s)) ? `${x(i).toFixed(1)},${y(pick(s)).toFixed(1)}` : '')).filter(Boolean);
    return `<polyline fill="none" stroke="${colour}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${points.join(' ')}"/>`;
  };
  const ticks = [lo, lo + span / 2, hi]
    .map((v) => `<text x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${fmt(v)}</text><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="fitness per step">`,
    ticks,
    line((s) => s.median, '#9aa5b1', '4 3'),
    line((s) => s.best, '#3b82f6'),
    line((s) => s.bestSoFar, '#dc2626'),
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle" font-size="12">step (ask/tell round)</text>`,
    `<text x="${pad.left + 4}" y="${pad.top + 10}" font-size="11" fill="#dc2626">best so far</text>`,
    `<text x="${pad.left + 90}" y="${pad.top + 10}" font-size="11" fill="#3b82f6">best of step</text>`,
    `<text x="${pad.left + 180}" y="${pad.top + 10}" font-size="11" fill="#6b7280">median of step</text>`,
    '</svg>',
  ].join('');
}

/** Ancestors of the best as a layered SVG graph: one column per step, edges from parents to children. */
export function lineageSvg(records: readonly IndividualRecord[], key: string, width = 760): string {
  const nodes = lineage(records, key);
  if (nodes.length <= 1) return '';
  const stepOf = new Map(records.map((r) => [r.key, r.step]));
  const steps = [...new Set(nodes.map((n) => stepOf.get(n.key) ?? 0))].sort((a, b) => a - b);
  const columns = new Map(steps.map((s, i) => [s, i]));
  const rows = new Map<number, number>();
  const position = new Map<string, { x: number; y: number }>();
  const columnWidth = steps.length > 1 ? (width - 160) / (steps.length - 1) : 0;
  for (const node of [...nodes].sort((a, b) => (stepOf.get(a.key) ?? 0) - (stepOf.get(b.key) ?? 0))) {
    const column = columns.get(stepOf.get(node.key) ?? 0)!;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    position.set(node.key, { x: 80 + column * columnWidth, y: 30 + row * 46 });
  }
  const height = 40 + Math.max(...rows.values()) * 46;
  const short = (k: string) => (k.length > 22 ? `${k.slice(0, 10)}…${k.slice(-10)}` : k);
  const edges = nodes.flatMap((n) =>
    n.parents.filter((p) => position.has(p)).map((p) => {
      const a = position.get(p)!;
      const b = position.get(n.key)!;
      return `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="#9aa5b1" stroke-width="1.5"/>`;
    }),
  );
  const circles = nodes.map((n) => {
    const { x, y } = position.get(n.key)!;
    const colour = n.key === key ? '#dc2626' : '#3b82f6';
    return `<circle cx="${x}" cy="${y}" r="6" fill="${colour}"/><text x="${x}" y="${y + 18}" text-anchor="middle" font-size="10">${escapeHtml(short(n.key))} (${fmt(n.fitness)})</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="lineage of the best">${edges.join('')}${circles.join('')}</svg>`;
}

function parentsWithKinship(record: IndividualRecord): string {
  return (record.parents ?? []).map((p) => (record.kinship?.[p] === undefined ? p : `${p} (${record.kinship[p]!.toFixed(3)})`)).join(', ');
}

export interface ReportInput {
  readonly store: RunStore;
  readonly objective: 'min' | 'max';
  readonly bestKey: string | undefined;
  readonly notes?: readonly string[];
}

export function writeRunReport(input: ReportInput): { markdown: string; html: string } {
  const { store, objective } = input;
  const manifest = store.manifest();
  const records = store.individuals();
  const steps = stepSummaries(records, objective);
  const sorted = [...records].filter((r) => Number.isFinite(r.fitness)).sort((a, b) => (objective === 'max' ? b.fitness - a.fitness : a.fitness - b.fitness));
  const failures = records.filter((r) => !Number.isFinite(r.fitness));
  const ancestry = input.bestKey ? lineage(records, input.bestKey) : [];
  const config = manifest.config as { strategy?: { name?: string } };

  const md: string[] = [
    `# Run ${manifest.id}`,
    '',
    `- kind: ${manifest.kind}; strategy: ${config.strategy?.name ?? 'n/a'}; seed: ${manifest.seed}; status: ${manifest.status}`,
    `- evaluations: ${records.length} (${failures.length} failed); objective: ${objective === 'max' ? 'maximise' : 'minimise'} the development fitness`,
    `- best: ${input.bestKey ? `\`${input.bestKey}\` with fitness ${fmt(sorted[0]?.fitness ?? NaN)}` : 'none'}`,
    ...(input.notes ?? []).map((n) => `- ${n}`),
    '',
    '## Fitness per step',
    '',
    '| step | evaluations | best of step | median | best so far |',
    '|---|---|---|---|---|',
    ...steps.map((s) => `| ${s.step} | ${s.count} | ${fmt(s.best)} | ${fmt(s.median)} | ${fmt(s.bestSoFar)} |`),
    '',
    '## Top individuals',
    '',
    '| rank | key | fitness | parents (PCC kinship to each) |',
    '|---|---|---|---|',
    ...sorted.slice(0, 10).map((r, i) => `| ${i + 1} | \`${r.key}\` | ${fmt(r.fitness)} | ${parentsWithKinship(r)} |`),
    '',
    '## Lineage of the best',
    '',
    ...(ancestry.length ? ancestry.map((a) => `- \`${a.key}\` (fitness ${fmt(a.fitness)})${a.parents.length ? ` ← ${a.parents.map((p) => `\`${p}\``).join(' + ')}` : ''}`) : ['- (no recorded parents)']),
    '',
    ...(failures.length ? ['## Failed evaluations', '', ...failures.slice(0, 20).map((f) => `- step ${f.step} #${f.index}: ${f.failure ?? 'unknown'}`), ''] : []),
  ];
  const markdown = md.join('\n');

  const table = (rows: string[][], head: string[]) =>
    `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const html = [
    '<!doctype html><html><head><meta charset="utf-8"><title>modelevo run report</title>',
    '<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#111}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}code{font-size:12px}</style></head><body>',
    `<h1>Run ${escapeHtml(manifest.id)}</h1>`,
    `<p>${escapeHtml(`strategy ${config.strategy?.name ?? 'n/a'} · seed ${manifest.seed} · ${records.length} evaluations (${failures.length} failed) · ${objective === 'max' ? 'maximise' : 'minimise'} development fitness`)}</p>`,
    ...(input.notes ?? []).map((n) => `<p>${escapeHtml(n)}</p>`),
    '<h2>Fitness per step</h2>',
    fitnessChartSvg(steps),
    '<h2>Top individuals</h2>',
    table(sorted.slice(0, 10).map((r, i) => [String(i + 1), r.key, fmt(r.fitness), parentsWithKinship(r)]), ['rank', 'key', 'fitness', 'parents (PCC kinship to each)']),
    '<h2>Lineage of the best</h2>',
    input.bestKey ? lineageSvg(records, input.bestKey) : '',
    ancestry.length ? `<ul>${ancestry.map((a) => `<li><code>${escapeHtml(a.key)}</code> (${fmt(a.fitness)})${a.parents.length ? ` ← ${a.parents.map((p) => `<code>${escapeHtml(p)}</code>`).join(' + ')}` : ''}</li>`).join('')}</ul>` : '<p>no recorded parents</p>',
    '</body></html>',
  ].join('\n');
  writeFileSync(join(store.dir, 'report.md'), markdown);
  writeFileSync(join(store.dir, 'report.html'), html);
  return { markdown, html };
}
