/**
 * Domain (sample-group) splits for cross-domain forecasting (synevo.md §1, §3): each day is cut into K equal
 * periods and a *period group* holds the 12-in/12-out windows whose 24 steps all lie inside that period of
 * one day. A window straddling a period boundary belongs to no group, so a held-out period never leaks into
 * a training window (and vice versa). Several sources concatenated in time (cross-source experiments) are
 * handled by giving each source its block of steps; a window never straddles two blocks.
 *
 * Per group the windows are split chronologically 7:1:2 (train/val/test) exactly as the standard protocol
 * (windows.ts: n_test = round(0.2·n), n_train = round(0.7·n), validation the rest), after sorting them by
 * step. As in the standard protocol, windows adjacent across a split boundary may share steps.
 */
import { ModelevoError } from '../../core/errors.js';
import { WINDOW_STEPS, windowsInPeriod } from './time-of-day.js';

export interface DomainGroup {
  /** stable id, e.g. `p3` (period 3) or `s1p0` (source 1, period 0) */
  readonly id: string;
  readonly source: number;
  readonly period: number;
  /** sample indices (step of the first input), chronological */
  readonly train: readonly number[];
  readonly val: readonly number[];
  readonly test: readonly number[];
}

export interface DomainSpec {
  readonly kind: 'time-of-day';
  readonly periods: number;
}

/** Parses `time-of-day:K`. */
export function parseDomainSpec(text: string): DomainSpec {
  const match = /^time-of-day:(\d+)$/.exec(text.trim());
  const periods = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isInteger(periods) || periods < 1) {
    throw new ModelevoError('CONFIG_INVALID', `--domains: expected 'time-of-day:K' with an integer K ≥ 1, found '${text}'`, {
      hint: "e.g. --domains time-of-day:4 cuts each day into four 6-hour periods",
      details: { value: text },
    });
  }
  return { kind: 'time-of-day', periods };
}

/** A chronological 7:1:2 split of an ordered sample list. */
export function chronologicalGroupSplit(samples: readonly number[]): { train: number[]; val: number[]; test: number[] } {
  const n = samples.length;
  const test = Math.round(0.2 * n);
  const train = Math.round(0.7 * n);
  return { train: samples.slice(0, train), val: samples.slice(train, n - test), test: samples.slice(n - test) };
}

export interface PeriodGroupOptions {
  readonly steps: number;
  readonly stepsPerDay: number;
  readonly periods: number;
  /** [start, end) step blocks, one per source (default: one source over all steps) */
  readonly sourceBlocks?: readonly { readonly start: number; readonly end: number }[];
}

/**
 * One group per (source × period). Period k of day d covers steps [d·S + k·L, d·S + (k+1)·L) with
 * L = S / K; a window s belongs to it iff s ≥ period start and s + 23 < period end.
 */
export function periodGroups(options: PeriodGroupOptions): DomainGroup[] {
  const { steps, stepsPerDay, periods } = options;
  if (!Number.isInteger(stepsPerDay / periods)) {
    throw new ModelevoError('CONFIG_INVALID', `time-of-day:${periods}: expected K to divide the ${stepsPerDay} steps of a day, found a remainder of ${stepsPerDay % periods}`, {
      hint: 'choose K among the divisors of the steps per day (288 five-minute steps: 2, 3, 4, 6, 8, 12, …)',
      details: { periods, stepsPerDay },
    });
  }
  const length = stepsPerDay / periods;
  if (length < WINDOW_STEPS) {
    throw new ModelevoError('CONFIG_INVALID', `time-of-day:${periods}: a period of ${length} steps cannot hold one ${WINDOW_STEPS}-step window`, {
      hint: `use at most ${Math.floor(stepsPerDay / WINDOW_STEPS)} periods per day`,
      details: { periods, length },
    });
  }
  const blocks = options.sourceBlocks ?? [{ start: 0, end: steps }];
  const groups: DomainGroup[] = [];
  blocks.forEach((block, source) => {
    for (let k = 0; k < periods; k++) {
      const samples = windowsInPeriod(block, stepsPerDay, { start: k * length, end: (k + 1) * length });
      const id = blocks.length > 1 ? `s${source}p${k}` : `p${k}`;
      groups.push({ id, source, period: k, ...chronologicalGroupSplit(samples) });
    }
  });
  return groups;
}

/** The held-out group index for `--holdout last|<period>` among groups of one source. */
export function holdoutPeriod(spec: string, periods: number): number {
  const period = spec === 'last' ? periods - 1 : Number(spec);
  if (!Number.isInteger(period) || period < 0 || period >= periods) {
    throw new ModelevoError('CONFIG_INVALID', `--holdout: expected 'last' or a period index in 0…${periods - 1}, found '${spec}'`, {
      hint: 'periods are numbered from midnight: with time-of-day:4, 0 = 00–06 h, 3 = 18–24 h',
      details: { value: spec, periods },
    });
  }
  return period;
}
