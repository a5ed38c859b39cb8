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

/** Step ranges [start, end) drawn behind the lines (labelled anomalies) or as ticks under them (alarms). */
export interface RangeLayer {
  readonly ranges: readonly (readonly [number, number])[];
  readonly colour: string;
  readonly style: 'shade' | 'ticks';
}

export interface ChartOptions {
  xLabel?: string;
  yLabel?: string;
  references?: readonly { label: string; value: number }[];
  width?: number;
  height?: number;
  testid?: string;
  /** connect lines across missing points (series aligned on a union of x values) */
  spanGaps?: boolean;
  layers?: readonly RangeLayer[];
  /** x holds counts (tasks, epochs): ticks only at whole numbers */
  integerX?: boolean;
}

function drawLayers(u: uPlot, layers: readonly RangeLayer[]): void {
  const { ctx, bbox } = u;
  ctx.save();
  layers.forEach((layer, i) => {
    ctx.fillStyle = layer.colour;
    for (const [start, end] of layer.ranges) {
      const x0 = u.valToPos(start, 'x', true);
      // at least one device pixel wide, so a one-step alarm stays visible among 500,000 steps
      const width = Math.max(1, u.valToPos(end, 'x', true) - x0);
      if (layer.style === 'shade') ctx.fillRect(x0, bbox.top, width, bbox.height);
      else ctx.fillRect(x0, bbox.top + bbox.height - 6 * (i + 1), width, 5);
    }
  });
  ctx.restore();
}

export function lineChart(title: string, x: readonly number[], series: readonly LineSeries[], options: ChartOptions = {}): HTMLElement {
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
    axes: [{ label: options.xLabel ?? '', ...(options.integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}) }, { label: options.yLabel ?? '', size: 70 }],
    series: [
      { label: options.xLabel ?? 'x' },
      ...all.map((s, i) => ({
        label: s.label,
        stroke: s.colour ?? PALETTE[i % PALETTE.length],
        width: 2,
        ...(s.dash ? { dash: [6, 4] } : {}),
        points: { show: s.points ?? x.length < 60 },
        spanGaps: options.spanGaps ?? false,
      })),
    ],
    ...(options.layers?.length ? { hooks: { drawAxes: [(u: uPlot) => drawLayers(u, options.layers!)] } } : {}),
  };
  // uPlot measures its container: build it once the box is in the document
  requestAnimationFrame(() => {
    if (!box.isConnected) return;
    new uPlot(opts, data, box);
    box.dataset['rendered'] = String(x.length);
  });
  return box;
}
