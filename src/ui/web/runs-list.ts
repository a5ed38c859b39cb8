/** The runs list (`/` and `/runs?kind=…`): every stored run with its live status; filter by kind. */
import type { AnomalyRunEntry } from '../anomaly-view.js';
import type { RunListEntry } from '../server.js';
import { getJson, h, num, refPath, statusBadge } from './dom.js';

export interface RunsResponse {
  readonly roots: readonly string[];
  readonly runs: readonly RunListEntry[];
  readonly anomaly: readonly AnomalyRunEntry[];
  readonly skipped: readonly { ref: string; message: string }[];
}

export async function renderRunsList(root: HTMLElement): Promise<() => Promise<void>> {
  const kind = new URLSearchParams(location.search).get('kind') ?? '';
  const draw = async () => {
    const data = await getJson<RunsResponse>('/api/runs');
    const kinds = [...new Set(data.runs.map((r) => r.kind))].sort();
    const shown = data.runs.filter((r) => !kind || r.kind === kind || (kind === 'anomaly' && r.kind.startsWith('ad-nev-')) || (kind === 'st' && r.kind.startsWith('st-')));
    const select = h(
      'select',
      {
        'data-testid': 'kind-filter',
        onchange: (event: Event) => {
          const value = (event.target as HTMLSelectElement).value;
          location.href = value ? `/runs?kind=${encodeURIComponent(value)}` : '/';
        },
      },
      h('option', { value: '' }, 'all kinds'),
      kinds.map((k) => h('option', { value: k, selected: k === kind }, k)),
    );
    const rows = shown.map((r) =>
      h(
        'tr',
        { 'data-ref': r.ref, 'data-testid': 'run-row' },
        h('td', {}, h('a', { href: `/run/${refPath(r.ref)}` }, r.ref)),
        h('td', { 'data-testid': 'kind' }, r.kind),
        h('td', {}, statusBadge(r.status)),
        h('td', {}, new Date(r.createdAt).toLocaleString()),
        ...(r.continual
          ? // a continual run: tasks trained (all seeds) as its steps, no evaluations, ACC as its headline
            [h('td', { class: 'n', title: 'tasks trained, all seeds' }, num(r.continual.tasks, 'tasks'), ' tasks'), h('td', { class: 'n muted' }, '—'), h('td', { class: 'n' }, h('span', { class: 'muted' }, 'ACC '), num(r.continual.acc, 'acc'), h('span', { class: 'muted' }, ' ↑'))]
          : [
              h('td', { class: 'n' }, num(r.steps, 'steps')),
              h('td', { class: 'n' }, num(r.evaluations, 'evaluations')),
              h('td', { class: 'n' }, num(r.best, 'best'), h('span', { class: 'muted' }, r.objective === 'max' ? ' ↑' : ' ↓')),
            ]),
        h('td', { class: 'muted' }, r.codeVersion),
      ),
    );
    const parts: (HTMLElement | null)[] = [
      h('h1', {}, 'Runs'),
      h('p', { class: 'muted' }, `folders: ${data.roots.join(', ')} · ${data.runs.length} runs · updated ${new Date().toLocaleTimeString()}`),
      h('p', {}, 'kind: ', select),
      rows.length
        ? h('table', { 'data-testid': 'runs-table' }, h('thead', {}, h('tr', {}, ['run', 'kind', 'status', 'started', 'steps', 'evaluations', 'best fitness', 'code version'].map((c) => h('th', {}, c)))), h('tbody', {}, rows))
        : h('p', {}, 'no runs here yet: start one (e.g. modelevo evolve examples/evolve/cma-es.yml --run-dir runs/cma)'),
      data.anomaly.length
        ? h('section', {}, h('h2', {}, 'Anomaly runs (AD-NEv)'), h('ul', {}, data.anomaly.map((a) => h('li', {}, h('a', { href: `/anomaly/${refPath(a.ref)}`, 'data-testid': 'anomaly-link' }, a.ref), ` · ${a.finished ? 'finished' : 'in progress'}`))))
        : null,
      data.skipped.length ? h('p', { class: 'warn' }, `skipped (unreadable): ${data.skipped.map((s) => `${s.ref}: ${s.message}`).join('; ')}`) : null,
    ];
    root.replaceChildren(...parts.filter((part): part is HTMLElement => part !== null));
  };
  await draw();
  return draw;
}
