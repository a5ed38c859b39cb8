import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { averageAccuracy, backwardTransfer, forgetting, learningAccuracy, meanStd, summarize } from './metrics.js';

// hand-worked 3×3 example
const R = [
  [0.9, 0.1, 0.2],
  [0.7, 0.8, 0.3],
  [0.6, 0.85, 0.95],
];

test('ACC, both BWT conventions and forgetting on a hand-computed 3×3 matrix', () => {
  // ACC = (0.6 + 0.85 + 0.95) / 3 = 0.8
  assert.ok(Math.abs(averageAccuracy(R) - 0.8) < 1e-12);
  // BWT previous: ((0.6 − 0.9) + (0.85 − 0.8)) / 2 = (−0.3 + 0.05) / 2 = −0.125
  assert.ok(Math.abs(backwardTransfer(R) + 0.125) < 1e-12);
  // BWT all (FS-DGPM main.py): (−0.3 + 0.05 + 0) / 3 = −0.0833…
  assert.ok(Math.abs(backwardTransfer(R, 'all') + 0.25 / 3) < 1e-12);
  // forgetting: task 0 max(0.9, 0.7) − 0.6 = 0.3; task 1 max(0.1, 0.8) − 0.85 = −0.05 → mean 0.125
  assert.ok(Math.abs(forgetting(R) - 0.125) < 1e-12);
  const s = summarize(R);
  assert.ok(Math.abs(s.bwt + 0.125) < 1e-12 && Math.abs(s.bwtAll + 0.25 / 3) < 1e-12);
});

test('forgetting uses the best earlier accuracy, not the diagonal', () => {
  const peaked = [
    [0.5, 0, 0],
    [0.9, 0.6, 0],
    [0.4, 0.6, 0.7],
  ];
  // task 0: max(0.5, 0.9) − 0.4 = 0.5; task 1: max(0, 0.6) − 0.6 = 0 → 0.25; BWT = ((0.4−0.5)+(0.6−0.6))/2 = −0.05
  assert.ok(Math.abs(forgetting(peaked) - 0.25) < 1e-12);
  assert.ok(Math.abs(backwardTransfer(peaked) + 0.05) < 1e-12);
});

test('a single task has zero BWT and forgetting; non-square input is rejected', () => {
  assert.equal(backwardTransfer([[0.7]]), 0);
  assert.equal(forgetting([[0.7]]), 0);
  assert.equal(averageAccuracy([[0.7]]), 0.7);
  assert.throws(() => averageAccuracy([[1, 2], [3]]), /T×T accuracy matrix, got rows of lengths \[2, 1\]/);
});

test('property: BWT(all) = (T−1)/T · BWT(previous); forgetting ≥ −BWT; constant columns give zero BWT', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 6 }).chain((T) => fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: T, maxLength: T }), { minLength: T, maxLength: T })), (M) => {
      const T = M.length;
      assert.ok(Math.abs(backwardTransfer(M, 'all') - ((T - 1) / T) * backwardTransfer(M)) < 1e-12);
      // max over l ≥ R[j][j] term by term
      assert.ok(forgetting(M) >= -backwardTransfer(M) - 1e-12);
      const flat = M.map(() => M[0]!.slice());
      assert.ok(Math.abs(backwardTransfer(flat)) < 1e-12);
    }),
  );
});

test('meanStd uses the sample standard deviation', () => {
  const { mean, std } = meanStd([1, 2, 3, 4]);
  assert.equal(mean, 2.5);
  assert.ok(Math.abs(std - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual(meanStd([3]), { mean: 3, std: 0 });
});

test('learning accuracy is the mean of the diagonal (hand case) and ACC = LA + BWT(all) for any matrix', () => {
  // LA = (0.9 + 0.8 + 0.95) / 3 = 0.88333…; ACC 0.8 = 0.88333… − 0.25/3
  assert.ok(Math.abs(learningAccuracy(R) - 2.65 / 3) < 1e-12);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }).chain((T) => fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: T, maxLength: T }), { minLength: T, maxLength: T })), (M) => {
      assert.ok(Math.abs(averageAccuracy(M) - (learningAccuracy(M) + backwardTransfer(M, 'all'))) < 1e-12);
    }),
  );
  assert.throws(() => learningAccuracy([[1, 0]]), /T×T/);
});
