import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METR_LA_PERIODS, periodOfStep, periodSteps, timeOfDaySplit } from './split.js';

const DAY = 288;

test('the METR-LA periods are disjoint step ranges covering the day', () => {
  const ranges = (['train', 'val', 'prompt', 'test'] as const).map((name) => periodSteps(METR_LA_PERIODS[name], DAY));
  assert.deepEqual(ranges, [{ start: 96, end: 192 }, { start: 192, end: 288 }, { start: 0, end: 12 }, { start: 12, end: 96 }]);
  const owner = new Array<number>(DAY).fill(0);
  for (const r of ranges) for (let s = r.start; s < r.end; s++) owner[s]!++;
  assert.ok(owner.every((count) => count === 1), 'every step of the day belongs to exactly one period');
});

test('train, validation and test windows lie wholly inside their period; counts per day as hand-computed', () => {
  const split = timeOfDaySplit(7 * DAY, DAY);
  // 96-step periods hold 96 − 24 + 1 = 73 windows a day, the 84-step test period 61
  assert.equal(split.train.length, 7 * 73);
  assert.equal(split.val.length, 7 * 73);
  assert.equal(split.test.length, 7 * 61);
  for (const name of ['train', 'val', 'test'] as const) {
    for (const s of split[name]) for (let t = s; t < s + 24; t++) assert.equal(periodOfStep(t, split), name, `${name} window ${s} reads step ${t}`);
  }
  assert.equal(split.train[0], 96);
  assert.equal(split.test[0], 12);
  assert.equal(split.test[60], 72);
});

test('prompt windows end in 00:00–01:00 and never read a training or test step', () => {
  const split = timeOfDaySplit(7 * DAY, DAY);
  // 12 per night, nights 1…6 (the first day has no preceding evening): starts 22:05…23:00
  assert.equal(split.prompt.length, 6 * 12);
  assert.deepEqual(split.prompt.slice(0, 12), Array.from({ length: 12 }, (_, i) => DAY - 23 + i));
  for (const s of split.prompt) {
    assert.equal(periodOfStep(s + 23, split), 'prompt');
    for (let t = s; t < s + 24; t++) assert.ok(['val', 'prompt'].includes(periodOfStep(t, split)!), `prompt window ${s} reads step ${t} (${periodOfStep(t, split)})`);
  }
  const sets = ['train', 'val', 'prompt', 'test'].map((name) => new Set(split[name as 'train']));
  for (let a = 0; a < 4; a++) for (let b = a + 1; b < 4; b++) for (const s of sets[a]!) assert.ok(!sets[b]!.has(s));
});

test('overlapping periods and too-short series are rejected with a stable code', () => {
  assert.throws(() => timeOfDaySplit(7 * DAY, DAY, { ...METR_LA_PERIODS, val: { startHour: 15, endHour: 24 } }), (e: unknown) => (e as { code: string }).code === 'CONFIG_INVALID');
  assert.throws(() => timeOfDaySplit(DAY, DAY), (e: unknown) => (e as { code: string }).code === 'VALUE_INVALID');
});
