import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bestF1Oracle,
  compositeF1,
  paKCurve,
  percentileThreshold,
  pointAdjust,
  pointAdjustedPrf,
  prf,
  rangePrf,
  segments,
} from './metrics.js';

// hand-computed example: true segments [1,4] and [7,8]; one hit inside the first, one false alarm at 0
const LABELS = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0];
const PRED = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('point-wise P/R/F1 on the hand example (TP 1, FP 1, FN 5)', () => {
  const r = prf(PRED, LABELS);
  assert.deepEqual([r.tp, r.fp, r.fn], [1, 1, 5]);
  close(r.precision, 0.5);
  close(r.recall, 1 / 6);
  close(r.f1, 0.25);
  assert.deepEqual(segments(LABELS), [[1, 4], [7, 8]]);
  assert.equal(prf(new Array(10).fill(0), LABELS).f1, 0, 'all-zero predictions give F1 = 0');
});

test('point adjustment and PA%K (strict >K%) on the hand example', () => {
  assert.deepEqual([...pointAdjust(PRED, LABELS)], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  const pa = pointAdjustedPrf(PRED, LABELS);
  close(pa.precision, 0.8);
  close(pa.recall, 4 / 6);
  close(pa.f1, 8 / 11);
  close(pointAdjustedPrf(PRED, LABELS, 20).f1, 8 / 11, 1e-12); // 25% detected > 20%
  close(pointAdjustedPrf(PRED, LABELS, 25).f1, 0.25); // 25% is not > 25%
  close(pointAdjustedPrf(PRED, LABELS, 100).f1, 0.25);
  const curve = paKCurve(PRED, LABELS, 25);
  assert.deepEqual(curve.ks, [0, 25, 50, 75, 100]);
  close(curve.auc, (12.5 * (8 / 11 + 0.25) + 75 * 0.25) / 100);
});

test('event-wise recall, composite F1 and range-based P/R on the hand example', () => {
  const composite = compositeF1(PRED, LABELS);
  close(composite.eventRecall, 0.5);
  close(composite.f1, 0.5);
  const range = rangePrf(PRED, LABELS);
  close(range.recall, 0.125); // R1: 1/4 covered, R2: 0
  close(range.precision, 0.5); // P1 = [0,0] misses, P2 = [2,2] fully inside R1
  close(range.f1, 0.2);
  close(rangePrf(PRED, LABELS, 0.2).recall, (0.2 + 0.8 * 0.25) / 2);
  // two predicted ranges inside one true range: cardinality 1/2 halves the covered fraction 2/4
  close(rangePrf([0, 1, 0, 1, 0, 0, 0, 0, 0, 0], LABELS).recall, (0.5 * 0.5) / 2);
  const perfect = rangePrf(LABELS, LABELS);
  assert.deepEqual([perfect.precision, perfect.recall, perfect.f1], [1, 1, 1]);
});

test('properties: PA never lowers F1; K = 0 is PA; K = 100 is point-wise', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 60 }), (pairs) => {
      const pred = pairs.map(([p]) => (p ? 1 : 0));
      const labels = pairs.map(([, y]) => (y ? 1 : 0));
      const plain = prf(pred, labels).f1;
      const pa = pointAdjustedPrf(pred, labels).f1;
      assert.ok(pa >= plain);
      assert.equal(pointAdjustedPrf(pred, labels, 0).f1, pa);
      assert.equal(pointAdjustedPrf(pred, labels, 100).f1, plain);
    }),
  );
});

test('percentile threshold and the best-F1 oracle', () => {
  const scores = Array.from({ length: 100 }, (_, i) => i + 1);
  close(percentileThreshold(scores, 1), 99.01);
  const oracle = bestF1Oracle([0.1, 0.9, 0.8, 0.2, 0.7], [0, 1, 1, 0, 0]);
  assert.equal(oracle.f1, 1);
  close(oracle.threshold, 0.75);
  const oraclePa = bestF1Oracle([0.1, 0.9, 0.1, 0.1, 0.7], [0, 1, 1, 1, 0], { pointAdjusted: true });
  assert.equal(oraclePa.f1, 1, 'PA credits the whole segment from its top-scored point');
});

test('prf, eventPrf and eventPrfAsCoded refuse mismatched lengths with a typed SHAPE_MISMATCH', async () => {
  const { ModelevoError } = await import('../../core/errors.js');
  const { eventPrf, eventPrfAsCoded } = await import('./events.js');
  for (const [name, fn] of [['prf', prf], ['eventPrf', eventPrf], ['eventPrfAsCoded', eventPrfAsCoded]] as const) {
    assert.throws(
      () => fn(new Uint8Array(3), new Uint8Array(4)),
      (e: unknown) => e instanceof ModelevoError && e.code === 'SHAPE_MISMATCH' && e.message === `${name}: expected one label per prediction, got 3 predictions and 4 labels` && e.hint !== undefined,
    );
  }
});
