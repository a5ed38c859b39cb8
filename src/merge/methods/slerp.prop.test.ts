import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { assertCloseToReference, makeMergeInput } from '../test-support.js';
import { slerp } from './slerp.js';

const finite = fc.float({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true });
const pair = fc.integer({ min: 1, max: 24 }).chain((length) =>
  fc.tuple(fc.array(finite, { minLength: length, maxLength: length }), fc.array(finite, { minLength: length, maxLength: length })),
);

function merge(v0: number[], v1: number[], t: number): Float32Array {
  return slerp.mergeTensor(makeMergeInput(slerp, { base: v0, models: [v1], params: { t } }));
}

test('property: slerp returns its endpoints bit-exactly', () => {
  fc.assert(
    fc.property(pair, ([v0, v1]) => {
      assert.deepEqual(Array.from(merge(v0, v1, 0)), Array.from(Float32Array.from(v0)));
      assert.deepEqual(Array.from(merge(v0, v1, 1)), Array.from(Float32Array.from(v1)));
    }),
  );
});

test('property: slerp of a tensor with itself is that tensor for every t in [0, 1]', () => {
  fc.assert(
    fc.property(pair, fc.double({ min: 0, max: 1, noNaN: true }), ([v0], t) => {
      const out = merge(v0, v0, t);
      // ±0 may lose its sign in (1−t)·x + t·x; compare numerically
      Float32Array.from(v0).forEach((x, j) => assert.ok(out[j] === x, `element ${j}: ${out[j]} vs ${x}`));
    }),
  );
});

test('property: slerp(v0, v1, t) equals slerp(v1, v0, 1 − t) (the path is the same, walked backwards)', () => {
  fc.assert(
    fc.property(pair, fc.double({ min: 0, max: 1, noNaN: true }), ([v0, v1], t) => {
      const forward = merge(v0, v1, t);
      const backward = merge(v1, v0, 1 - t);
      assert.ok(forward.every(Number.isFinite));
      const inputScale = Math.max(...[...v0, ...v1].map(Math.abs));
      assertCloseToReference(backward, forward, 1e-5, 'reversed', 1e-6 * inputScale);
    }),
  );
});
