import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curriculumOrder, gradientDifficulty, signatureDistance } from './curriculum.js';

const f = (...v: number[]): Float32Array => Float32Array.from(v);

test('difficulty is Σ‖∇_i‖² over all tensors; distance is the norm of the concatenated difference', () => {
  assert.equal(gradientDifficulty({ a: f(1, 2), b: f(3) }), 14);
  assert.equal(signatureDistance({ a: f(1, 2), b: f(3) }, { b: f(-1), a: f(1, -1) }), 5); // √(0 + 9 + 16)
  assert.throws(() => signatureDistance({ a: f(1, 2) }, { a: f(1) }), /'a'/);
});

test('bench = argmin difficulty; order by ascending distance to the bench; d_max', () => {
  // difficulties: A 25, B 1, C 4, D 9 → bench B = (1, 0)
  const groups = [
    { group: 'A', gradients: { w: f(3, 4) } }, // distance √(4 + 16) = √20
    { group: 'B', gradients: { w: f(1, 0) } }, // 0
    { group: 'C', gradients: { w: f(0, 2) } }, // √(1 + 4) = √5
    { group: 'D', gradients: { w: f(-3, 0) } }, // 4
  ];
  const c = curriculumOrder(groups);
  assert.equal(c.bench, 'B');
  assert.deepEqual(c.order.map((e) => e.group), ['B', 'C', 'D', 'A']);
  assert.deepEqual(c.order.map((e) => e.difficulty), [1, 4, 9, 25]);
  assert.ok(Math.abs(c.order[1]!.distance - Math.sqrt(5)) < 1e-12);
  assert.ok(Math.abs(c.maxDistance - Math.sqrt(20)) < 1e-12);
  assert.equal(c.order[0]!.distance, 0);
});

test('the order is deterministic and ties keep the input order', () => {
  const groups = [
    { group: 'x', gradients: { w: f(2, 0) } },
    { group: 'y', gradients: { w: f(0, 2) } },
    { group: 'bench', gradients: { w: f(0, 0) } },
    { group: 'z', gradients: { w: f(-2, 0) } },
  ];
  const first = curriculumOrder(groups);
  assert.deepEqual(first.order.map((e) => e.group), ['bench', 'x', 'y', 'z']);
  assert.deepEqual(curriculumOrder(groups), first);
});
