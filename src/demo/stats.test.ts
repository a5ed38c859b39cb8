import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bestSoFar, meanCurve, spread, verdict, wins } from './stats.js';

test('spread: mean and sample standard deviation against hand-computed values', () => {
  // values 1, 2, 3, 4: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, /3 → sd √(5/3)
  const s = spread([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.sd - Math.sqrt(5 / 3)) < 1e-15);
  assert.deepEqual(spread([7]), { mean: 7, sd: 0, n: 1 });
});

test('verdict needs the mean beyond two standard errors; wins count strict improvements', () => {
  // mean −0.01, sd 0.001 → se 0.000447: clearly better
  assert.equal(verdict([-0.011, -0.009, -0.01, -0.0105, -0.0095]), 'beats');
  // mean −0.002, sd ≈ 0.0158 → ties
  assert.equal(verdict([-0.02, 0.02, -0.01, 0.01, -0.01]), 'ties');
  assert.equal(verdict([0.03, 0.02, 0.025, 0.028, 0.022]), 'loses');
  // seed-independent strategy: zero spread, the sign decides
  assert.equal(verdict([-0.001, -0.001, -0.001]), 'beats');
  assert.equal(wins([-0.02, 0.02, -0.01, 0, -0.01]), 3);
});

test('best-so-far curves are non-increasing, ignore failures, and their mean is element-wise', () => {
  assert.deepEqual(bestSoFar([3, NaN, 2, 4, 1]), [3, 3, 2, 2, 1]);
  assert.deepEqual(meanCurve([[3, 1, 2], [1, 2]]), [2, 1]);
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 30 }), (curve) => {
      const best = bestSoFar(curve);
      for (let i = 1; i < best.length; i++) assert.ok(best[i]! <= best[i - 1]!);
      const finite = curve.filter(Number.isFinite);
      assert.equal(best[best.length - 1], finite.length ? Math.min(...finite) : Infinity);
    }),
  );
});
