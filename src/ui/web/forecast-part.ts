/**
 * Forecast against truth for one sensor of an `st train` run (`/run/<ref>?sensor=2&horizon=12`): the stored
 * test forecasts of Graph WaveNet at one horizon and the true values, min/max per bucket from the server.
 * Sensor and horizon are in the URL, so a chosen view can be shared.
 */
import type { ForecastIndex } from '../../spatiotemporal/forecast-artifact.js';
import type { Downsampled } from '../downsample.js';
import { alignOnUnion } from './channel-page.js';
import { lineChart } from './charts.js';
import { getJson, h, refPath } from './dom.js';

interface ForecastResponse extends ForecastIndex {
  readonly sensor: number;
  readonly horizon: number;
  readonly buckets: number;
  readonly truth: Downsampled;
  readonly forecast: Downsampled;
}

export function forecastPart(ref: string, index: ForecastIndex): HTMLElement {
  const params = new URLSearchParams(location.search);
  const sensor = Math.min(index.sensorIds.length - 1, Math.max(0, Math.floor(Number(params.get('sensor') ?? 0)) || 0));
  const horizon = index.horizons.includes(Number(params.get('horizon'))) ? Number(params.get('horizon')) : index.horizons[index.horizons.length - 1]!;
  const choose = (key: 'sensor' | 'horizon') => (event: Event) => {
    const next = new URLSearchParams(location.search);
    next.set(key, (event.target as HTMLSelectElement).value);
    location.search = `?${next}`;
  };
  const box = h('div', { 'data-testid': 'forecast' }, 'loading the forecast…');
  const width = Math.min(1150, Math.max(300, window.innerWidth - 80));
  void getJson<ForecastResponse>(`/api/forecast/${refPath(ref)}?${new URLSearchParams({ sensor: String(sensor), horizon: String(horizon), width: String(width) })}`)
    .then((data) => {
      const aligned = alignOnUnion([data.truth, data.forecast]);
      box.replaceChildren(
        lineChart(`sensor ${data.sensorIds[data.sensor]}: ${data.method} ${data.horizon} steps ahead vs truth (test split)`, aligned.x, [
          { label: 'truth', values: aligned.ys[0]!, points: false },
          { label: `${data.method} (${data.horizon} steps ahead)`, values: aligned.ys[1]!, points: false },
        ], { xLabel: 'test sample', yLabel: 'value', spanGaps: true, width, height: 240, testid: 'forecast-chart', integerX: true }),
        h('p', { class: 'muted' }, data.samples > data.buckets ? `${data.samples} test samples, drawn as the min and max of each of ${data.buckets} buckets (peaks kept)` : `${data.samples} test samples, every one drawn`),
      );
    })
    .catch((error: unknown) => box.replaceChildren(h('p', { class: 'warn' }, error instanceof Error ? error.message : String(error))));
  return h(
    'div',
    {},
    h(
      'p',
      {},
      'sensor ',
      h('select', { 'data-testid': 'forecast-sensor', onchange: choose('sensor') }, index.sensorIds.map((id, i) => h('option', { value: String(i), selected: i === sensor }, id))),
      ' horizon ',
      h('select', { 'data-testid': 'forecast-horizon', onchange: choose('horizon') }, index.horizons.map((hz) => h('option', { value: String(hz), selected: hz === horizon }, `${hz} steps`))),
    ),
    box,
  );
}
