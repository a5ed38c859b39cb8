/**
 * One anomaly channel (`/channel/<run ref>/<channel>`): the test series (features selectable), each level's
 * ensemble score, labelled anomaly ranges shaded and alarms marked under the score. The server sends min/max
 * per bucket; here the series are only aligned on the union of their x positions for uPlot.
 */
import type { ChannelSeriesView } from '../channel-series.js';
import type { Downsampled } from '../downsample.js';
import { lineChart } from './charts.js';
import { getJson, h, num, refPath } from './dom.js';

/** Aligns series with their own x positions on the sorted union of them (null where a series has no point). */
export function alignOnUnion(series: readonly Downsampled[]): { x: number[]; ys: (number | null)[][] } {
  const x = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const at = new Map(x.map((v, i) => [v, i]));
  const ys = series.map((s) => {
    const column: (number | null)[] = new Array<number | null>(x.length).fill(null);
    s.x.forEach((position, i) => (column[at.get(position)!] = Number.isFinite(s.y[i]) ? s.y[i]! : null));
    return column;
  });
  return { x, ys };
}

const ALARM_COLOURS = ['rgba(220, 38, 38, 0.9)', 'rgba(217, 119, 6, 0.9)'];

export async function renderChannelPage(root: HTMLElement, path: string): Promise<void> {
  const cut = path.lastIndexOf('/');
  const runRef = path.slice(0, cut);
  const channel = path.slice(cut + 1);
  const params = new URLSearchParams(location.search);
  const width = Math.min(4000, Math.max(200, Math.round(window.innerWidth)));
  const query = new URLSearchParams({ width: String(width), ...(params.get('features') ? { features: params.get('features')! } : {}) });
  const data = await getJson<ChannelSeriesView>(`/api/channel/${refPath(path)}?${query}`);
  const labelLayer = { ranges: data.labelRanges, colour: 'rgba(245, 158, 11, 0.18)', style: 'shade' as const };
  const picker = h(
    'p',
    { 'data-testid': 'feature-picker' },
    'features: ',
    data.featureNames.map((name, i) =>
      h(
        'label',
        {},
        h('input', {
          type: 'checkbox',
          value: String(i),
          checked: data.selected.includes(i),
          onchange: () => {
            const chosen = [...root.querySelectorAll<HTMLInputElement>('[data-testid=feature-picker] input:checked')].map((c) => c.value);
            location.search = `?features=${chosen.join(',')}`;
          },
        }),
        ` ${name} `,
      ),
    ),
  );
  const features = alignOnUnion(data.features);
  root.replaceChildren(
    h('p', {}, h('a', { href: `/anomaly/${refPath(runRef)}` }, '← anomaly run')),
    h('h1', {}, 'Channel ', h('span', { class: 'key' }, channel)),
    h('p', { class: 'muted' }, num(data.steps, 'series-steps'), ` test steps, drawn as the min and max of ${data.buckets} buckets (peaks kept) · `, num(data.labelRanges.length, 'label-ranges'), ' labelled anomaly ranges (shaded)'),
    picker,
    lineChart('test series (scaled as stored)', features.x, data.selected.map((i, k) => ({ label: data.featureNames[i]!, values: features.ys[k]!, points: false })), { xLabel: 'step', yLabel: 'value', spanGaps: true, layers: [labelLayer], width: Math.min(1150, width - 40), height: 240, testid: 'channel-chart' }),
    ...data.levels.map((level) => {
      const score = alignOnUnion([level.score]);
      const methods = Object.keys(level.alarms);
      return h(
        'section',
        { 'data-testid': `level-${level.level}` },
        h('h2', {}, `${level.level}: ensemble score`),
        h(
          'p',
          { class: 'muted' },
          methods.map((m, i) => h('span', { style: `color:${ALARM_COLOURS[i % ALARM_COLOURS.length]}` }, `${m} alarms: `, num(level.alarms[m]!.length, `alarms-${level.level}-${m}`), ' ranges  ')),
          Object.entries(level.thresholds).map(([m, v]) => h('span', {}, `${m} threshold `, num(v, `threshold-${level.level}-${m}`), '  ')),
          Object.keys(level.thresholds).length ? h('span', {}, '(dashed: on the ensemble score they decide the alarms under the mean vote; the other votes count members over their own thresholds)') : null,
        ),
        lineChart(`${level.level} score`, score.x, [{ label: 'ensemble score', values: score.ys[0]!, points: false }], {
          xLabel: 'step',
          yLabel: 'score',
          spanGaps: true,
          references: Object.entries(level.thresholds).map(([m, v]) => ({ label: `${m} threshold`, value: v })),
          layers: [labelLayer, ...methods.map((m, i) => ({ ranges: level.alarms[m]!, colour: ALARM_COLOURS[i % ALARM_COLOURS.length]!, style: 'ticks' as const }))],
          width: Math.min(1150, width - 40),
          height: 200,
        }),
      );
    }),
  );
}
