import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eventPrf, eventPrfAsCoded, eventScores, sumEventCounts } from './events.js';
import { alarmRate, flagEveryStep, randomAlarms, randomAlarmsLike } from './floors.js';
import { prf } from './metrics.js';
import { createRng } from '../../core/rng.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// true events [1,3] and [7,8]; predicted events [0,1] (hits the first), [5,5] and [10,11] (hit nothing)
const LABELS = [0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0];
const PRED = [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1];

test('event-level P/R/F1 by the definition on a hand example', () => {
  const r = eventPrf(PRED, LABELS);
  assert.deepEqual([r.hits, r.falsePositives, r.found, r.trueEvents], [1, 2, 1, 2]);
  close(r.precision, 1 / 3);
  close(r.recall, 0.5);
  close(r.f1, 0.4);
});

test('event-level as the authors coded it: pairs counted, the open final run dropped', () => {
  // runs [0,2) and [5,6) (the run [10,11] reaches the end and is dropped); 2 × 2 pairs, one overlaps
  const r = eventPrfAsCoded(PRED, LABELS);
  assert.deepEqual([r.hits, r.falsePositives, r.found, r.trueEvents], [1, 3, 1, 2]);
  close(r.precision, 0.25);
  close(r.recall, 0.5);
  close(r.f1, 1 / 3);
});

test('the boundary cases where the coded overlap test and the definition disagree', () => {
  // predicted run ends right before the true run: no shared step, yet the coded test counts it
  assert.deepEqual([eventPrf([1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0]).f1, eventPrfAsCoded([1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0]).f1], [0, 1]);
  // predicted run starts before and shares the true run's last step: overlaps, yet the coded test misses it
  assert.deepEqual([eventPrf([0, 1, 1, 1, 0], [0, 0, 1, 1, 0]).f1, eventPrfAsCoded([0, 1, 1, 1, 0], [0, 0, 1, 1, 0]).f1], [1, 0]);
  // flagging every step: one event that overlaps everything — perfect by the definition, dropped as coded
  const r = eventPrf(flagEveryStep(4), [0, 1, 0, 0]);
  assert.deepEqual([r.precision, r.recall, r.f1], [1, 1, 1]);
  assert.equal(eventPrfAsCoded(flagEveryStep(4), [0, 1, 0, 0]).f1, 0);
  // no true events: recall 1 by the authors' convention; no alarms: precision 0
  assert.equal(eventPrf([0, 1, 0], [0, 0, 0]).recall, 1);
  assert.equal(eventPrf([0, 0, 0], [0, 1, 0]).precision, 0);
});

test('pooling sums counts: two channels scored apart equal the summed counts', () => {
  const a = eventPrf(PRED, LABELS);
  const b = eventPrf([0, 1, 1, 0], [0, 0, 1, 0]);
  const pooled = eventScores(sumEventCounts([a, b]));
  close(pooled.precision, 2 / 4);
  close(pooled.recall, 2 / 3);
});

/** brute force from the definition: per predicted run, look at every step; per true run likewise */
function bruteForce(pred: number[], labels: number[]): { precision: number; recall: number } {
  const runs = (flags: number[]): number[][] => {
    const out: number[][] = [];
    flags.forEach((f, i) => {
      if (f && (i === 0 || !flags[i - 1])) out.push([]);
      if (f) out[out.length - 1]!.push(i);
    });
    return out;
  };
  const p = runs(pred);
  const t = runs(labels);
  const hits = p.filter((steps) => steps.some((i) => labels[i])).length;
  const found = t.filter((steps) => steps.some((i) => pred[i])).length;
  return { precision: p.length ? hits / p.length : 0, recall: t.length ? found / t.length : 1 };
}

test('property: eventPrf equals a step-by-step brute force of the definition', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 80 }), (pairs) => {
      const pred = pairs.map(([p]) => (p ? 1 : 0));
      const labels = pairs.map(([, y]) => (y ? 1 : 0));
      const r = eventPrf(pred, labels);
      const expected = bruteForce(pred, labels);
      close(r.precision, expected.precision);
      close(r.recall, expected.recall);
    }),
  );
});

test('floors: random alarms keep the count; point precision ≈ base rate and recall ≈ alarm rate; flag-every-step F1 = 2b/(1 + b)', () => {
  const rng = createRng('floors-test');
  const n = 200000;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i += 100) labels.fill(1, i, i + 7); // base rate b = 0.07
  const model = new Uint8Array(n);
  for (let i = 0; i < n; i += 50) model[i] = 1; // alarm rate 0.02
  const random = randomAlarmsLike(model, rng);
  assert.equal(alarmRate(random), 0.02);
  const r = prf(random, labels);
  // hypergeometric: sd of precision ≈ sqrt(0.07·0.93/4000) ≈ 0.004, of recall ≈ 0.0011
  assert.ok(Math.abs(r.precision - 0.07) < 0.02, `precision ${r.precision}`);
  assert.ok(Math.abs(r.recall - 0.02) < 0.006, `recall ${r.recall}`);
  close(prf(flagEveryStep(n), labels).f1, (2 * 0.07) / 1.07, 1e-12);
  const drawn = randomAlarms(10, 10, rng);
  assert.equal(alarmRate(drawn), 1, 'count = length flags every step');
});
