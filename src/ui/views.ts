/**
 * The JSON behind each dashboard view, built from one store snapshot. Numbers are taken as stored (or
 * summarised with the same functions `runs show` and report.html use: runs/report.ts), never recomputed
 * differently in the browser; the browser only lays them out.
 */
import type { IndividualRecord } from '../runs/store.js';
import { lineage, stepSummaries, type ReferenceLine, type StepSummary } from '../runs/report.js';
import type { RunHeader, RunSnapshot, StoredEvent } from './store-reader.js';
import { CONTINUAL_RUN_KIND, continualRunView, type ContinualSeedView } from '../continual/run-events.js';

export type Objective = 'min' | 'max';

/** The run's objective as its kind records it (evolve: the fitness entry; AD-NEv: the GA params; st: val MAE). */
export function objectiveOf(config: unknown): Objective {
  const params = (config as { params?: { objective?: string } } | null)?.params;
  if (params?.objective === 'min' || params?.objective === 'max') return params.objective;
  const fitness = (config as { fitness?: Record<string, { objective?: string }> } | null)?.fitness ?? {};
  if ('builtin' in fitness) return 'min';
  return Object.values(fitness)[0]?.objective === 'min' ? 'min' : 'max';
}

/** The objective of a run of `kind`: st runs record validation MAE (minimised) even without a fitness entry. */
export function objectiveOfRun(kind: string, config: unknown): Objective {
  return kind.startsWith('st-') ? 'min' : objectiveOf(config);
}

export type ViewKind = 'evolve' | 'spatiotemporal' | 'anomaly-level' | 'continual' | 'generic';

export function viewKindOf(kind: string): ViewKind {
  if (kind === 'evolve') return 'evolve';
  if (kind === CONTINUAL_RUN_KIND) return 'continual';
  if (kind.startsWith('st-')) return 'spatiotemporal';
  if (kind.startsWith('ad-nev-')) return 'anomaly-level';
  return 'generic';
}

const better = (objective: Objective) => (a: number, b: number) => (objective === 'max' ? a > b : a < b);

export function bestOf(records: readonly IndividualRecord[], objective: Objective): IndividualRecord | undefined {
  let best: IndividualRecord | undefined;
  for (const r of records) if (Number.isFinite(r.fitness) && (!best || better(objective)(r.fitness, best.fitness))) best = r;
  return best;
}

/** A short human summary of a candidate: its merge method and weights, or its genome. */
export function summariseCandidate(record: IndividualRecord): string {
  const recipe = record.recipe as { merge_method?: string; mutation?: string; F?: number } | undefined;
  if (recipe?.mutation) return `${recipe.mutation} F=${recipe.F ?? '?'}`;
  if (recipe?.merge_method) return recipe.merge_method;
  const genome = record.genome;
  if (Array.isArray(genome)) return `[${genome.slice(0, 4).map((g) => (typeof g === 'number' ? g.toPrecision(3) : String(g))).join(', ')}${genome.length > 4 ? `, … (${genome.length})` : ''}]`;
  const text = JSON.stringify(genome);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

export interface IndividualRow {
  readonly step: number;
  readonly index: number;
  readonly key: string;
  readonly fitness: number | null;
  readonly summary: string;
  readonly parents: readonly string[];
  readonly metrics: Record<string, number>;
  readonly seconds: number;
  readonly failure: string | null;
}

export const INDIVIDUAL_SORTS = ['step', 'fitness', 'seconds'] as const;
export type IndividualSort = (typeof INDIVIDUAL_SORTS)[number];

/** One page of the individuals table, sorted on the server so 10,000 rows never travel to the browser. */
export function individualsPage(records: readonly IndividualRecord[], sort: IndividualSort, descending: boolean, offset: number, limit: number): { total: number; rows: IndividualRow[] } {
  const key = (r: IndividualRecord) => (sort === 'step' ? r.step * 1e6 + r.index : sort === 'seconds' ? r.seconds : r.fitness);
  // failed evaluations (NaN) sort last in either direction
  const sorted = [...records].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
    return descending ? y - x : x - y;
  });
  return {
    total: records.length,
    rows: sorted.slice(offset, offset + limit).map((r) => ({
      step: r.step,
      index: r.index,
      key: r.key,
      fitness: Number.isFinite(r.fitness) ? r.fitness : null,
      summary: summariseCandidate(r),
      parents: r.parents ?? [],
      metrics: r.metrics ?? {},
      seconds: r.seconds,
      failure: r.failure ?? null,
    })),
  };
}

export interface LineageNode {
  readonly key: string;
  readonly fitness: number | null;
  readonly step: number | null;
  readonly parents: readonly string[];
  /** how the child was made (Evolver mutation variant or merge method) */
  readonly strategy: string | null;
  /** Evolver: whether the child beat the parent of its slot (DE selection keeps it then); null when unknown */
  readonly accepted: boolean | null;
  readonly kinship: Record<string, number>;
}

export function lineageOf(records: readonly IndividualRecord[], key: string, objective: Objective): LineageNode[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  return lineage(records, key).map((node) => {
    const record = byKey.get(node.key);
    const recipe = record?.recipe as { parent?: string; mutation?: string; merge_method?: string } | undefined;
    const slotParent = recipe?.parent === undefined ? undefined : byKey.get(recipe.parent);
    const accepted = record && slotParent && Number.isFinite(record.fitness) && Number.isFinite(slotParent.fitness) ? !better(objective)(slotParent.fitness, record.fitness) : null;
    return {
      key: node.key,
      fitness: Number.isFinite(node.fitness) ? node.fitness : null,
      step: record?.step ?? null,
      parents: node.parents,
      strategy: recipe?.mutation ?? recipe?.merge_method ?? null,
      accepted,
      kinship: record?.kinship ?? {},
    };
  });
}

export interface KinshipHeatmap {
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  /** values[row][column]: recorded PCC kinship of a child to a parent, null where not a parent */
  readonly values: readonly (readonly (number | null)[])[];
}

/** Kinship to parents of the best `limit` individuals that recorded it (children × parents). */
export function kinshipHeatmap(records: readonly IndividualRecord[], objective: Objective, limit = 16): KinshipHeatmap | null {
  const withKinship = records.filter((r) => r.kinship && Object.keys(r.kinship).length > 0 && Number.isFinite(r.fitness));
  if (withKinship.length === 0) return null;
  const top = withKinship.sort((a, b) => (objective === 'max' ? b.fitness - a.fitness : a.fitness - b.fitness)).slice(0, limit);
  const columns = [...new Set(top.flatMap((r) => Object.keys(r.kinship!)))].sort();
  return {
    rows: top.map((r) => r.key),
    columns,
    values: top.map((r) => columns.map((c) => (typeof r.kinship![c] === 'number' && Number.isFinite(r.kinship![c]) ? r.kinship![c]! : null))),
  };
}

/** Per-domain losses (`loss_<domain>` metrics) of each step's best individual, and of the best overall. */
export function domainLosses(records: readonly IndividualRecord[], objective: Objective): { domains: string[]; steps: number[]; values: (number | null)[][]; best: Record<string, number> } | null {
  const domains = [...new Set(records.flatMap((r) => Object.keys(r.metrics ?? {}).filter((k) => k.startsWith('loss_'))))].sort();
  if (domains.length === 0) return null;
  const byStep = new Map<number, IndividualRecord[]>();
  for (const r of records) byStep.set(r.step, [...(byStep.get(r.step) ?? []), r]);
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const bests = steps.map((s) => bestOf(byStep.get(s)!, objective));
  const overall = bestOf(records, objective);
  return {
    domains: domains.map((d) => d.slice('loss_'.length)),
    steps,
    values: domains.map((d) => bests.map((b) => (b?.metrics?.[d] !== undefined && Number.isFinite(b.metrics[d]) ? b.metrics[d]! : null))),
    best: Object.fromEntries(domains.map((d) => [d.slice('loss_'.length), overall?.metrics?.[d] ?? NaN]).filter(([, v]) => Number.isFinite(v as number))),
  };
}

/**
 * Reference lines stored by `evolve` and the demo (event `references`: the base, each expert and, in the demo,
 * the best static merge); the latest such event wins (a resumed run stores them again).
 */
export function referencesOf(events: readonly StoredEvent[]): ReferenceLine[] {
  const latest = [...events].reverse().find((e) => e.type === 'references' && Array.isArray((e.payload as { references?: unknown } | null)?.references));
  const list = (latest?.payload as { references?: { label?: unknown; fitness?: unknown }[] } | undefined)?.references ?? [];
  return list.filter((r): r is ReferenceLine => typeof r.label === 'string' && typeof r.fitness === 'number');
}

/** ComS2T's stable / dynamic weight split, as `st coms2t` stores it (event `weight-split`). */
export interface WeightSplitSummary {
  readonly method: string;
  /** tensors the split ranks (BatchNorm, node embeddings and prompts are never split) */
  readonly eligible: number;
  readonly dynamic: number;
  /** eligible tensors with no dynamic element */
  readonly stable: number;
  /** stable / eligible */
  readonly stableShare: number | null;
  /** tensors frozen in Stage 1 (none in the `hip` ablation, which fine-tunes all) */
  readonly frozen: number;
}

/**
 * The latest `weight-split` event. `st coms2t` stores the eligible count and the dynamic tensors' names (an
 * eligible name list or a stable list are read too), so stable = eligible − dynamic.
 */
export function weightSplitOf(events: readonly StoredEvent[]): WeightSplitSummary | null {
  const latest = [...events].reverse().find((e) => e.type === 'weight-split');
  if (!latest) return null;
  const p = (latest.payload ?? {}) as { method?: unknown; eligible?: unknown; dynamic?: unknown; stable?: unknown; frozen?: unknown };
  const count = (v: unknown): number | undefined => (Array.isArray(v) ? v.length : typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const dynamic = count(p.dynamic) ?? 0;
  const eligible = count(p.eligible) ?? dynamic + (count(p.stable) ?? 0);
  const stable = count(p.stable) ?? eligible - dynamic;
  return { method: typeof p.method === 'string' ? p.method : '?', eligible, dynamic, stable, stableShare: eligible > 0 ? stable / eligible : null, frozen: count(p.frozen) ?? 0 };
}

/** Training per epoch of a verb that stores `epoch` events (`st coms2t`: one series per stage). */
export interface StageEpochs {
  readonly stage: string;
  readonly epoch: number[];
  readonly trainLoss: (number | null)[];
  readonly valMae: (number | null)[];
}

/** `epoch` events grouped by stage in order of appearance; a stage's epoch stored again (a resume) replaces the earlier one. */
export function stageEpochsOf(events: readonly StoredEvent[]): StageEpochs[] {
  const stages = new Map<string, Map<number, { trainLoss: number | null; valMae: number | null }>>();
  const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  for (const e of events) {
    if (e.type !== 'epoch') continue;
    const p = (e.payload ?? {}) as { stage?: unknown; epoch?: unknown; trainLoss?: unknown; valMae?: unknown };
    if (typeof p.epoch !== 'number') continue;
    const stage = typeof p.stage === 'string' ? p.stage : '';
    if (!stages.has(stage)) stages.set(stage, new Map());
    stages.get(stage)!.set(p.epoch, { trainLoss: finite(p.trainLoss), valMae: finite(p.valMae) });
  }
  return [...stages].map(([stage, byEpoch]) => {
    const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
    return { stage, epoch: epochs, trainLoss: epochs.map((k) => byEpoch.get(k)!.trainLoss), valMae: epochs.map((k) => byEpoch.get(k)!.valMae) };
  });
}

/** SynEVO's gate decisions (`gate` events), all of them: a long run's log lines would push them out of the latest events. */
export function gatesOf(events: readonly StoredEvent[]): unknown[] {
  return events.filter((e) => e.type === 'gate').map((e) => e.payload);
}

export interface RunView {
  readonly header: RunHeader;
  readonly view: ViewKind;
  readonly objective: Objective;
  readonly steps: StepSummary[];
  readonly best: { key: string; fitness: number; step: number } | null;
  readonly references: ReferenceLine[];
  readonly lineage: LineageNode[];
  readonly kinship: KinshipHeatmap | null;
  readonly domains: ReturnType<typeof domainLosses>;
  readonly epochs: { index: number; epoch: number[]; valMae: number[]; metrics: Record<string, (number | null)[]> }[];
  /** continual runs: per seed the stored accuracy rows, bases per layer per task and, once finished, ACC/BWT/forgetting */
  readonly continual: ContinualSeedView[] | null;
  readonly weightSplit: WeightSplitSummary | null;
  readonly stageEpochs: StageEpochs[];
  readonly gates: unknown[];
  readonly events: { seq: number; time: string; type: string; payload: unknown }[];
}

/** Epoch records of an `st` run (one individual per epoch, fitness = validation MAE), per model index. */
function epochsOf(records: readonly IndividualRecord[]): RunView['epochs'] {
  const indexes = [...new Set(records.map((r) => r.index))].sort((a, b) => a - b);
  return indexes.map((index) => {
    const rows = records.filter((r) => r.index === index).sort((a, b) => a.step - b.step);
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r.metrics ?? {})))].filter((k) => k !== 'valMae').sort();
    return {
      index,
      epoch: rows.map((r) => r.step),
      valMae: rows.map((r) => r.fitness),
      metrics: Object.fromEntries(keys.map((k) => [k, rows.map((r) => (Number.isFinite(r.metrics?.[k]) ? r.metrics![k]! : null))])),
    };
  });
}

/** The whole view of one run; events are the last 200 (the page polls for newer ones). */
export function runView(snapshot: RunSnapshot): RunView {
  const { header, individuals, events } = snapshot;
  const objective = objectiveOfRun(header.kind, header.config);
  const view = viewKindOf(header.kind);
  const best = bestOf(individuals, objective);
  return {
    header,
    view,
    objective,
    steps: stepSummaries(individuals, objective),
    best: best ? { key: best.key, fitness: best.fitness, step: best.step } : null,
    references: referencesOf(events),
    lineage: best && view === 'evolve' ? lineageOf(individuals, best.key, objective) : [],
    kinship: view === 'evolve' ? kinshipHeatmap(individuals, objective) : null,
    domains: view === 'evolve' ? domainLosses(individuals, objective) : null,
    epochs: view === 'spatiotemporal' ? epochsOf(individuals) : [],
    continual: view === 'continual' ? continualRunView(events) : null,
    weightSplit: view === 'spatiotemporal' ? weightSplitOf(events) : null,
    stageEpochs: view === 'spatiotemporal' ? stageEpochsOf(events) : [],
    gates: view === 'spatiotemporal' ? gatesOf(events) : [],
    events: events.slice(-200),
  };
}
