/**
 * The FINAL pass's sparsifier record of one model (fused-task-vectors.ts): a keepBand record from the model's exact
 * top-k cut(s) with their tie quotas, or the model's record as planned when it keeps all, none or a DARE mask.
 */
import { invariant } from '../core/errors.js';
import { KEEP_BAND, type ModelRecord } from '../kernels/wasm/task-vector-passes.js';

/** `high` of keepBand when there is no upper cut: no |δ| bit pattern reaches it */
const NO_CUT = 0xffffffff;

/** An exact top-k cut: the k-th largest |δ| pattern, how many equal it, how many of those to keep, per-range tie numbers. */
export interface Cut {
  readonly pattern: number;
  readonly countEqual: number;
  readonly tiesToKeep: number;
  readonly tieStarts: readonly number[];
}

/**
 * Model j's FINAL record; `ties` is the byte address of this range's i32 pair of tie numbers. A band with
 * band[0] = 0 keeps the top k (ties: the first tiesToKeep); otherwise it keeps ranks between a lower and an optional
 * upper cut (Breadcrumbs: the last tiesToKeep tie numbers at each cut).
 */
export function finalRecord(
  r: { kind: number; record: ModelRecord; scale: number; band?: readonly [number, number]; cuts: { cut: Cut }[] },
  j: number,
  ties: number,
): ModelRecord {
  if (r.kind !== KEEP_BAND) return r.record;
  const [low, high] = r.cuts.map((c) => c.cut);
  invariant(low !== undefined, () => `model ${j}: a band without its cut`);
  if (r.band![0] === 0) return { kind: KEEP_BAND, params: [low.pattern, 0, low.tiesToKeep, NO_CUT, 0, 0, r.scale, ties] };
  return {
    kind: KEEP_BAND,
    params: [
      low.pattern,
      low.countEqual - low.tiesToKeep,
      low.countEqual,
      high?.pattern ?? NO_CUT,
      high === undefined ? 0 : high.countEqual - high.tiesToKeep,
      high === undefined ? 0 : high.countEqual,
      r.scale,
      ties,
    ],
  };
}
