import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateDecision, meanSquaredDistance } from './gate.js';

const v = (...x: number[]): Float64Array => Float64Array.from(x);

test('h = 1 iff 0 < D_min < κ; D_min is the nearest domain', () => {
  const container = new Map([['a', v(0, 0)], ['b', v(4, 4)]]);
  // to a: (1 + 1)/2 = 1; to b: (9 + 9)/2 = 9
  assert.deepEqual(gateDecision(v(1, 1), container, 2), { admitted: true, minDistance: 1, nearest: 'a' });
  assert.equal(gateDecision(v(1, 1), container, 1).admitted, false, 'D_min = κ is rejected');
  assert.equal(gateDecision(v(0, 0), container, 10).admitted, false, 'D_min = 0 is rejected');
  assert.equal(gateDecision(v(10, 10), container, 1e3).minDistance, 36);
  const empty = gateDecision(v(1, 1), new Map(), 1);
  assert.ok(empty.admitted && Number.isNaN(empty.minDistance));
  assert.equal(meanSquaredDistance(v(1, 2, 3), v(1, 0, 0)), 13 / 3);
});
