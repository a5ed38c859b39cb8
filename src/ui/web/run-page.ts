/**
 * One run (`/run/<ref>`): the header, then the parts its kind has — evolve (fitness per step with reference
 * lines, individuals, lineage, kinship, per-domain losses), spatiotemporal (MAE per epoch, metrics by
 * horizon vs baselines, SynEVO gates, ComS2T split), AD-NEv level (fitness per generation), continual
 * (ACC / BWT / forgetting, accuracy matrix heat map, bases per layer per task: continual-parts.ts), or the generic
 * fitness per step. The page polls the store's events and counts every second and redraws on a change.
 */
import type { RunView } from '../views.js';
import { lineChart } from './charts.js';
import { fmt, getJson, h, num, refPath, statusBadge, table } from './dom.js';
import { individualsTable, kinshipMap, lineageGraph } from './evolve-parts.js';
import { continualParts } from './continual-parts.js';
import { forecastPart } from './forecast-part.js';
import type { ForecastIndex } from '../../spatiotemporal/forecast-artifact.js';

export type RunPageData = RunView & { results: unknown; forecast: ForecastIndex | null };

function section(title: string, testid: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { 'data-testid': testid }, h('h2', {}, title), ...children);
}

function headerPart(data: RunPageData): HTMLElement {
  const hd = data.header;
  const strategy = (hd.config as { strategy?: { name?: string } } | null)?.strategy?.name;
  if (data.view === 'continual') {
    // a continual run stores no individuals: its numbers are the accuracy rows below
    const c = (hd.config ?? {}) as { method?: string; benchmark?: string; seeds?: number };
    return h(
      'div',
      { class: 'run-header' },
      h('h1', {}, 'continual run ', h('span', { class: 'key' }, hd.id)),
      h('p', {}, statusBadge(hd.status), ` · started ${new Date(hd.createdAt).toLocaleString()} · method ${c.method ?? '?'} · benchmark ${c.benchmark ?? '?'} · ${c.seeds ?? '?'} seed(s) from ${hd.seed} · code ${hd.codeVersion}`),
    );
  }
  return h(
    'div',
    { class: 'run-header' },
    h('h1', {}, `${hd.kind} run `, h('span', { class: 'key' }, hd.id)),
    h(
      'p',
      {},
      statusBadge(hd.status),
      ` · started ${new Date(hd.createdAt).toLocaleString()} · seed ${hd.seed} · code ${hd.codeVersion}${strategy ? ` · strategy ${strategy}` : ''} · `,
      num(hd.steps, 'steps'),
      ' steps · ',
      num(hd.evaluations, 'evaluations'),
      ' evaluations (',
      num(hd.failed, 'failed'),
      ' failed) · best ',
      num(data.best?.fitness, 'best-fitness'),
      h('span', { class: 'muted' }, ` (${data.objective === 'max' ? 'maximised' : 'minimised'})`),
    ),
  );
}

function stepsChart(data: RunPageData, title: string, xLabel: string): HTMLElement {
  const steps = data.steps;
  return lineChart(
    title,
    steps.map((s) => s.step),
    [
      { label: 'best of step', values: steps.map((s) => s.best) },
      { label: 'median of step', values: steps.map((s) => s.median) },
      { label: 'best so far', values: steps.map((s) => s.bestSoFar), dash: true },
    ],
    { xLabel, yLabel: 'fitness', references: data.references.map((r) => ({ label: r.label, value: r.fitness })), testid: 'fitness-chart' },
  );
}

function evolveParts(data: RunPageData, ref: string, tableState: { sort: string; desc: boolean | undefined; offset: number }): HTMLElement[] {
  const parts = [
    section('Fitness per step', 'fitness', stepsChart(data, 'best and median fitness per step', 'step'), data.references.length ? h('p', { class: 'muted' }, `reference lines: ${data.references.map((r) => `${r.label} ${fmt(r.fitness)}`).join(' · ')}`) : null),
    section('Individuals', 'individuals-section', individualsTable(ref, tableState)),
    section('Lineage of the best', 'lineage-section', lineageGraph(data.lineage)),
    section('Kinship to parents (PCC)', 'kinship-section', kinshipMap(data.kinship)),
  ];
  const d = data.domains;
  if (d) {
    parts.push(
      section(
        'Per-domain losses',
        'domains',
        lineChart('loss per domain of each step’s best', d.steps, d.domains.map((name, i) => ({ label: name, values: d.values[i]! })), { xLabel: 'step', yLabel: 'loss' }),
        table(['domain', 'loss of the best individual'], Object.entries(d.best).map(([name, v]) => [name, num(v, `domain-${name}`)])),
      ),
    );
  }
  return parts;
}

interface HorizonResult {
  readonly method: string;
  readonly metrics: Record<string, { mae?: number; rmse?: number; mape?: number }>;
}

function horizonTable(results: unknown): HTMLElement | null {
  const list = (results as { results?: HorizonResult[] } | null)?.results;
  if (!Array.isArray(list) || list.length === 0) return null;
  const horizons = Object.keys(list[0]!.metrics ?? {});
  const rows = list.flatMap((r) => (['mae', 'rmse', 'mape'] as const).map((m) => [r.method, m.toUpperCase(), ...horizons.map((hz) => num(r.metrics[hz]?.[m], `${m}-${r.method.replace(/\s+/g, '-')}-${hz}`))]));
  return table(['method', 'metric', ...horizons.map((hz) => (hz === 'all' ? 'all horizons' : `horizon ${hz}`))], rows, { 'data-testid': 'horizon-table' });
}

/** `st coms2t` stores its test metrics as test.{plainGwn, coms2t}.{h3, h6, h12, all}: the same table as `st train`'s. */
function coms2tResults(results: unknown): { results: HorizonResult[] } | null {
  const test = (results as { test?: Record<string, Record<string, { mae?: number; rmse?: number; mape?: number }>> } | null)?.test;
  if (!test || typeof test !== 'object') return null;
  const names: Record<string, string> = { plainGwn: 'Graph WaveNet (Stage 0)', coms2t: 'ComS2T' };
  return {
    results: Object.entries(test).map(([key, byHorizon]) => ({
      method: names[key] ?? key,
      metrics: Object.fromEntries(Object.entries(byHorizon).map(([h, m]) => [h.startsWith('h') ? h.slice(1) : h, m])),
    })),
  };
}

function stParts(data: RunPageData, ref: string): HTMLElement[] {
  const parts: HTMLElement[] = data.epochs.map((e) =>
    section(
      data.epochs.length > 1 ? `Model ${e.index}: MAE per epoch` : 'Training and validation per epoch',
      `epochs-${e.index}`,
      lineChart('validation MAE and training metrics per epoch', e.epoch, [{ label: 'validation MAE', values: e.valMae }, ...Object.entries(e.metrics).map(([name, values]) => ({ label: name, values }))], { xLabel: 'epoch', yLabel: 'value', integerX: true }),
    ),
  );
  if (data.stageEpochs.length) {
    parts.push(
      section(
        'Training and validation per epoch, per stage',
        'stage-epochs',
        ...data.stageEpochs.map((s) =>
          lineChart(`${s.stage}: training loss and validation MAE`, s.epoch, [{ label: 'validation MAE', values: s.valMae }, { label: 'training loss', values: s.trainLoss }], { xLabel: 'epoch', yLabel: 'value', height: 200, integerX: true }),
        ),
      ),
    );
  }
  const horizons = horizonTable(data.results) ?? horizonTable(coms2tResults(data.results));
  if (horizons) parts.push(section('Test metrics by horizon vs the baselines', 'horizons', horizons));
  if (data.forecast) parts.push(section('Forecast vs truth for a chosen sensor', 'forecast-section', forecastPart(ref, data.forecast)));
  // SynEVO: results.json (artifacts) holds each ablation's curriculum order, κ and visits per cycle
  type HeldOut = { zeroShot?: { all?: { mae?: number } }; fewShot?: { all?: { mae?: number } } };
  const stored = data.results as { synevo?: (HeldOut & { ablation: string; order?: string[]; orderKind?: string; kappa?: number; visits?: { cycle: number; group: string; admitted: boolean }[] })[]; references?: (HeldOut & { method: string })[] } | null;
  const synevo = stored?.synevo;
  if (Array.isArray(synevo) && synevo.length) {
    // the baselines (GWN joint / sequential, with --references) on the same held-out domain
    const references = Array.isArray(stored?.references) ? stored.references : [];
    parts.push(
      section(
        'SynEVO: curriculum, κ and zero/few-shot MAE',
        'synevo',
        table(
          ['ablation', 'order', 'κ', 'cycle · group → gate', 'zero-shot MAE', 'few-shot MAE'],
          [
            ...synevo.map((s) => [s.ablation, `${(s.order ?? []).join(' → ')}${s.orderKind ? ` (${s.orderKind})` : ''}`, num(s.kappa, `kappa-${s.ablation}`), (s.visits ?? []).map((v) => `${v.cycle}·${v.group}→${v.admitted ? 'container' : 'separate'}`).join(', '), num(s.zeroShot?.all?.mae, `zero-shot-${s.ablation}`), num(s.fewShot?.all?.mae, `few-shot-${s.ablation}`)]),
            ...references.map((r) => [`baseline ${r.method}`, '', '', '', num(r.zeroShot?.all?.mae, `zero-shot-${r.method}`), num(r.fewShot?.all?.mae, `few-shot-${r.method}`)]),
          ],
        ),
      ),
    );
  }
  if (data.gates.length) {
    const rows = data.gates.map((g) => {
      const p = g as Record<string, unknown>;
      return [String(p['ablation'] ?? ''), String(p['group'] ?? ''), p['admitted'] ? 'admitted' : 'rejected', num(p['minDistance'] as number), String(p['nearest'] || '—')];
    });
    parts.push(section('SynEVO: gate decisions', 'gates', table(['ablation', 'group', 'gate', 'D_min', 'nearest'], rows)));
  }
  const split = data.weightSplit;
  if (split) {
    parts.push(
      section(
        'ComS2T: stable / dynamic split',
        'weight-split',
        h('p', {}, `${split.method}: of `, num(split.eligible, 'split-eligible'), ' eligible tensors ', num(split.stable, 'split-stable'), ' stable and ', num(split.dynamic, 'split-dynamic'), ' dynamic: stable share ', num(split.stableShare, 'stable-share'), ' · ', num(split.frozen, 'split-frozen'), ' frozen in Stage 1'),
      ),
    );
  }
  return parts;
}

function eventsPart(data: RunPageData): HTMLElement {
  const recent = data.events.slice(-12).reverse();
  return section(
    'Latest events',
    'events',
    table(['#', 'time', 'type', 'payload'], recent.map((e) => [String(e.seq), new Date(e.time).toLocaleTimeString(), e.type, h('code', {}, JSON.stringify(e.payload).slice(0, 160))])),
  );
}

/** Renders the run page and keeps it live; returns a stop function. */
export async function renderRunPage(root: HTMLElement, ref: string): Promise<() => void> {
  const tableState = { sort: 'fitness', desc: undefined as boolean | undefined, offset: 0 };
  let lastSeq = -1;
  let lastEvaluations = -1;
  let lastStatus = '';
  const draw = async () => {
    const data = await getJson<RunPageData>(`/api/run/${refPath(ref)}`);
    lastSeq = data.header.lastSeq;
    lastEvaluations = data.header.evaluations;
    lastStatus = data.header.status;
    const body =
      data.view === 'evolve'
        ? evolveParts(data, ref, tableState)
        : data.view === 'spatiotemporal'
          ? stParts(data, ref)
          : data.view === 'continual'
            ? continualParts(data.continual, data.results)
            : [section(data.view === 'anomaly-level' ? 'Fitness per generation' : 'Fitness per step', 'fitness', stepsChart(data, 'best and median fitness', data.view === 'anomaly-level' ? 'generation' : 'step'))];
    root.replaceChildren(h('p', {}, h('a', { href: '/' }, '← all runs')), headerPart(data), ...body, eventsPart(data));
    root.dataset['seq'] = String(lastSeq);
  };
  await draw();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    getJson<{ header: { lastSeq: number; evaluations: number; status: string } }>(`/api/poll/${refPath(ref)}?after=${lastSeq}`)
      .then(async (poll) => {
        if (poll.header.lastSeq !== lastSeq || poll.header.evaluations !== lastEvaluations || poll.header.status !== lastStatus) await draw();
      })
      .catch((error: unknown) => console.warn('poll failed', error))
      .finally(() => (busy = false));
  }, 1000);
  return () => clearInterval(timer);
}
