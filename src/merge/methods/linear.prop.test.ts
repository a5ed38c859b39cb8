import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { assertCloseToReference, makeMergeInput } from '../test-support.js';
import { linear } from './linear.js';

const finite = fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const models = fc.integer({ min: 1, max: 16 }).chain((length) =>
  fc.array(fc.array(finite, { minLength: length, maxLength: length }), { minLength: 1, maxLength: 5 }),
);

function merge(arrays: number[][], weights: number[], normalize = true): Float32Array {
  return linear.mergeTensor(makeMergeInput(linear, { models: arrays, modelParams: weights.map((weight) => ({ weight })), params: { normalize } }));
}

test('property: a one-hot linear merge returns that model exactly', () => {
  fc.assert(
    fc.property(models, fc.nat(), (arrays, pick) => {
      const hot = pick % arrays.length;
      const out = merge(arrays, arrays.map((_, i) => (i === hot ? 1 : 0)));
      assert.deepEqual(Array.from(out), Array.from(Float32Array.from(arrays[hot]!)));
    }),
  );
});

test('property: with normalize, scaling the weights by c > 0 changes nothing (to float32 rounding)', () => {
  const weights = fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 5, maxLength: 5 });
  fc.assert(
    fc.property(models, weights, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (arrays, w, c) => {
      const used = w.slice(0, arrays.length);
      const plain = merge(arrays, used);
      const scaled = merge(arrays, used.map((x) => c * x));
      // both are roundings of values within 1e-15 relative of each other: at most one float32 ulp apart
      assertCloseToReference(scaled, plain, 2 ** -23, 'scaled');
    }),
  );
});
