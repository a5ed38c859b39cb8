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

/** A horizontal line at a reference model's fitness (the base, each parent), drawn behind the curves. */
export interface ReferenceLine {
  readonly label: string;
  readonly fitness: number;
}

const REFERENCE_COLOURS = ['#111827', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2'];

export function fitnessChartSvg(steps: readonly StepSummary[], references: readonly ReferenceLine[] = [], width = 640, height = 280): string {
  const refs = references.filter((r) => Number.isFinite(r.fitness));
  const finite = [...steps.flatMap((s) => [s.best, s.median, s.bestSoFar]), ...refs.map((r) => r.fitness)].filter(Number.isFinite);
  if (steps.length === 0 || finite.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40"><text x="8" y="24">no evaluations</text></svg>`;
  const pad = { left: 64, right: refs.length ? 150 : 16, top: 16, bottom: 36 };
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo || Math.abs(hi) || 1;
  const x = (i: number) => pad.left + (steps.length === 1 ? 0.5 : i / (steps.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - lo) / span) * (height - pad.top - pad.bottom);
  const line = (pick: (s: StepSummary) => number, colour: string, dash = '') => {
    const points = steps.map((s, i) => (Number.isFinite(pick(s)) ? `${x(i).toFixed(1)},${y(pick(s)).toFixed(1)}` : '')).filter(Boolean);
    // markers too, so a run of a single step still shows its points (a one-point polyline draws nothing)
    const markers = steps
      .map((s, i) => (Number.isFinite(pick(s)) ? `<circle cx="${x(i).toFixed(1)}" cy="${y(pick(s)).toFixed(1)}" r="3" fill="${colour}"/>` : ''))
      .join('');
    return `<polyline fill="none" stroke="${colour}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${points.join(' ')}"/>${markers}`;
  };
  // labels sit right of the plot, pushed apart when two references are closer than a text line
  let lastLabel = -Infinity;
  const referenceLines = [...refs]
    .sort((a, b) => y(a.fitness) - y(b.fitness))
    .map((r, i) => {
      const colour = REFERENCE_COLOURS[i % REFERENCE_COLOURS.length]!;
      const at = y(r.fitness);
      lastLabel = Math.max(at + 4, lastLabel + 11);
      return `<line x1="${pad.left}" x2="${width - pad.right}" y1="${at.toFixed(1)}" y2="${at.toFixed(1)}" stroke="${colour}" stroke-width="1" stroke-dasharray="2 3"/><text x="${width - pad.right + 4}" y="${lastLabel.toFixed(1)}" font-size="10" fill="${colour}">${escapeHtml(`${r.label} ${fmt(r.fitness)}`)}</text>`;
    })
    .join('');
  const ticks = [lo, lo + span / 2, hi]
    .map((v) => `<text x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${fmt(v)}</text><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="fitness per step">`,
    ticks,
    referenceLines,
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

/** Splits a name into lines of at most `width` characters, preferring breaks after / , ( and spaces; never drops text. */
export function wrapName(name: string, width = 28): string[] {
  const lines: string[] = [];
  let rest = name;
  while (rest.length > width) {
    const window = rest.slice(0, width);
    const cut = Math.max(window.lastIndexOf('/'), window.lastIndexOf(','), window.lastIndexOf('('), window.lastIndexOf(' '));
    const at = cut > 0 ? cut + 1 : width;
    lines.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  lines.push(rest);
  return lines;
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
  const height = 40 + Math.max(...rows.values()) * 46 + 12 * (Math.max(...nodes.map((n) => wrapName(n.key).length)) - 1);
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
    const lines = wrapName(`${n.key} (${fmt(n.fitness)})`);
    const text = lines.map((l, i) => `<tspan x="${x}" dy="${i === 0 ? 0 : 12}">${escapeHtml(l)}</tspan>`).join('');
    return `<circle cx="${x}" cy="${y}" r="6" fill="${colour}"/><text x="${x}" y="${y + 18}" text-anchor="middle" font-size="10">${text}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="lineage of the best">${edges.join('')}${circles.join('')}</svg>`;
}

function parentsWithKinship(record: IndividualRecord): string {
  // a kinship is stored as null when it is undefined (e.g. a zero delta): print the parent without it
  return (record.parents ?? []).map((p) => (typeof record.kinship?.[p] === 'number' && Number.isFinite(record.kinship[p]) ? `${p} (${record.kinship[p]!.toFixed(3)})` : p)).join(', ');
}

export interface ReportInput {
  readonly store: RunStore;
  readonly objective: 'min' | 'max';
  readonly bestKey: string | undefined;
  readonly notes?: readonly string[];
  /** fitness of the base and of each parent on the same development data, drawn as reference lines */
  readonly references?: readonly ReferenceLine[];
  /** names of the genes when genomes are real vectors (model × layer group …) */
  readonly geneNames?: readonly string[];
}

function genomeTable(record: IndividualRecord | undefined, names: readonly string[] | undefined): string[][] {
  const genome = record?.genome;
  if (!names || !Array.isArray(genome) || genome.length !== names.length) return [];
  return names.map((name, i) => [name, fmt(Number(genome[i]))]);
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
  const genes = genomeTable(input.bestKey === undefined ? undefined : records.find((r) => r.key === input.bestKey), input.geneNames);

  const md: string[] = [
    `# Run ${manifest.id}`,
    '',
    `- kind: ${manifest.kind}; strategy: ${config.strategy?.name ?? 'n/a'}; seed: ${manifest.seed}; status: ${manifest.status}`,
    `- evaluations: ${records.length} (${failures.length} failed); objective: ${objective === 'max' ? 'maximise' : 'minimise'} the development fitness`,
    `- best: ${input.bestKey ? `\`${input.bestKey}\` with fitness ${fmt(sorted[0]?.fitness ?? NaN)}` : 'none'}`,
    ...(input.notes ?? []).map((n) => `- ${n}`),
    ...(input.references?.length ? ['', '## Reference models (same development data)', '', ...input.references.map((r) => `- ${r.label}: ${fmt(r.fitness)}`)] : []),
    ...(genes.length ? ['', '## Genome of the best, by gene', '', '| gene (model × layer group · parameter) | value |', '|---|---|', ...genes.map(([n, v]) => `| ${n} | ${v} |`)] : []),
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
    fitnessChartSvg(steps, input.references ?? []),
    ...(genes.length ? ['<h2>Genome of the best, by gene</h2>', table(genes, ['gene (model × layer group · parameter)', 'value'])] : []),
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
