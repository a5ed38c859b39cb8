/**
 * The standard 12-in/12-out forecasting protocol (spatiotemporal.md §2, DCRNN): sample t takes inputs
 * t−11…t and targets t+1…t+12, samples are made over the whole series and split chronologically 7:1:2 with
 * n_test = round(0.2·n), n_train = round(0.7·n), the rest validation. The z-score scaler (scaler.ts) is fitted on
 * the steps the training samples read, missing values (0) excluded.
 */
import { ModelevoError } from '../../core/errors.js';

export const INPUT_STEPS = 12;
export const HORIZON_STEPS = 12;
export const STEPS_PER_DAY_5MIN = 288;

export interface SampleRange {
  /** first sample index (a sample index is the step of its first input) */
  readonly start: number;
  /** one past the last sample index */
  readonly end: number;
}

export interface ZScoreScaler {
  readonly mean: number;
  readonly std: number;
}

export interface ForecastSplits {
  readonly samples: number;
  readonly train: SampleRange;
  readonly val: SampleRange;
  readonly test: SampleRange;
  /** one past the last step read by a training sample (inputs and targets) */
  readonly trainStepEnd: number;
}

/** n − 23 samples from n steps. */
export function sampleCount(steps: number): number {
  return Math.max(0, steps - INPUT_STEPS - HORIZON_STEPS + 1);
}

export function chronologicalSplit(steps: number, ratios: readonly [number, number, number] = [0.7, 0.1, 0.2]): ForecastSplits {
  const samples = sampleCount(steps);
  if (samples < 3) {
    throw new ModelevoError('VALUE_INVALID', `expected a series giving at least 3 samples for a train/val/test split, found ${steps} steps (${samples} samples)`, {
      hint: `supply at least ${INPUT_STEPS + HORIZON_STEPS + 2} time steps`,
      details: { steps, samples },
    });
  }
  const test = Math.round(ratios[2] * samples);
  const train = Math.round(ratios[0] * samples);
  const val = samples - train - test;
  return {
    samples,
    train: { start: 0, end: train },
    val: { start: train, end: train + val },
    test: { start: train + val, end: samples },
    trainStepEnd: train - 1 + INPUT_STEPS + HORIZON_STEPS,
  };
}

/** Time-of-day fraction in [0, 1) of a step, assuming the series starts at midnight. */
export function timeOfDay(step: number, stepsPerDay = STEPS_PER_DAY_5MIN): number {
  return (step % stepsPerDay) / stepsPerDay;
}
