import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filledMatrix, isSymmetric, meanPairwiseKinship, setSymmetric } from './matrix.js';
import { ModelevoError } from '../core/errors.js';

test('mean pairwise kinship is 2/(n(n−1)) Σ_{i<j} sim(i, j) over the chosen members', () => {
  const m = filledMatrix(4, 1);
  const values: [number, number, number][] = [[0, 1, 0.2], [0, 2, 0.4], [0, 3, -0.1], [1, 2, 0.9], [1, 3, 0.3], [2, 3, 0.5]];
  for (const [i, j, v] of values) setSymmetric(m, i, j, v);
  assert.ok(isSymmetric(m));
  assert.ok(Math.abs(meanPairwiseKinship(m) - (0.2 + 0.4 - 0.1 + 0.9 + 0.3 + 0.5) / 6) < 1e-15);
  assert.ok(Math.abs(meanPairwiseKinship(m, [1, 2, 3]) - (0.9 + 0.3 + 0.5) / 3) < 1e-15);
  assert.equal(meanPairwiseKinship(m, [3, 0]), -0.1);
  assert.throws(() => meanPairwiseKinship(m, [2]), ModelevoError);
  assert.throws(() => meanPairwiseKinship(m, [1, 1]), /repeated/);
  assert.throws(() => meanPairwiseKinship(m, [0, 4]), /outside the 4×4/);
  m[0]![1] = 0.25;
  assert.equal(isSymmetric(m), false);
  const withNaN = filledMatrix(2, Number.NaN);
  assert.ok(isSymmetric(withNaN));
});
