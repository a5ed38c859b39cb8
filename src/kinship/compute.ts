/**
 * Streaming kinship of models against a base (kinship.md §2–§3; Hu et al., arXiv:2410.12613, Eq. 2–3).
 * One pass over the base's tensors: each tensor of the base and of every model is read once, deltas
 * δ = M − B are formed in float64 one cache-sized chunk at a time, and every pair's metric statistics are
 * updated from that chunk. The model vector is never concatenated, so memory is one tensor per model.
 */
import { isFloatDType, numelOf } from '../core/dtype.js';
import { CheckpointError, ModelevoError, ShapeMismatchError } from '../core/errors.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { AnyKinshipMetric } from './metric.js';
import { filledMatrix, setSymmetric, type KinshipMatrix } from './matrix.js';
import { getKinshipMetric, type KinshipMetricName } from './registry.js';

export interface KinshipOptions {
  readonly metrics: readonly KinshipMetricName[];
  /** 'full': the metric of the concatenated delta vectors; 'split': numel-weighted mean of per-tensor values */
  readonly mode?: 'full' | 'split';
  /** only tensors whose name matches (regular expression source or RegExp) */
  readonly include?: string | RegExp;
  /** drop tensors whose name matches */
  readonly exclude?: string | RegExp;
  /** truncate every tensor's first dimension to the vocabulary size, as the reference code does (§2.2) */
  readonly truncateAll?: boolean;
  /** a tensor of the base missing from a model: 'error' (default) or skip it with a warning (reference code) */
  readonly onMissing?: 'error' | 'skip';
  /** elements per delta chunk; results do not depend on it beyond rounding */
  readonly chunkElements?: number;
  /**
   * the matrix diagonal sim(a, a): 'derived' (default) reads it off the pairs' statistics (the metric's self
   * value, NaN for a degenerate delta); 'direct' accumulates each model against itself as an extra pair
   */
  readonly diagonal?: 'derived' | 'direct';
  /** names for the models in messages and results (default: each checkpoint's `source`) */
  readonly labels?: readonly string[];
  readonly onProgress?: (tensorsDone: number, tensorsTotal: number, tensorName: string) => void;
}

export interface KinshipResult {
  readonly labels: string[];
  readonly mode: 'full' | 'split';
  readonly matrices: Partial<Record<KinshipMetricName, KinshipMatrix>>;
  /** why an entry is NaN, keyed `metric[i][j]` */
  readonly nanReasons: Record<string, string>;
  readonly tensorsCompared: number;
  /** per model: elements compared (identical for every model) */
  readonly elementsCompared: number;
  readonly skippedTensors: { readonly name: string; readonly reason: string }[];
  readonly warnings: string[];
}

export const DEFAULT_CHUNK_ELEMENTS = 16_384;

const VOCABULARY_TENSOR = /(^|\.)(embed_tokens|lm_head)\.weight$/;

/** Vocabulary size = the base's lm_head rows (the reference code's rule), else its embed_tokens rows. */
export function vocabularySize(base: Checkpoint): number | undefined {
  const names = base.names();
  const lmHead = names.find((n) => /(^|\.)lm_head\.weight$/.test(n));
  const embed = names.find((n) => /(^|\.)embed_tokens\.weight$/.test(n));
  const name = lmHead ?? embed;
  return name === undefined ? undefined : base.info(name).shape[0];
}

function toRegExp(pattern: string | RegExp | undefined, option: string): RegExp | undefined {
  if (pattern === undefined) return undefined;
  // a global or sticky RegExp keeps state between test() calls and would skip every other tensor
  if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  try {
    return new RegExp(pattern);
  } catch (cause) {
    throw new ModelevoError('VALUE_INVALID', `--${option} '${pattern}' is not a valid regular expression`, {
      hint: 'pass a JavaScript regular expression, e.g. "self_attn" or "layers\\.[0-3]\\."',
      cause,
    });
  }
}

export interface Pair {
  readonly i: number;
  readonly j: number;
}

/** where a matrix entry (i, j), i ≤ j, comes from: a pair's `finish`, or one side's `selfOf` */
export interface Entry {
  readonly i: number;
  readonly j: number;
  readonly pair: number;
  readonly read: 'finish' | 'x' | 'y';
}

function entryValue(metric: AnyKinshipMetric, stats: unknown, entry: Entry): number {
  return entry.read === 'finish' ? metric.finish(stats) : metric.selfOf(stats, entry.read);
}

function planEntries(modelCount: number, direct: boolean): { pairs: Pair[]; entries: Entry[] } {
  const pairs: Pair[] = [];
  const entries: Entry[] = [];
  for (let i = 0; i < modelCount; i++) {
    for (let j = i + 1; j < modelCount; j++) {
      entries.push({ i, j, pair: pairs.length, read: 'finish' });
      pairs.push({ i, j });
    }
  }
  for (let i = 0; i < modelCount; i++) {
    const shared = pairs.findIndex((p) => p.i === i || p.j === i);
    if (direct || shared < 0) {
      entries.push({ i, j: i, pair: pairs.length, read: 'finish' });
      pairs.push({ i, j: i });
    } else entries.push({ i, j: i, pair: shared, read: pairs[shared]!.i === i ? 'x' : 'y' });
  }
  return { pairs, entries };
}

/** Rows kept from a tensor's first dimension under vocabulary truncation (§2.2). */
function keptRows(name: string, shape: readonly number[], vocab: number | undefined, truncateAll: boolean): number {
  const rows = shape[0] ?? 1;
  if (vocab === undefined || shape.length === 0) return rows;
  return truncateAll || VOCABULARY_TENSOR.test(name) ? Math.min(rows, vocab) : rows;
}

function comparedShape(name: string, shape: readonly number[], vocab: number | undefined, truncateAll: boolean): number[] {
  if (shape.length === 0) return [];
  return [keptRows(name, shape, vocab, truncateAll), ...shape.slice(1)];
}

/** out[k] = model[start + k] − base[start + k] in float64 (a float32 difference is exact there) */
function subtractInto(out: Float64Array, model: Float32Array, base: Float32Array, start: number, length: number): void {
  for (let k = 0; k < length; k++) out[k] = model[start + k]! - base[start + k]!;
}

/** Everything decided before the first tensor is read: validated options, metrics, pairs, selected tensors. */
export interface KinshipPlan {
  readonly mode: 'full' | 'split';
  readonly labels: string[];
  readonly metricNames: KinshipMetricName[];
  readonly metrics: AnyKinshipMetric[];
  readonly pairs: readonly Pair[];
  readonly entries: readonly Entry[];
  /** base tensors passing --include/--exclude, in the base's order */
  readonly selected: string[];
  readonly chunkElements: number;
  readonly truncateAll: boolean;
  readonly vocab: number | undefined;
  readonly onMissing: 'error' | 'skip';
}

export function planKinship(base: Checkpoint, models: readonly Checkpoint[], options: KinshipOptions): KinshipPlan {
  const mode = options.mode ?? 'full';
  const labels = options.labels ? [...options.labels] : models.map((m) => m.source);
  if (labels.length !== models.length) {
    throw new ModelevoError('VALUE_INVALID', `got ${labels.length} labels for ${models.length} models`, {
      hint: 'pass one label per model',
    });
  }
  if (models.length === 0) {
    throw new ModelevoError('VALUE_INVALID', 'kinship needs at least one model besides the base, got 0', {
      hint: 'name two or more fine-tunes of the base',
    });
  }
  if (options.metrics.length === 0) {
    throw new ModelevoError('VALUE_INVALID', 'no kinship metric selected', { hint: 'choose one of pcc, cs, cs_abs, ed' });
  }
  const metricNames = [...new Set(options.metrics)];
  const metrics: AnyKinshipMetric[] = metricNames.map((n) => getKinshipMetric(n));
  const include = toRegExp(options.include, 'include');
  const exclude = toRegExp(options.exclude, 'exclude');
  const chunkElements = options.chunkElements ?? DEFAULT_CHUNK_ELEMENTS;
  if (!Number.isInteger(chunkElements) || chunkElements < 1) {
    throw new ModelevoError('VALUE_INVALID', `chunkElements must be a positive integer, got ${chunkElements}`);
  }
  const { pairs, entries } = planEntries(models.length, options.diagonal === 'direct');
  const selected = base.names().filter((n) => (!include || include.test(n)) && !(exclude && exclude.test(n)));
  return {
    mode,
    labels,
    metricNames,
    metrics,
    pairs,
    entries,
    selected,
    chunkElements,
    truncateAll: options.truncateAll ?? false,
    vocab: vocabularySize(base),
    onMissing: options.onMissing ?? 'error',
  };
}

/**
 * Per-tensor and final bookkeeping shared by the TypeScript path (computeKinship) and the kernel-pool path
 * (compute-pool.ts): checks a tensor, folds its statistics in, and builds the result.
 */
export class KinshipAccumulator {
  /** full mode: stats[metric][pair] over every tensor so far */
  readonly fullStats: unknown[][];
  private readonly splitSums: { weighted: number; weight: number }[][];
  readonly warnings: string[] = [];
  readonly skippedTensors: { name: string; reason: string }[] = [];
  private tensorsCompared = 0;
  private elementsCompared = 0;

  constructor(
    readonly plan: KinshipPlan,
    private readonly base: Checkpoint,
    private readonly models: readonly Checkpoint[],
  ) {
    this.fullStats = plan.metrics.map((m) => plan.pairs.map(() => m.init()));
    this.splitSums = plan.metrics.map(() => plan.entries.map(() => ({ weighted: 0, weight: 0 })));
  }

  /** Elements of `name` to compare (a prefix of every model's tensor), or undefined when it is skipped. */
  comparedElements(name: string): number | undefined {
    const { base, models, plan } = this;
    const { labels, vocab, truncateAll } = plan;
    const baseInfo = base.info(name);
    if (!isFloatDType(baseInfo.dtype)) {
      this.skippedTensors.push({ name, reason: `dtype ${baseInfo.dtype} is not a float type` });
      return undefined;
    }
    const missingFrom = models.findIndex((m) => !m.has(name));
    if (missingFrom >= 0) {
      const model = models[missingFrom]!;
      const message = `tensor '${name}' of base '${base.source}' is missing from model '${labels[missingFrom]}'`;
      if (plan.onMissing !== 'skip') {
        throw new CheckpointError(message, {
          code: 'TENSOR_NOT_FOUND',
          file: model.source,
          tensor: name,
          hint: 'models must share the base architecture; pass --skip-missing to ignore such tensors as the reference code does, or --exclude the tensor',
        });
      }
      this.warnings.push(`${message}; skipped`);
      this.skippedTensors.push({ name, reason: `missing from '${labels[missingFrom]}'` });
      return undefined;
    }
    const expected = comparedShape(name, baseInfo.shape, vocab, truncateAll);
    const infos = models.map((m) => m.info(name));
    const mismatch = infos.some((info) => {
      const shape = comparedShape(name, info.shape, vocab, truncateAll);
      return shape.length !== expected.length || shape.some((d, k) => d !== expected[k]);
    });
    if (mismatch) {
      const shapes: Record<string, readonly number[]> = { [`base '${base.source}'`]: baseInfo.shape };
      infos.forEach((info, k) => (shapes[`'${labels[k]}'`] = info.shape));
      throw new ShapeMismatchError(name, shapes, {
        hint: 'all models must be fine-tunes of the base with one architecture (embed_tokens/lm_head may only add rows)',
      });
    }
    return numelOf(expected);
  }

  /** Statistics to accumulate one tensor into: the running ones in full mode, fresh ones in split mode. */
  tensorTarget(): unknown[][] {
    return this.plan.mode === 'split' ? this.plan.metrics.map((m) => this.plan.pairs.map(() => m.init())) : this.fullStats;
  }

  /** Records a tensor whose statistics were accumulated into `tensorTarget()`. */
  addAccumulated(tensorStats: unknown[][], count: number): void {
    const { plan } = this;
    if (plan.mode === 'split') {
      plan.metrics.forEach((metric, a) => {
        plan.entries.forEach((entry, e) => {
          const value = entryValue(metric, tensorStats[a]![entry.pair], entry);
          const sums = this.splitSums[a]![e]!;
          if (!Number.isNaN(value)) {
            sums.weighted += count * value;
            sums.weight += count;
          }
        });
      });
    }
    this.tensorsCompared++;
    this.elementsCompared += count;
  }

  /** Records a tensor given its own statistics (computed apart from the running ones). */
  addTensor(tensorStats: unknown[][], count: number): void {
    const { plan } = this;
    if (plan.mode === 'full') {
      plan.metrics.forEach((metric, a) => {
        const row = this.fullStats[a]!;
        plan.pairs.forEach((_, p) => (row[p] = metric.combine(row[p], tensorStats[a]![p])));
      });
    }
    this.addAccumulated(tensorStats, count);
  }

  result(): KinshipResult {
    const { plan } = this;
    const { labels, mode, metrics, entries, metricNames } = plan;
    const matrices: Partial<Record<KinshipMetricName, KinshipMatrix>> = {};
    const nanReasons: Record<string, string> = {};
    metrics.forEach((metric, a) => {
      const matrix = filledMatrix(labels.length, Number.NaN);
      entries.forEach((entry, e) => {
        let value: number;
        let reason: string | undefined;
        if (mode === 'split') {
          const sums = this.splitSums[a]![e]!;
          value = sums.weight > 0 ? sums.weighted / sums.weight : Number.NaN;
          if (sums.weight === 0) reason = `every one of ${this.tensorsCompared} tensors gave NaN or none was compared`;
        } else {
          const stats = this.fullStats[a]![entry.pair];
          value = entryValue(metric, stats, entry);
          if (Number.isNaN(value)) {
            reason =
              entry.read === 'finish' ? metric.explainNaN(stats) : `the delta of '${labels[entry.i]}' is degenerate (constant or all zeros)`;
          }
        }
        setSymmetric(matrix, entry.i, entry.j, value);
        if (reason !== undefined) nanReasons[`${metric.name}[${entry.i}][${entry.j}]`] = reason;
      });
      matrices[metricNames[a]!] = matrix;
    });
    const warnings = [...this.warnings];
    if (this.tensorsCompared === 0) {
      warnings.push('no tensor was compared: check --include/--exclude and that the models share the base architecture');
    }
    const { tensorsCompared, elementsCompared, skippedTensors } = this;
    return { labels, mode, matrices, nanReasons, tensorsCompared, elementsCompared, skippedTensors, warnings };
  }
}

/**
 * The plain TypeScript statistics of one tensor: float32 reads, float64 deltas in chunks of
 * `plan.chunkElements`, every pair's `accumulate` per chunk, into `target` (tensorTarget()).
 */
export function accumulateTensorInTypeScript(
  plan: KinshipPlan,
  base: Checkpoint,
  models: readonly Checkpoint[],
  name: string,
  count: number,
  target: unknown[][],
): void {
  const { chunkElements, metrics, pairs } = plan;
  const deltas = models.map(() => new Float64Array(Math.min(chunkElements, Math.max(1, count))));
  const baseValues = base.readFloat32(name);
  const modelValues = models.map((m) => m.readFloat32(name));
  for (let start = 0; start < count; start += chunkElements) {
    const length = Math.min(chunkElements, count - start);
    for (let m = 0; m < models.length; m++) subtractInto(deltas[m]!, modelValues[m]!, baseValues, start, length);
    const views = deltas.map((d) => (length === d.length ? d : d.subarray(0, length)));
    metrics.forEach((metric, a) => {
      const row = target[a]!;
      pairs.forEach((pair, p) => {
        row[p] = metric.accumulate(row[p], views[pair.i]!, views[pair.j]!);
      });
    });
  }
}

/** Kinship on the calling thread in plain TypeScript: the reference path (compute-pool.ts is the fast one). */
export function computeKinship(base: Checkpoint, models: readonly Checkpoint[], options: KinshipOptions): KinshipResult {
  const plan = planKinship(base, models, options);
  const accumulator = new KinshipAccumulator(plan, base, models);
  plan.selected.forEach((name, tensorIndex) => {
    options.onProgress?.(tensorIndex, plan.selected.length, name);
    const count = accumulator.comparedElements(name);
    if (count === undefined) return;
    const target = accumulator.tensorTarget();
    accumulateTensorInTypeScript(plan, base, models, name, count, target);
    accumulator.addAccumulated(target, count);
  });
  options.onProgress?.(plan.selected.length, plan.selected.length, '');
  return accumulator.result();
}
