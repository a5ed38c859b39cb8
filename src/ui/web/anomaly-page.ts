/**
 * An AD-NEv run folder (`/anomaly/<ref>`): per channel and level the stored detection metrics (F1, PA-F1,
 * event F1, … by threshold method) from results.json, and each level's fitness per generation from its store.
 */
import type { AnomalyView } from '../anomaly-view.js';
import { lineChart } from './charts.js';
import { getJson, h, num, refPath, statusBadge, table } from './dom.js';

interface LevelResult {
  readonly level: string;
  readonly validationFitness: number;
  readonly metrics?: Record<string, number>;
}

/** the metric columns, in this order when present (threshold method prefix stripped for the header) */
const METRIC_ORDER = ['f1', 'pa_f1', 'event_f1', 'precision', 'recall', 'vus_pr', 'affiliation_f1', 'alarm_rate'];

export async function renderAnomalyPage(root: HTMLElement, ref: string): Promise<() => void> {
  const draw = async () => {
    const data = await getJson<AnomalyView>(`/api/anomaly/${refPath(ref)}`);
    const channels = Array.isArray(data.results) ? (data.results as { id: string; levels: LevelResult[] }[]) : [];
    const metricKeys = [...new Set(channels.flatMap((c) => c.levels.flatMap((l) => Object.keys(l.metrics ?? {}))))].sort((a, b) => {
      const rank = (k: string) => {
        const i = METRIC_ORDER.findIndex((m) => k.endsWith(`_${m}`) || k === m);
        return i < 0 ? METRIC_ORDER.length : i;
      };
      return rank(a) - rank(b) || a.localeCompare(b);
    });
    const rows = channels.flatMap((c) => c.levels.map((l) => [c.id, l.level, num(l.validationFitness, `val-${c.id}-${l.level}`), ...metricKeys.map((k) => num(l.metrics?.[k], `${k}-${c.id}-${l.level}`))]));
    root.replaceChildren(
      h('p', {}, h('a', { href: '/' }, '← all runs')),
      h('h1', {}, 'Anomaly run ', h('span', { class: 'key' }, ref)),
      h('p', { class: 'muted' }, `dataset: ${JSON.stringify((data.manifest as { dataset?: unknown } | null)?.dataset ?? null)}`),
      h('p', {}, data.channels.length ? ['test series, score and alarms per channel: ', ...data.channels.map((c) => h('a', { href: `/channel/${refPath(`${ref}/${c}`)}`, 'data-testid': 'channel-link' }, c, ' '))] : h('span', { class: 'muted' }, 'no channel test series stored')),
      h(
        'section',
        { 'data-testid': 'anomaly-levels' },
        h('h2', {}, 'Per level: detection metrics (test part)'),
        rows.length ? table(['channel', 'level', 'validation error', ...metricKeys], rows) : h('p', { class: 'muted' }, 'no results.json yet: the run is in progress'),
      ),
      h(
        'section',
        { 'data-testid': 'anomaly-generations' },
        h('h2', {}, 'Fitness per generation, per level'),
        ...data.levels.map((level) =>
          h(
            'div',
            {},
            h('h3', {}, h('a', { href: `/run/${refPath(level.ref)}` }, `${level.channel} · ${level.level}`), ' ', statusBadge(level.status), ` · ${level.evaluations} evaluations`),
            lineChart(
              `${level.channel} ${level.level}: validation error per generation`,
              level.generations.map((g) => g.step),
              [
                { label: 'best', values: level.generations.map((g) => g.best) },
                { label: 'median', values: level.generations.map((g) => g.median) },
              ],
              { xLabel: 'generation', yLabel: 'validation error', height: 200 },
            ),
          ),
        ),
      ),
    );
  };
  await draw();
  const timer = setInterval(() => void draw().catch((error: unknown) => console.warn('refresh failed', error)), 2000);
  return () => clearInterval(timer);
}
