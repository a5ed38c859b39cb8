/**
 * Parts of the continual view (`/run/<ref>` of a `continual run --run-dir`): ACC / BWT / forgetting per seed
 * (stored when the seed finished) and their mean ± std over the seeds (artifacts/results.json); per seed the
 * accuracy matrix R[i][j] (after training task i, tested on task j) as a heat map with its numbers, and the
 * bases per layer after each task. Every number is a stored one; rows not trained yet stay empty.
 */
import type { ContinualSeedView } from '../../continual/run-events.js';
import { lineChart } from './charts.js';
import { h, heat, num, table } from './dom.js';

interface MeanStd {
  readonly mean: number;
  readonly std: number;
}

/** results.json of a finished continual run (the command's --json output) */
interface ContinualResults {
  readonly acc?: MeanStd;
  readonly bwt?: MeanStd;
  readonly bwtAll?: MeanStd;
  readonly forgetting?: MeanStd;
}

const METRICS = [
  ['acc', 'ACC'],
  ['bwt', 'BWT'],
  ['bwtAll', 'BWT (all tasks)'],
  ['forgetting', 'forgetting'],
] as const;

function section(title: string, testid: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { 'data-testid': testid }, h('h2', {}, title), ...children);
}

function summaryTable(seeds: readonly ContinualSeedView[], results: ContinualResults | null): HTMLElement {
  const rows = seeds.map((s) => [
    `seed ${s.seed}`,
    `${s.accuracy.filter(Boolean).length} of ${taskCount(s)}`,
    ...METRICS.map(([key]) => num(s.summary?.[key], `${key}-seed-${s.seed}`)),
  ]);
  if (results?.acc) {
    rows.push([
      h('strong', {}, `mean ± std over ${seeds.length} seed${seeds.length === 1 ? '' : 's'}`),
      '',
      ...METRICS.map(([key]) => h('span', {}, num(results[key]?.mean, `${key}-mean`), ' ± ', num(results[key]?.std, `${key}-std`))),
    ]);
  }
  return h(
    'div',
    {},
    table(['', 'tasks trained', ...METRICS.map(([, label]) => label)], rows, { 'data-testid': 'continual-summary' }),
    h('p', { class: 'muted' }, 'accuracies are fractions of the test set; BWT averages R[T−1][j] − R[j][j] over the earlier tasks (GEM), "all tasks" divides by T (FS-DGPM); forgetting: mean drop from the best earlier accuracy. A seed shows n/a until it finished.'),
  );
}

/** T, the number of tasks: every stored row holds one accuracy per task */
function taskCount(seed: ContinualSeedView): number {
  return seed.accuracy.find(Boolean)?.length ?? 0;
}

/** The accuracy matrix as a heat map on a fixed 0–1 scale (white → blue), the diagonal outlined. */
function accuracyMatrix(seed: ContinualSeedView): HTMLElement {
  const T = taskCount(seed);
  const tasks = Array.from({ length: T }, (_, j) => j);
  return h(
    'table',
    { class: 'heatmap', 'data-testid': `accuracy-${seed.seed}` },
    h('thead', {}, h('tr', {}, h('th', {}, 'trained \\ tested'), tasks.map((j) => h('th', {}, `task ${j}`)))),
    h(
      'tbody',
      {},
      tasks.map((i) =>
        h(
          'tr',
          {},
          h('th', {}, `after task ${i}`),
          tasks.map((j) => {
            const v = seed.accuracy[i]?.[j];
            if (v === undefined) return h('td', { class: 'muted' }, '');
            const style = `background:${heat(v)};color:${v > 0.6 ? '#fff' : '#111'}${i === j ? ';outline:2px solid #111827;outline-offset:-2px' : ''}`;
            return h('td', { style }, num(v, `r-${seed.seed}-${i}-${j}`));
          }),
        ),
      ),
    ),
  );
}

/** Stored basis vectors per layer after each task: a table and a line per layer. */
function basesPart(seed: ContinualSeedView): HTMLElement {
  const stored = seed.basisSizesPerTask.map((sizes, task) => ({ task, sizes })).filter((r) => Array.isArray(r.sizes));
  if (stored.length === 0) return h('p', { class: 'muted' }, 'no bases stored yet (or the run stored no per-task rows)');
  const layers = Math.max(...stored.map((r) => r.sizes.length));
  const layerIds = Array.from({ length: layers }, (_, l) => l);
  return h(
    'div',
    {},
    table(
      ['after task', ...layerIds.map((l) => `layer ${l}`)],
      stored.map((r) => [String(r.task), ...layerIds.map((l) => num(r.sizes[l], `basis-${seed.seed}-${r.task}-${l}`))]),
      { 'data-testid': `bases-${seed.seed}` },
    ),
    lineChart(
      `seed ${seed.seed}: basis vectors per layer after each task`,
      stored.map((r) => r.task),
      layerIds.map((l) => ({ label: `layer ${l}`, values: stored.map((r) => r.sizes[l] ?? null) })),
      { xLabel: 'task', yLabel: 'basis vectors', height: 220, integerX: true },
    ),
  );
}

export function continualParts(seeds: readonly ContinualSeedView[] | null, results: unknown): HTMLElement[] {
  if (!seeds || seeds.length === 0) return [section('Continual run', 'continual-empty', h('p', { class: 'muted' }, 'no task finished yet'))];
  const finished = results !== null && typeof results === 'object' && 'acc' in results ? (results as ContinualResults) : null;
  return [
    section('ACC, BWT and forgetting', 'continual-metrics', summaryTable(seeds, finished)),
    ...seeds.flatMap((seed) => [
      section(`Seed ${seed.seed}: accuracy matrix (task trained × task tested)`, `matrix-${seed.seed}`, accuracyMatrix(seed)),
      section(`Seed ${seed.seed}: bases per layer per task`, `bases-section-${seed.seed}`, basesPart(seed)),
    ]),
  ];
}
