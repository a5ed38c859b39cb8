/**
 * Multi-channel AD-NEv runs (ad-nev.md §2, §6): resolves the dataset (SMAP, MSL or a user CSV), evolves
 * every channel with the pipeline, saves each level's members as safetensors, and evaluates every level on
 * the labelled test part when one exists. Results are written to `<runDir>/results.json`; the run directory
 * is resumable (each level keeps its own run store).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { basename, join } from 'node:path';
import { ModelevoError } from '../../core/errors.js';
import { EnginePool, type PoolStats } from './pool.js';
import { loadModel, saveModel } from './model-io.js';
import { listChannels, loadChannel, resolveSmapMslRoot } from '../../tasks/anomaly/smap-msl.js';
import { readCsvSeries, type ImputePolicy } from '../../tasks/anomaly/csv-series.js';
import { applyScaler, type Scaler, type Series } from '../../tasks/anomaly/series.js';
import { bestF1Oracle, paKCurve, pointAdjustedPrf, prf, rangePrf, thresholdPredictions } from '../../tasks/anomaly/metrics.js';
import { eventPrf, eventPrfAsCoded } from '../../tasks/anomaly/events.js';
import { alarmRate } from '../../tasks/anomaly/floors.js';
import type { AdNevConfig } from './config.js';
import { ensembleDecisions, scoreEnsemble, type EnsembleThresholds, type Member, type MemberThresholds, type ThresholdMethod } from './ensemble.js';
import { medianSegmentLength, vus } from '../../tasks/anomaly/vus.js';
import { prepareChannel } from './channel.js';
import { evolveChannel, type LevelName, type LevelSnapshot } from './pipeline.js';
import { evolveSharedSubspaces } from './shared-subspaces.js';

export interface DatasetSpec {
  /** `smap`, `msl` or a CSV path */
  readonly dataset: string;
  readonly channels?: readonly string[];
  readonly dataDir?: string;
  /** CSV only: a labelled test CSV */
  readonly testCsv?: string;
  readonly impute?: ImputePolicy;
}

export interface ChannelInput {
  readonly id: string;
  readonly train: Series;
  readonly test?: Series;
  readonly labels?: Uint8Array;
}

export function loadDataset(spec: DatasetSpec, convention: AdNevConfig['convention']): ChannelInput[] {
  const kind = spec.dataset.toLowerCase();
  if (kind === 'smap' || kind === 'msl') {
    const root = resolveSmapMslRoot(spec.dataDir);
    const known = listChannels(root, kind === 'smap' ? 'SMAP' : 'MSL');
    const ids = spec.channels && spec.channels.length > 0 ? spec.channels : known;
    for (const id of ids) {
      if (!known.includes(id)) throw new ModelevoError('UNKNOWN_NAME', `channel '${id}' is not a ${kind.toUpperCase()} channel in ${root}`, { hint: `known channels: ${known.join(', ')}` });
    }
    return ids.map((id) => {
      const channel = loadChannel(root, id, convention);
      return { id, train: channel.train, test: channel.test, labels: channel.labels };
    });
  }
  const train = readCsvSeries(spec.dataset, { impute: spec.impute ?? 'reject' });
  const test = spec.testCsv ? readCsvSeries(spec.testCsv, { impute: spec.impute ?? 'reject' }) : undefined;
  if (test && test.series.names.join(',') !== train.series.names.join(',')) {
    throw new ModelevoError('SHAPE_MISMATCH', `test CSV columns (${test.series.names.join(', ')}) differ from training columns (${train.series.names.join(', ')})`, { hint: 'use the same header in both files' });
  }
  return [{ id: basename(spec.dataset).replace(/\.csv$/i, ''), train: train.series, ...(test ? { test: test.series, ...(test.labels ? { labels: test.labels } : {}) } : {}) }];
}

export interface LevelReport {
  readonly level: LevelName;
  readonly validationFitness: number;
  readonly members: { features: readonly number[]; convLayers: number; window: number }[];
  /** metrics keyed by threshold method (`pot`, `percentile`) and the oracle */
  readonly metrics?: Record<string, number>;
}

export interface ChannelReport {
  readonly id: string;
  readonly levels: LevelReport[];
  readonly seconds: number;
}

export const VOTES = ['mean', 'majority', 'any'] as const satisfies readonly AdNevConfig['vote'][];

/** one level on one channel: the continuous ensemble score and the decisions of every vote rule and threshold method */
export interface LevelOutput {
  readonly score: Float64Array;
  readonly decisions: Record<AdNevConfig['vote'], Record<ThresholdMethod, Uint8Array>>;
  /** per member: fraction of test steps above its own threshold (POT and percentile) */
  readonly memberAlarmRates: Record<ThresholdMethod, number[]>;
  /** the calibrated thresholds on the ensemble score (they decide the alarms under the `mean` vote) */
  readonly ensembleThresholds: EnsembleThresholds;
}

/** per level: scores and decisions with the labels, for pooled metrics */
export interface ChannelOutputs {
  readonly labels: Uint8Array;
  readonly levels: Map<LevelName, LevelOutput>;
}

export function detectionMetrics(predictions: Uint8Array, score: Float64Array, labels: Uint8Array, prefix: string): Record<string, number> {
  const plain = prf(predictions, labels);
  const pa = pointAdjustedPrf(predictions, labels);
  const range = rangePrf(predictions, labels);
  const events = eventPrf(predictions, labels);
  return {
    [`${prefix}_alarm_rate`]: alarmRate(predictions),
    [`${prefix}_precision`]: plain.precision,
    [`${prefix}_recall`]: plain.recall,
    [`${prefix}_f1`]: plain.f1,
    [`${prefix}_pa_precision`]: pa.precision,
    [`${prefix}_pa_recall`]: pa.recall,
    [`${prefix}_pa_f1`]: pa.f1,
    [`${prefix}_pak_auc`]: paKCurve(predictions, labels).auc,
    [`${prefix}_range_f1`]: range.f1,
    [`${prefix}_event_precision`]: events.precision,
    [`${prefix}_event_recall`]: events.recall,
    [`${prefix}_event_f1`]: events.f1,
    [`${prefix}_event_f1_as_coded`]: eventPrfAsCoded(predictions, labels).f1,
    ...(prefix === 'pot' ? thresholdFreeMetrics(score, labels) : {}),
  };
}

/** Oracle F1 (with and without PA; not deployable) and VUS-PR/ROC with buffers up to the median anomaly length. */
export function thresholdFreeMetrics(score: Float64Array, labels: Uint8Array): Record<string, number> {
  const volume = vus(score, labels, medianSegmentLength(labels));
  return { oracle_f1: bestF1Oracle(score, labels).f1, oracle_pa_f1: bestF1Oracle(score, labels, { pointAdjusted: true }).f1, vus_pr: volume.vusPr, vus_roc: volume.vusRoc };
}

export interface RunOptions {
  readonly runDir: string;
  readonly config: AdNevConfig;
  readonly dataset: DatasetSpec;
  readonly workers?: number;
  readonly log?: (message: string) => void;
  /**
   * Score only channels an earlier invocation finished and write nothing (no manifest, members or reports):
   * renders a page from a run another process may still be writing. A channel not finished is an error.
   */
  readonly readOnly?: boolean;
}

export async function runAdNev(options: RunOptions): Promise<{ reports: ChannelReport[]; outputs: Map<string, ChannelOutputs>; poolStats: PoolStats }> {
  const { runDir, config } = options;
  const readOnly = options.readOnly === true;
  if (!readOnly) mkdirSync(runDir, { recursive: true });
  const manifestPath = join(runDir, 'anomaly.json');
  const manifest = { dataset: options.dataset, config };
  if (existsSync(manifestPath)) {
    const previous = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
    if (JSON.stringify(previous.config) !== JSON.stringify(config)) {
      throw new ModelevoError('CONFIG_INVALID', `run ${runDir} was started with a different configuration`, { hint: 'resume with the same flags, or choose another --run-dir' });
    }
  } else if (readOnly) throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no run in ${runDir}: expected ${manifestPath}, found no file`, { hint: 'a read-only scoring needs a run directory an earlier invocation wrote' });
  else writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const channels = loadDataset(options.dataset, config.convention);
  const pool = await EnginePool.create(options.workers === undefined ? {} : { workers: options.workers });
  const reports: ChannelReport[] = [];
  const outputs = new Map<string, ChannelOutputs>();
  let poolStats: PoolStats;
  try {
    const log = options.log ? { log: options.log } : {};
    // subspaceScope 'dataset': one level-1 subspace set for every channel, evolved before the channels' other levels
    const preparedAll = config.subspaceScope === 'dataset' ? channels.map((input) => prepareChannel(input.id, input.train, config)) : undefined;
    const shared = preparedAll ? await evolveSharedSubspaces(preparedAll.map((channel) => ({ channel, config, pool, runDir, ...log }))) : undefined;
    for (const [index, input] of channels.entries()) {
      const started = performance.now();
      const prepared = preparedAll?.[index] ?? prepareChannel(input.id, input.train, config);
      const sharing = shared ? { sharedSubspaces: shared.subspaces, cache: shared.caches[index]! } : {};
      // a channel an earlier invocation finished is re-scored from its saved members, not re-trained
      const finished = finishedChannel(runDir, input.id);
      if (readOnly && !finished) throw new ModelevoError('CHECKPOINT_NOT_FOUND', `channel ${input.id} of ${runDir} is not finished: expected its report.json and every saved member`, { hint: 'score only the channels finishedChannelIds lists' });
      const snapshots = finished?.snapshots ?? (await evolveChannel({ channel: prepared, config, pool, runDir, ...log, ...sharing }));
      const levels: LevelReport[] = [];
      const perLevel: ChannelOutputs['levels'] = new Map();
      for (const snapshot of snapshots) {
        const dir = join(runDir, input.id, 'models', snapshot.level);
        if (!readOnly) mkdirSync(dir, { recursive: true });
        let thresholds: MemberThresholds[] | undefined;
        let ensembleThresholds: EnsembleThresholds | undefined;
        let metrics: Record<string, number> | undefined;
        if (input.test) {
          const test = applyScaler(input.test, prepared.scaler);
          const scored = await scoreEnsemble(pool, snapshot.members, prepared.calibration, test, config);
          ({ thresholds, ensembleThresholds } = scored);
          const decide = (vote: AdNevConfig['vote']): Record<ThresholdMethod, Uint8Array> => ({ pot: ensembleDecisions(scored, 'pot', vote).predictions, percentile: ensembleDecisions(scored, 'percentile', vote).predictions });
          const memberRates = (method: ThresholdMethod): number[] => scored.memberScores.map((scores, m) => alarmRate(thresholdPredictions(scores, scored.thresholds[m]![method])));
          const output: LevelOutput = {
            score: ensembleDecisions(scored, 'pot', config.vote).score,
            decisions: { mean: decide('mean'), majority: decide('majority'), any: decide('any') },
            memberAlarmRates: { pot: memberRates('pot'), percentile: memberRates('percentile') },
            ensembleThresholds: scored.ensembleThresholds,
          };
          perLevel.set(snapshot.level, output);
          const chosen = output.decisions[config.vote];
          if (input.labels) {
            metrics = { ...detectionMetrics(chosen.pot, output.score, input.labels, 'pot'), ...detectionMetrics(chosen.percentile, output.score, input.labels, 'percentile') };
            output.memberAlarmRates.pot.forEach((rate, m) => (metrics![`member${m}_pot_alarm_rate`] = rate));
          }
        } else {
          ({ thresholds, ensembleThresholds } = await scoreEnsemble(pool, snapshot.members, prepared.calibration, prepared.calibration, config));
        }
        if (!readOnly) snapshot.members.forEach((member, i) => saveMember(join(dir, `member-${i}.safetensors`), member, prepared.scaler, thresholds![i]!, ensembleThresholds!, input.id, prepared.names));
        levels.push({
          level: snapshot.level,
          validationFitness: snapshot.fitness,
          members: snapshot.members.map((m) => ({ features: m.features, convLayers: m.genome.convLayers.length, window: m.genome.window })),
          ...(metrics ? { metrics } : {}),
        });
      }
      if (input.labels) outputs.set(input.id, { labels: input.labels, levels: perLevel });
      // seconds: the training time of the invocation that evolved the channel, not of a later re-scoring
      const report = { id: input.id, levels, seconds: finished?.seconds ?? (performance.now() - started) / 1000 };
      reports.push(report);
      if (!readOnly) writeFileAtomic(join(runDir, input.id, 'report.json'), JSON.stringify(report, null, 2));
      options.log?.(`${input.id}: ${finished ? `re-scored (finished earlier in ${report.seconds.toFixed(1)} s)` : `done in ${report.seconds.toFixed(1)} s`}`);
    }
    poolStats = pool.stats();
  } finally {
    await pool.close();
  }
  if (!readOnly) writeFileSync(join(runDir, 'results.json'), JSON.stringify(reports, null, 2));
  return { reports, outputs, poolStats };
}

/**
 * The channels of `channels` that an earlier invocation of `runDir` finished (report.json written and every
 * member it lists saved), in the given order; reads no weights.
 */
export function finishedChannelIds(runDir: string, channels: readonly string[]): string[] {
  return channels.filter((channel) => {
    const path = join(runDir, channel, 'report.json');
    if (!existsSync(path)) return false;
    try {
      const report = JSON.parse(readFileSync(path, 'utf8')) as ChannelReport;
      return report.levels.length > 0 && report.levels.every((level) => level.members.every((_, i) => existsSync(join(runDir, channel, 'models', level.level, `member-${i}.safetensors`))));
    } catch {
      return false;
    }
  });
}

/**
 * The snapshots of a channel that an earlier invocation of this run directory finished: its report.json (written
 * after every level's members were saved) and the saved members of each level. Why: the pipeline resumes level
 * by level but keeps trained weights in memory only, so re-entering a finished channel re-trained its selected
 * members (with final re-training, about a fifth of the channel's cost) on every resume. Undefined when anything
 * is missing or unreadable: the channel is then evolved (resumed) as before.
 */
function finishedChannel(runDir: string, channel: string): { snapshots: LevelSnapshot[]; seconds: number } | undefined {
  const path = join(runDir, channel, 'report.json');
  if (!existsSync(path)) return undefined;
  try {
    const report = JSON.parse(readFileSync(path, 'utf8')) as ChannelReport;
    const snapshots = report.levels.map((level) => ({
      level: level.level,
      members: loadMembers(runDir, channel, level.level).map(({ features, genome, weights }) => ({ features, genome, weights })),
      fitness: level.validationFitness,
    }));
    const complete = snapshots.length > 0 && snapshots.every((s, i) => s.members.length === report.levels[i]!.members.length);
    return complete ? { snapshots, seconds: report.seconds } : undefined;
  } catch {
    return undefined;
  }
}

function saveMember(path: string, member: Member, scaler: Scaler, thresholds: MemberThresholds, ensembleThresholds: EnsembleThresholds, channel: string, names: readonly string[]): void {
  saveModel(path, {
    genome: member.genome,
    features: member.features.length,
    weights: member.weights,
    extra: {
      channel,
      feature_indices: JSON.stringify(member.features),
      column_names: JSON.stringify(names),
      scaler: JSON.stringify(scaler),
      thresholds: JSON.stringify(thresholds),
      // the same on every member: the threshold of the normalised-mean ensemble score
      ensemble_thresholds: JSON.stringify(ensembleThresholds),
    },
  });
}

export interface LoadedMember extends Member {
  readonly scaler: Scaler;
  readonly thresholds: MemberThresholds;
  readonly ensembleThresholds: EnsembleThresholds;
  readonly columnNames: readonly string[];
}

/** The saved members of one channel and level of a run. */
export function loadMembers(runDir: string, channel: string, level: LevelName = 'level3'): LoadedMember[] {
  const dir = join(runDir, channel, 'models', level);
  const members: LoadedMember[] = [];
  for (let i = 0; existsSync(join(dir, `member-${i}.safetensors`)); i++) {
    const saved = loadModel(join(dir, `member-${i}.safetensors`));
    if (saved.extra.ensemble_thresholds === undefined) {
      throw new ModelevoError('CHECKPOINT_INVALID', `${join(dir, `member-${i}.safetensors`)} lacks ensemble thresholds (written by an older modelevo)`, { hint: 're-run `modelevo anomaly evolve --resume` on this run directory to rewrite the members' });
    }
    members.push({
      features: JSON.parse(saved.extra.feature_indices ?? '[]') as number[],
      genome: saved.genome,
      weights: saved.weights,
      scaler: JSON.parse(saved.extra.scaler ?? 'null') as Scaler,
      thresholds: JSON.parse(saved.extra.thresholds ?? 'null') as MemberThresholds,
      ensembleThresholds: JSON.parse(saved.extra.ensemble_thresholds) as EnsembleThresholds,
      columnNames: JSON.parse(saved.extra.column_names ?? '[]') as string[],
    });
  }
  if (members.length === 0) {
    throw new ModelevoError('CHECKPOINT_NOT_FOUND', `no saved members in ${dir}`, { hint: 'run `modelevo anomaly evolve` to completion first; `--level` picks baseline|level1|level2|level3' });
  }
  return members;
}
