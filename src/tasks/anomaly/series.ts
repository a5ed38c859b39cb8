/**
 * Multivariate series, scaling and windowing for anomaly detection (ad-nev.md §2 "Preprocessing", §3.1).
 * Scalers are fitted on training rows only (the AD-NEv code also `partial_fit`s on test; modelevo does
 * not). Windows overlap with stride 1; a window's label and score belong to its last step.
 */
import { ModelevoError } from '../../core/errors.js';

/** Row-major [rows, columns] float64 values with column names. */
export interface Series {
  readonly values: Float64Array;
  readonly rows: number;
  readonly columns: number;
  readonly names: readonly string[];
}

/** Windows as one flat array [count, window, features] (row-major). */
export interface WindowBatch {
  readonly data: Float32Array;
  readonly count: number;
  readonly window: number;
  readonly features: number;
}

export type ScalerKind = 'minmax' | 'zscore';

/**
 * Per-column affine map x ↦ (x − offset)·scale, plain data so it is stored with a run. `minmax` maps the
 * training range to [−1, 1]; `zscore` to mean 0, standard deviation 1. Constant columns get scale 1 (only
 * the offset is removed). Test values outside the training range stay outside: no clipping.
 */
export interface Scaler {
  readonly kind: ScalerKind;
  readonly offset: readonly number[];
  readonly scale: readonly number[];
}

export function fitScaler(train: Series, kind: ScalerKind): Scaler {
  const offset: number[] = [];
  const scale: number[] = [];
  for (let c = 0; c < train.columns; c++) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let r = 0; r < train.rows; r++) {
      const v = train.values[r * train.columns + c]!;
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    if (kind === 'minmax') {
      const half = (max - min) / 2;
      offset.push((max + min) / 2);
      scale.push(half > 0 ? 1 / half : 1);
    } else {
      const mean = sum / train.rows;
      let squares = 0;
      for (let r = 0; r < train.rows; r++) squares += (train.values[r * train.columns + c]! - mean) ** 2;
      const std = Math.sqrt(squares / train.rows);
      offset.push(mean);
      scale.push(std > 0 ? 1 / std : 1);
    }
  }
  return { kind, offset, scale };
}

export function applyScaler(series: Series, scaler: Scaler): Series {
  if (scaler.offset.length !== series.columns) {
    throw new ModelevoError('SHAPE_MISMATCH', `scaler was fitted on ${scaler.offset.length} columns, the series has ${series.columns}`, {
      hint: 'score data with the same columns the model was trained on',
    });
  }
  const values = new Float64Array(series.values.length);
  for (let r = 0; r < series.rows; r++)
    for (let c = 0; c < series.columns; c++) {
      const i = r * series.columns + c;
      values[i] = (series.values[i]! - scaler.offset[c]!) * scaler.scale[c]!;
    }
  return { ...series, values };
}

/** Per-column median of each block of `factor` rows (AD-NEv downsamples training data ×5); a short tail block is kept. */
export function medianDownsample(series: Series, factor: number): Series {
  if (factor <= 1) return series;
  const rows = Math.ceil(series.rows / factor);
  const values = new Float64Array(rows * series.columns);
  const block: number[] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < series.columns; c++) {
      block.length = 0;
      for (let k = r * factor; k < Math.min(series.rows, (r + 1) * factor); k++) block.push(series.values[k * series.columns + c]!);
      block.sort((a, b) => a - b);
      const mid = block.length >> 1;
      values[r * series.columns + c] = block.length % 2 === 1 ? block[mid]! : (block[mid - 1]! + block[mid]!) / 2;
    }
  return { ...series, values, rows };
}

/** Rows [start, end) of a series. */
export function sliceRows(series: Series, start: number, end: number): Series {
  return { ...series, values: series.values.slice(start * series.columns, end * series.columns), rows: end - start };
}

/** Chronological split: the last `fraction` of rows held out (the label-free validation part, §3.1). */
export function splitTail(series: Series, fraction: number): { fit: Series; heldOut: Series } {
  const cut = Math.round(series.rows * (1 - fraction));
  return { fit: sliceRows(series, 0, cut), heldOut: sliceRows(series, cut, series.rows) };
}

/** Overlapping stride-1 windows [count, window, |features|] over the selected columns. */
export function makeWindows(series: Series, features: readonly number[], window: number, source = 'series'): WindowBatch {
  if (series.rows < window) {
    throw new ModelevoError('VALUE_INVALID', `${source} has ${series.rows} rows, fewer than the window of ${window} time steps`, {
      hint: 'provide a longer series or a smaller window',
      details: { rows: series.rows, window },
    });
  }
  for (const f of features) {
    if (!Number.isInteger(f) || f < 0 || f >= series.columns) {
      throw new ModelevoError('VALUE_INVALID', `feature index ${f} is outside [0, ${series.columns}) for ${source}`, { hint: 'check --channels / feature subsets' });
    }
  }
  const count = series.rows - window + 1;
  const width = features.length;
  const data = new Float32Array(count * window * width);
  for (let n = 0; n < count; n++)
    for (let t = 0; t < window; t++)
      for (let j = 0; j < width; j++) data[(n * window + t) * width + j] = series.values[(n + t) * series.columns + features[j]!]!;
  return { data, count, window, features: width };
}

/**
 * Per-time-step scores from per-window scores: step t takes the window ending at t; the first W − 1 steps,
 * which end no window, take the first window's score.
 */
export function windowScoresToPoints(windowScores: Float64Array, rows: number, window: number): Float64Array {
  const points = new Float64Array(rows);
  for (let t = 0; t < rows; t++) points[t] = windowScores[Math.max(0, t - window + 1)]!;
  return points;
}
