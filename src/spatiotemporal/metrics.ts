/**
 * Masked forecasting metrics (spatiotemporal.md §3, the DCRNN / Graph WaveNet convention): labels equal to the
 * null value (0) or NaN are missing and excluded; `mask / mean(mask)` makes each metric the mean over the valid
 * labels only. MAPE is a fraction (× 100 for %).
 */

export interface ForecastMetrics {
  readonly mae: number;
  readonly rmse: number;
  readonly mape: number;
  /** number of valid labels the means ran over */
  readonly count: number;
}

/** Masked MAE / RMSE / MAPE over every element; NaN only when no label is valid. */
export function maskedMetrics(predicted: ArrayLike<number>, truth: ArrayLike<number>, nullValue = 0): ForecastMetrics {
  if (predicted.length !== truth.length) throw new RangeError(`maskedMetrics: ${predicted.length} predictions for ${truth.length} labels`);
  let count = 0;
  let absSum = 0;
  let squareSum = 0;
  let relativeSum = 0;
  for (let i = 0; i < truth.length; i++) {
    const y = truth[i]!;
    if (Number.isNaN(y) || y === nullValue) continue;
    const error = predicted[i]! - y;
    // a NaN product is zeroed in the reference code, so a NaN prediction cannot poison the mean
    if (Number.isNaN(error)) { count++; continue; }
    count++;
    absSum += Math.abs(error);
    squareSum += error * error;
    relativeSum += Math.abs(error) / Math.abs(y);
  }
  if (count === 0) return { mae: Number.NaN, rmse: Number.NaN, mape: Number.NaN, count };
  return { mae: absSum / count, rmse: Math.sqrt(squareSum / count), mape: relativeSum / count, count };
}

/**
 * Metrics at one horizon (1-based) of forecasts laid out [samples, horizons, nodes]; `horizon = 'all'` runs over
 * every horizon (the 12-step average).
 */
export function horizonMetrics(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
  layout: { readonly samples: number; readonly horizons: number; readonly nodes: number },
  horizon: number | 'all',
  nullValue = 0,
): ForecastMetrics {
  const { samples, horizons, nodes } = layout;
  if (horizon === 'all') return maskedMetrics(predicted, truth, nullValue);
  if (!(horizon >= 1 && horizon <= horizons)) throw new RangeError(`horizonMetrics: horizon ${horizon} outside 1…${horizons}`);
  const pick = (source: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(samples * nodes);
    for (let s = 0; s < samples; s++) {
      const base = (s * horizons + horizon - 1) * nodes;
      for (let n = 0; n < nodes; n++) out[s * nodes + n] = source[base + n]!;
    }
    return out;
  };
  return maskedMetrics(pick(predicted), pick(truth), nullValue);
}
