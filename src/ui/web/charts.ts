/**
 * Line charts with uPlot (bundled, no CDN). One helper: x values, named y series (null breaks a line), and
 * optional horizontal reference lines drawn as constant dashed series.
 */
import uPlot from 'uplot';
import { h } from './dom.js';

export interface LineSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly colour?: string;
  readonly dash?: boolean;
  readonly points?: boolean;
}

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];

export function lineChart(title: string, x: readonly number[], series: readonly LineSeries[], options: { xLabel?: string; yLabel?: string; references?: readonly { label: string; value: number }[]; width?: number; height?: number; testid?: string } = {}): HTMLElement {
  const box = h('div', { class: 'chart', ...(options.testid ? { 'data-testid': options.testid } : {}) });
  const refs = (options.references ?? []).filter((r) => Number.isFinite(r.value));
  const all = [...series, ...refs.map((r, i) => ({ label: r.label, values: x.map(() => r.value), colour: PALETTE[(series.length + i) % PALETTE.length], dash: true, points: false }))];
  const clean = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);
  const data = [Float64Array.from(x), ...all.map((s) => s.values.map(clean))] as unknown as uPlot.AlignedData;
  const opts: uPlot.Options = {
    title,
    width: options.width ?? 760,
    height: options.height ?? 260,
    scales: { x: { time: false } },
    axes: [{ label: options.xLabel ?? '' }, { label: options.yLabel ?? '', size: 70 }],
    series: [
      { label: options.xLabel ?? 'x' },
      ...all.map((s, i) => ({
        label: s.label,
        stroke: s.colour ?? PALETTE[i % PALETTE.length],
        width: 2,
        ...(s.dash ? { dash: [6, 4] } : {}),
        points: { show: s.points ?? x.length < 60 },
        spanGaps: false,
      })),
    ],
  };
  // uPlot measures its container: build it once the box is in the document
  requestAnimationFrame(() => {
    if (!box.isConnected) return;
    new uPlot(opts, data, box);
    box.dataset['rendered'] = String(x.length);
  });
  return box;
}
