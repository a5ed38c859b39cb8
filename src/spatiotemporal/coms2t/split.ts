/**
 * ComS2T's time-of-day OOD split for METR-LA (coms2t.md §4): per day 08:00–16:00 train, 16:00–24:00 validation,
 * 00:00–01:00 prompt (test-time adaptation), 01:00–08:00 test. The series must start at midnight.
 *
 * Window rule. A 12-in/12-out window reads 24 consecutive steps (sample s reads s…s+23). A train, validation or
 * test window belongs to its period only if all 24 steps lie inside that period of one day; windows straddling a
 * boundary are dropped, so no training or validation window reads a test step.
 *
 * The prompt period has only 12 steps per day, fewer than one window. A window whose input lies in 00:00–01:00
 * would take its targets from 01:00–02:00, which is test: not allowed. The prompt objective needs only the 12
 * inputs and the [mean, variance] of the next 12 values, so the prompt split is the 12 windows per night whose
 * targets *end* inside 00:00–01:00: starts 22:05…23:00, every step in [22:05, 01:00). Their inputs (and the early
 * targets) are validation-period steps, their last targets are prompt-period steps; none reads a training or
 * test step. The first day's 00:00–01:00 has no preceding evening in the series and gives no prompt windows.
 */
import { ModelevoError } from '../../core/errors.js';
import { WINDOW_STEPS, windowsInPeriod } from '../../tasks/traffic/time-of-day.js';

/** A period of the day in hours, [startHour, endHour). */
export interface HourRange {
  readonly startHour: number;
  readonly endHour: number;
}

export interface TimeOfDayPeriods {
  readonly train: HourRange;
  readonly val: HourRange;
  readonly prompt: HourRange;
  readonly test: HourRange;
}

/** The METR-LA periods of the ComS2T code. */
export const METR_LA_PERIODS: TimeOfDayPeriods = {
  train: { startHour: 8, endHour: 16 },
  val: { startHour: 16, endHour: 24 },
  prompt: { startHour: 0, endHour: 1 },
  test: { startHour: 1, endHour: 8 },
};

export interface TimeOfDaySplit {
  readonly periods: TimeOfDayPeriods;
  readonly stepsPerDay: number;
  /** sample indices (step of the first input), ascending */
  readonly train: readonly number[];
  readonly val: readonly number[];
  readonly prompt: readonly number[];
  readonly test: readonly number[];
}

/** Step-of-day range [start, end) of an hour range. */
export function periodSteps(range: HourRange, stepsPerDay: number): { start: number; end: number } {
  const start = (range.startHour / 24) * stepsPerDay;
  const end = (range.endHour / 24) * stepsPerDay;
  if (!Number.isInteger(start) || !Number.isInteger(end)) {
    throw new ModelevoError('CONFIG_INVALID', `time-of-day split: hours ${range.startHour}–${range.endHour} do not fall on steps of a ${stepsPerDay}-step day`, {
      hint: 'use whole hours with 24·k steps per day (5-minute data: 288)',
      details: { ...range, stepsPerDay },
    });
  }
  return { start, end };
}

/** Which period a step belongs to (or undefined outside every period). */
export function periodOfStep(step: number, split: Pick<TimeOfDaySplit, 'periods' | 'stepsPerDay'>): keyof TimeOfDayPeriods | undefined {
  const inDay = step % split.stepsPerDay;
  for (const name of ['train', 'val', 'prompt', 'test'] as const) {
    const { start, end } = periodSteps(split.periods[name], split.stepsPerDay);
    if (inDay >= start && inDay < end) return name;
  }
  return undefined;
}

/** The time-of-day split of a series of `steps` steps starting at midnight. */
export function timeOfDaySplit(steps: number, stepsPerDay: number, periods: TimeOfDayPeriods = METR_LA_PERIODS): TimeOfDaySplit {
  checkDisjoint(periods, stepsPerDay);
  const days = Math.ceil(steps / stepsPerDay);
  const inside = (range: HourRange): number[] => windowsInPeriod({ start: 0, end: steps }, stepsPerDay, periodSteps(range, stepsPerDay));
  const prompt: number[] = [];
  const promptRange = periodSteps(periods.prompt, stepsPerDay);
  for (let day = 1; day < days; day++) {
    const periodStart = day * stepsPerDay + promptRange.start;
    const periodEnd = day * stepsPerDay + promptRange.end;
    // the window's last target s+23 lies in the prompt period; its first step s must not be a training/test step
    for (let s = periodStart - WINDOW_STEPS + 1; s + WINDOW_STEPS <= periodEnd && s + WINDOW_STEPS <= steps; s++) {
      let readsForbidden = false;
      for (let t = s; t < s + WINDOW_STEPS; t++) {
        const period = periodOfStep(t, { periods, stepsPerDay });
        if (period === 'train' || period === 'test') readsForbidden = true;
      }
      if (!readsForbidden) prompt.push(s);
    }
  }
  const split = { periods, stepsPerDay, train: inside(periods.train), val: inside(periods.val), prompt, test: inside(periods.test) };
  for (const name of ['train', 'val', 'test', 'prompt'] as const) {
    if (split[name].length === 0) {
      throw new ModelevoError('VALUE_INVALID', `time-of-day split: expected at least one ${name} window, found none in ${steps} steps`, {
        hint: 'the series must start at midnight and span at least two days',
        details: { steps, stepsPerDay },
      });
    }
  }
  return split;
}

function checkDisjoint(periods: TimeOfDayPeriods, stepsPerDay: number): void {
  const ranges = (['train', 'val', 'prompt', 'test'] as const).map((name) => ({ name, ...periodSteps(periods[name], stepsPerDay) }));
  for (const a of ranges) {
    for (const b of ranges) {
      if (a.name < b.name && a.start < b.end && b.start < a.end) {
        throw new ModelevoError('CONFIG_INVALID', `time-of-day split: periods ${a.name} and ${b.name} overlap`, {
          hint: 'the train, validation, prompt and test hours must be disjoint',
          details: { a, b },
        });
      }
    }
  }
}
