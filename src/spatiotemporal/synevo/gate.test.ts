import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateDecision, kappaFromDistances, meanSquaredDistance } from './gate.js';

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

test('κ from the representation scale: factor × median pairwise D, and the gate then rejects a far group', () => {
  // three training domains on a line: D(a,b) = 1, D(b,c) = 4, D(a,c) = 9 (1-D representations) → median 4
  const reps = new Map([['a', v(0)], ['b', v(1)], ['c', v(3)]]);
  const scale = kappaFromDistances(reps, 1.5);
  assert.equal(scale.median, 4);
  assert.equal(scale.kappa, 6);
  assert.deepEqual(scale.pairwise.map((p) => [p.a, p.b, p.distance]), [['a', 'b', 1], ['a', 'c', 9], ['b', 'c', 4]]);
  const container = new Map([['a', v(0)], ['b', v(1)]]);
  // a group at 2: D_min = 1 (to b) < κ → admitted; a group at 4: D_min = 9 (to b) > κ = 6 → rejected
  assert.equal(gateDecision(v(2), container, scale.kappa).admitted, true);
  const far = gateDecision(v(4), container, scale.kappa);
  assert.deepEqual([far.admitted, far.minDistance, far.nearest], [false, 9, 'b']);
  // the paper's κ = 1e3 on this scale admits it: the gate could never reject
  assert.equal(gateDecision(v(4), container, 1e3).admitted, true);
});
