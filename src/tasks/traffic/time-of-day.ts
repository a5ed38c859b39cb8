/**
 * Time-of-day periods of a traffic series (synevo.md §3 domain groups, coms2t.md §4 OOD split): the series
 * starts at midnight, and a 12-in/12-out window (24 consecutive steps) belongs to a period of the day only if
 * all its steps lie inside that period of one day. A window straddling a period boundary belongs to no period,
 * so a held-out or test period never leaks into a training window.
 */
import { HORIZON_STEPS, INPUT_STEPS } from './windows.js';

export const WINDOW_STEPS = INPUT_STEPS + HORIZON_STEPS;

/** A [start, end) range of steps. */
export interface StepRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Window starts, ascending, inside the step-of-day range `period` on every day of `block` (days counted from
 * `block.start`); a window never reads a step at or beyond `block.end`.
 */
export function windowsInPeriod(block: StepRange, stepsPerDay: number, period: StepRange): number[] {
  const out: number[] = [];
  for (let dayStart = block.start; dayStart < block.end; dayStart += stepsPerDay) {
    const from = dayStart + period.start;
    const to = Math.min(dayStart + period.end, block.end);
    for (let s = from; s + WINDOW_STEPS <= to; s++) out.push(s);
  }
  return out;
}
