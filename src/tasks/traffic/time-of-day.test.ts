import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WINDOW_STEPS, windowsInPeriod } from './time-of-day.js';

/** Brute force: every start whose 24 steps are in the block and share one day's period (days from block.start). */
function bruteForce(block: { start: number; end: number }, stepsPerDay: number, period: { start: number; end: number }): number[] {
  const out: number[] = [];
  for (let s = block.start; s + WINDOW_STEPS <= block.end; s++) {
    const day = Math.floor((s - block.start) / stepsPerDay);
    const from = block.start + day * stepsPerDay + period.start;
    if (s >= from && s + WINDOW_STEPS <= block.start + day * stepsPerDay + period.end) out.push(s);
  }
  return out;
}

test('windowsInPeriod: 08–16 h of two 5-minute days', () => {
  const windows = windowsInPeriod({ start: 0, end: 576 }, 288, { start: 96, end: 192 });
  assert.equal(windows.length, 2 * (96 - 23));
  assert.deepEqual([windows[0], windows[72], windows[73], windows.at(-1)], [96, 168, 384, 456]);
});

test('property: windowsInPeriod equals the brute-force window rule', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 2, max: 8 }), fc.nat(), fc.nat(), (start, length, k, a, b) => {
      const stepsPerDay = 24 * k;
      const p0 = a % stepsPerDay;
      const p1 = p0 + 1 + (b % (stepsPerDay - p0));
      const block = { start, end: start + length };
      assert.deepEqual(windowsInPeriod(block, stepsPerDay, { start: p0, end: p1 }), bruteForce(block, stepsPerDay, { start: p0, end: p1 }));
    }),
  );
});
