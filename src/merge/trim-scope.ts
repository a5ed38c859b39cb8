/**
 * Whole-model TIES trim (merge-methods.md §6 P4, `trim_scope: model`): the TIES reference code and
 * FusionBench keep the top k% of each task vector over the whole flattened model, not per tensor. The
 * threshold is the exact k-th largest |δ| over all of a model's tensors, found by the two-pass streamed
 * histogram select (engines.md §5) so no concatenated buffer is ever held.
 *
 * Executor contract (the per-tensor method stays pure):
 * 1. Before merging, when the `ties` method resolves `trim_scope: model`, check with `uniformDensity` that
 *    each model's `density` is the same for all its tensors, then call `computeModelTrimThresholds` with
 *    one entry per non-base model whose `deltas()` yields that model's task-vector tensors δ = X − B (after
 *    the embedding cut of §3.14) in plan order — the same order on every call; pass `{ tieQuotas: true }`.
 * 2. When merging tensor t (plan index p), put into `modelParams[i]`:
 *      `[TRIM_THRESHOLD_KEY]: thresholds[i].threshold` and `[TRIM_TIE_QUOTA_KEY]: thresholds[i].tieQuotas[p]`.
 *    Entries with |δ| above the threshold are kept, plus the first `tieQuota` entries equal to it (lower
 *    index first), so exactly ⌊density·N_model⌋ entries survive over the whole model, ties going to the
 *    earlier tensor and then the lower flat index. Without a tie quota every tied entry is kept.
 * A `ties` tensor with `trim_scope: model` and no `__trim_threshold` is a CONFIG_INVALID error.
 */
import { ConfigError } from '../core/errors.js';
import { countEqualMagnitude, StreamedMagnitudeSelect } from '../kernels/reference/select.js';

/** modelParams key carrying the whole-model threshold for one model */
export const TRIM_THRESHOLD_KEY = '__trim_threshold';
/** modelParams key carrying how many entries equal to the threshold this tensor keeps */
export const TRIM_TIE_QUOTA_KEY = '__trim_tie_quota';

export interface ModelTrimInput {
  /** model reference, for messages */
  readonly modelRef: string;
  /** the model's (uniform) density; k = ⌊density·N_model⌋ */
  readonly density: number;
  /** yields the model's task-vector tensors in a fixed order; called two or three times */
  readonly deltas: () => Iterable<Float32Array> | AsyncIterable<Float32Array>;
}

export interface ModelTrimThreshold {
  /** the exact k-th largest |δ| over all the model's tensors; +Infinity when k = 0 */
  readonly threshold: number;
  /** k */
  readonly keepCount: number;
  /** N_model */
  readonly totalElements: number;
  readonly countAbove: number;
  readonly countEqual: number;
  /** per tensor in stream order: tied entries it keeps (only with `tieQuotas: true`) */
  readonly tieQuotas?: readonly number[];
}

/** Per model, the whole-model trim threshold (two passes over `deltas()`, a third for tie quotas). */
export async function computeModelTrimThresholds(
  models: readonly ModelTrimInput[],
  options: { readonly tieQuotas?: boolean } = {},
): Promise<ModelTrimThreshold[]> {
  const results: ModelTrimThreshold[] = [];
  for (const model of models) {
    if (!(Number.isFinite(model.density) && model.density >= 0)) {
      throw new ConfigError(
        [{ path: ['models', model.modelRef, 'parameters', 'density'], message: `density must be a number ≥ 0, got ${model.density}` }],
        { hint: 'set density to the fraction of each task vector to keep, e.g. 0.2' },
      );
    }
    const select = new StreamedMagnitudeSelect();
    for await (const delta of model.deltas()) select.countTop(delta);
    const total = select.totalCount;
    const keepCount = Math.min(total, Math.floor(model.density * total));
    select.chooseBucket(keepCount);
    if (keepCount > 0) for await (const delta of model.deltas()) select.countRest(delta);
    const cut = select.result();
    let tieQuotas: number[] | undefined;
    if (options.tieQuotas) {
      tieQuotas = [];
      let remaining = cut.tiesToKeep;
      for await (const delta of model.deltas()) {
        const quota = Math.min(remaining, countEqualMagnitude(delta, cut.threshold));
        tieQuotas.push(quota);
        remaining -= quota;
      }
    }
    results.push({
      threshold: cut.threshold,
      keepCount,
      totalElements: total,
      countAbove: cut.countAbove,
      countEqual: cut.countEqual,
      ...(tieQuotas ? { tieQuotas } : {}),
    });
  }
  return results;
}

/** P4 requires one density per model under `trim_scope: model`; returns it or throws naming the tensors. */
export function uniformDensity(modelRef: string, densityByTensor: Iterable<readonly [string, number]>): number {
  let first: readonly [string, number] | undefined;
  for (const entry of densityByTensor) {
    if (first === undefined) first = entry;
    else if (entry[1] !== first[1]) {
      throw new ConfigError(
        [
          {
            path: ['models', modelRef, 'parameters', 'density'],
            message:
              `trim_scope: model needs one density per model, but model '${modelRef}' has ${first[1]} for ` +
              `tensor '${first[0]}' and ${entry[1]} for tensor '${entry[0]}'`,
          },
        ],
        { hint: 'use a scalar density for this model, or trim_scope: tensor for per-tensor densities' },
      );
    }
  }
  return first?.[1] ?? 1;
}
