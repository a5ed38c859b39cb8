import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chronologicalGroupSplit, holdoutPeriod, parseDomainSpec, periodGroups } from './domains.js';

test('time-of-day:4 on the METR-LA subset (7 days × 288 steps): 49 windows per period-day, 343 per group', () => {
  const groups = periodGroups({ steps: 2016, stepsPerDay: 288, periods: 4 });
  assert.deepEqual(groups.map((g) => g.id), ['p0', 'p1', 'p2', 'p3']);
  for (const g of groups) {
    const all = [...g.train, ...g.val, ...g.test];
    assert.equal(all.length, 7 * 49);
    // 343 windows → test round(68.6) = 69, train round(240.1) = 240, val 34
    assert.deepEqual([g.train.length, g.val.length, g.test.length], [240, 34, 69]);
    assert.deepEqual(all, [...all].sort((a, b) => a - b), 'chronological');
  }
  // period 3 (18–24 h) of day 0: windows start at steps 216 … 264 (264 + 23 = 287, the last step of the day)
  assert.equal(groups[3]!.train[0], 216);
  assert.equal(groups[3]!.train[48], 264);
  assert.equal(groups[3]!.train[49], 288 + 216);
});

test('no window reads a step outside its period of its day (held-out periods never leak)', () => {
  const groups = periodGroups({ steps: 2016, stepsPerDay: 288, periods: 4 });
  for (const g of groups) {
    for (const s of [...g.train, ...g.val, ...g.test]) {
      const first = s % 288;
      const last = first + 23;
      assert.ok(Math.floor(first / 72) === g.period && Math.floor(last / 72) === g.period && last < 288, `window ${s} leaves period ${g.period}`);
    }
  }
});

test('source blocks: one group per source × period, no window across blocks', () => {
  const groups = periodGroups({ steps: 4 * 96, stepsPerDay: 96, periods: 2, sourceBlocks: [{ start: 0, end: 192 }, { start: 192, end: 384 }] });
  assert.deepEqual(groups.map((g) => g.id), ['s0p0', 's0p1', 's1p0', 's1p1']);
  // 48-step periods → 25 windows per period-day, 2 days per source
  for (const g of groups) assert.equal(g.train.length + g.val.length + g.test.length, 50);
  assert.ok(groups[2]!.train.every((s) => s >= 192));
  assert.ok(groups[1]!.test.every((s) => s + 23 < 192));
});

test('chronological 7:1:2 of 10 samples is 7/1/2; parse and holdout errors name the flag', () => {
  const split = chronologicalGroupSplit([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(split, { train: [0, 1, 2, 3, 4, 5, 6], val: [7], test: [8, 9] });
  assert.deepEqual(parseDomainSpec('time-of-day:4'), { kind: 'time-of-day', periods: 4 });
  assert.throws(() => parseDomainSpec('hour:4'), /time-of-day:K/);
  assert.throws(() => periodGroups({ steps: 288, stepsPerDay: 288, periods: 5 }), /divide/);
  assert.throws(() => periodGroups({ steps: 288, stepsPerDay: 288, periods: 24 }), /cannot hold/);
  assert.equal(holdoutPeriod('last', 4), 3);
  assert.equal(holdoutPeriod('1', 4), 1);
  assert.throws(() => holdoutPeriod('4', 4), /0…3/);
});
