import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mean, meanSd, sd, spreadVerdict } from './seed-summary.js';

test('mean ± sample sd over seeds', () => {
  assert.equal(mean([1, 2, 3]), 2);
  assert.equal(sd([1, 2, 3]), 1);
  assert.equal(sd([5]), 0);
  assert.equal(meanSd([2, 4, 6], 2), '4.00 ± 2.00');
  assert.equal(meanSd([1, Number.NaN]), '—');
});

test('verdicts by the spread: only non-overlapping seed ranges decide', () => {
  assert.equal(spreadVerdict([3.1, 3.2, 3.15], [3.5, 3.5, 3.5]), 'lower');
  assert.equal(spreadVerdict([3.6, 3.7, 3.65], [3.5]), 'higher');
  assert.equal(spreadVerdict([3.1, 3.6, 3.2], [3.5, 3.4, 3.55]), 'no clear difference');
  assert.equal(spreadVerdict([3.5], [3.5]), 'no clear difference');
});
