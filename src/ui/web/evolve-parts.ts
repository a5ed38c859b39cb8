/** Parts of the evolve view: the sortable, paged individuals table, the lineage graph and the kinship heat map. */
import type { IndividualRow, KinshipHeatmap, LineageNode } from '../views.js';
import { fmt, getJson, h, heat, num, refPath, shortKey } from './dom.js';

const PAGE_SIZE = 50;

interface Page {
  readonly sort: string;
  readonly descending: boolean;
  readonly offset: number;
  readonly total: number;
  readonly rows: readonly IndividualRow[];
}

/** The individuals table; its sort and page survive live refreshes (state lives in the returned element). */
export function individualsTable(ref: string, state: { sort: string; desc: boolean | undefined; offset: number }): HTMLElement {
  const box = h('div', { 'data-testid': 'individuals' }, 'loading individuals…');
  const load = async () => {
    const query = new URLSearchParams({ sort: state.sort, offset: String(state.offset), limit: String(PAGE_SIZE), ...(state.desc === undefined ? {} : { desc: state.desc ? '1' : '0' }) });
    const page = await getJson<Page>(`/api/individuals/${refPath(ref)}?${query}`);
    const header = (label: string, sort?: string) =>
      h(
        'th',
        sort
          ? {
              class: 'sortable',
              'data-sort': sort,
              onclick: () => {
                state.desc = state.sort === sort ? !page.descending : undefined;
                state.sort = sort;
                state.offset = 0;
                void load();
              },
            }
          : {},
        label,
        sort === page.sort ? (page.descending ? ' ▼' : ' ▲') : '',
      );
    const metricNames = [...new Set(page.rows.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 6);
    const pager = h(
      'p',
      { class: 'pager' },
      h('button', { disabled: state.offset === 0, onclick: () => ((state.offset = Math.max(0, state.offset - PAGE_SIZE)), void load()) }, '← previous'),
      ` ${page.total === 0 ? 0 : page.offset + 1}–${Math.min(page.total, page.offset + PAGE_SIZE)} of ${page.total} `,
      h('button', { disabled: page.offset + PAGE_SIZE >= page.total, onclick: () => ((state.offset += PAGE_SIZE), void load()) }, 'next →'),
    );
    box.replaceChildren(
      h(
        'table',
        { class: 'individuals' },
        h('thead', {}, h('tr', {}, header('step', 'step'), header('#'), header('key'), header('fitness', 'fitness'), header('recipe / genome'), header('parents'), metricNames.map((m) => header(m)), header('seconds', 'seconds'), header('failure'))),
        h(
          'tbody',
          {},
          page.rows.map((r) =>
            h(
              'tr',
              { 'data-key': r.key, class: r.failure ? 'failed' : '' },
              h('td', { class: 'n' }, r.step),
              h('td', { class: 'n' }, r.index),
              h('td', { class: 'key', title: r.key }, shortKey(r.key)),
              h('td', { class: 'n' }, num(r.fitness, 'fitness')),
              h('td', {}, r.summary),
              h('td', { class: 'key', title: r.parents.join(', ') }, r.parents.map(shortKey).join(', ')),
              metricNames.map((m) => h('td', { class: 'n' }, num(r.metrics[m]))),
              h('td', { class: 'n' }, fmt(r.seconds)),
              h('td', { class: 'warn' }, r.failure ?? ''),
            ),
          ),
        ),
      ),
      pager,
    );
  };
  void load();
  return box;
}

/** Lineage of the best as an SVG: one row per generation back, arrows parent → child, strategy and accepted/rejected on the child. */
export function lineageGraph(nodes: readonly LineageNode[]): HTMLElement {
  if (nodes.length === 0) return h('p', { class: 'muted' }, 'no lineage recorded (the strategy records no parents)');
  const depth = new Map<string, number>([[nodes[0]!.key, 0]]);
  for (const node of nodes) for (const p of node.parents) if (!depth.has(p)) depth.set(p, (depth.get(node.key) ?? 0) + 1);
  const levels: string[][] = [];
  for (const node of nodes.slice(0, 60)) (levels[depth.get(node.key) ?? 0] ??= []).push(node.key);
  const width = 900;
  const rowHeight = 86;
  const pos = new Map<string, { x: number; y: number }>();
  levels.forEach((keys, level) => keys.forEach((key, i) => pos.set(key, { x: ((i + 1) * width) / (keys.length + 1), y: 30 + (levels.length - 1 - level) * rowHeight })));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(levels.length * rowHeight + 20));
  svg.setAttribute('data-testid', 'lineage');
  const add = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    svg.append(el);
    return el;
  };
  for (const node of nodes) {
    const to = pos.get(node.key);
    for (const parent of node.parents) {
      const from = pos.get(parent);
      if (to && from) add('line', { x1: from.x, y1: from.y + 8, x2: to.x, y2: to.y - 8, stroke: '#9ca3af', 'stroke-width': 1.5 });
    }
  }
  for (const node of nodes) {
    const at = pos.get(node.key);
    if (!at) continue;
    const colour = node.accepted === false ? '#dc2626' : node.accepted === true ? '#059669' : '#2563eb';
    add('circle', { cx: at.x, cy: at.y, r: 7, fill: colour });
    add('text', { x: at.x, y: at.y + 22, 'text-anchor': 'middle', 'font-size': 11 }, shortKey(node.key).length > 28 ? `${shortKey(node.key).slice(0, 26)}…` : shortKey(node.key));
    const detail = [fmt(node.fitness), node.strategy ?? '', node.accepted === null ? '' : node.accepted ? 'accepted' : 'rejected'].filter(Boolean).join(' · ');
    add('text', { x: at.x, y: at.y + 35, 'text-anchor': 'middle', 'font-size': 10, fill: '#4b5563' }, detail);
  }
  return h('div', { class: 'scroll' }, svg as unknown as HTMLElement);
}

/** Kinship to parents (PCC) as a heat map table: children (best first) × parents. */
export function kinshipMap(map: KinshipHeatmap | null): HTMLElement {
  if (!map) return h('p', { class: 'muted' }, 'no kinship recorded (set record_kinship: true)');
  const finite = map.values.flat().filter((v): v is number => v !== null);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return h(
    'table',
    { class: 'heatmap', 'data-testid': 'kinship' },
    h('thead', {}, h('tr', {}, h('th', {}, 'child \\ parent'), map.columns.map((c) => h('th', { class: 'key', title: c }, shortKey(c))))),
    h(
      'tbody',
      {},
      map.rows.map((row, i) =>
        h(
          'tr',
          {},
          h('th', { class: 'key', title: row }, shortKey(row)),
          map.values[i]!.map((v) => h('td', { style: v === null ? '' : `background:${heat(hi > lo ? (v - lo) / (hi - lo) : 0.5)};color:${hi > lo && (v - lo) / (hi - lo) > 0.6 ? '#fff' : '#111'}` }, v === null ? '' : num(v))),
        ),
      ),
    ),
  );
}
