/**
 * The traffic datasets' z-score scaler (spatiotemporal.md §2; one scaler for Graph WaveNet, SynEVO and ComS2T,
 * issue #18 item 4): mean and population standard deviation of the non-missing readings (0 = missing) of the
 * steps the training data reads, each step counted once.
 *
 * Degenerate data, one behaviour everywhere:
 * - no non-missing reading in those steps → a ModelevoError `VALUE_INVALID` (a model cannot be trained or scaled
 *   on nothing; silently returning mean 0 / std 1 hid an all-missing training period);
 * - every reading equal (std 0) → std 1, so scaling only centres and never divides by zero.
 */
import { ModelevoError } from '../../core/errors.js';
import type { TrafficNetwork } from './csv-loader.js';
import { HORIZON_STEPS, INPUT_STEPS, type ZScoreScaler } from './windows.js';

/** Which steps the scaler reads: the first `stepEnd` steps, or every step some 12-in/12-out window reads. */
export type ScalerSteps = { readonly stepEnd: number } | { readonly windows: readonly number[] };

export function fitScaler(network: Pick<TrafficNetwork, 'values' | 'sensorIds'>, steps: ScalerSteps): ZScoreScaler {
  const sensors = network.sensorIds.length;
  const totalSteps = Math.floor(network.values.length / Math.max(sensors, 1));
  const read = new Uint8Array(totalSteps);
  if ('stepEnd' in steps) read.fill(1, 0, Math.min(steps.stepEnd, totalSteps));
  else for (const s of steps.windows) read.fill(1, Math.max(s, 0), Math.min(s + INPUT_STEPS + HORIZON_STEPS, totalSteps));
  // ascending steps, sensors within a step: the summation order of every scaler this one replaced
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let t = 0; t < totalSteps; t++) {
    if (!read[t]) continue;
    for (let n = 0; n < sensors; n++) {
      const v = network.values[t * sensors + n]!;
      if (v === 0) continue;
      count++;
      sum += v;
      sumSquares += v * v;
    }
  }
  if (count === 0) {
    const what = 'stepEnd' in steps ? `the first ${steps.stepEnd} steps` : `the ${steps.windows.length} training windows`;
    throw new ModelevoError('VALUE_INVALID', `fitScaler: expected at least one non-missing (non-zero) reading in ${what}, found none`, {
      hint: 'the training period is entirely missing; check the series file (0 marks a missing reading)',
      details: { ...('stepEnd' in steps ? { stepEnd: steps.stepEnd } : { windows: steps.windows.length }), sensors },
    });
  }
  const mean = sum / count;
  return { mean, std: Math.sqrt(Math.max(sumSquares / count - mean * mean, 0)) || 1 };
}
