import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRng } from '../../core/rng.js';
import { kthLargestMagnitude, magnitudeCut, magnitudeCutStreamed, topKMagnitudeMask } from './select.js';

/** Sort-based reference: |x| in float64 (exact for float32 inputs), descending. */
function sortedMagnitudes(values: Float32Array): Float64Array {
  const magnitudes = Float64Array.from(values, (x) => Math.abs(x));
  return magnitudes.sort().reverse();
}

function referenceTopKIndices(values: Float32Array, k: number): Set<number> {
  const order = Array.from(values, (_, j) => j).sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b);
  return new Set(order.slice(0, k));
}

const finiteFloat = fc.float({ noNaN: true, noDefaultInfinity: true });
const arrays = {
  random: fc.array(finiteFloat, { minLength: 1, maxLength: 300 }),
  gaussian: fc
    .tuple(fc.integer({ min: 1, max: 2000 }), fc.integer(), fc.double({ min: 1e-30, max: 1e30, noNaN: true }))
    .map(([n, seed, scale]) => {
      const rng = createRng('gaussian', seed);
      return Array.from({ length: n }, () => Math.fround(rng.normal() * scale));
    }),
  heavyTied: fc.array(fc.constantFrom(0, -0, 1, -1, 2.5, -2.5, 0.125), { minLength: 1, maxLength: 400 }),
  signedZeros: fc.array(fc.constantFrom(0, -0, 1e-45, -1e-45), { minLength: 1, maxLength: 100 }),
  subnormal: fc.array(
    fc.integer({ min: -(2 ** 23 - 1), max: 2 ** 23 - 1 }).map((m) => Math.fround(m * 2 ** -149)),
    { minLength: 1, maxLength: 300 },
  ),
  hugeRange: fc.array(
    fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -150, max: 127 })).map(([m, e]) => Math.fround(m * 2 ** e)),
    { minLength: 1, maxLength: 300 },
  ),
};

for (const [name, arbitrary] of Object.entries(arrays)) {
  test(`histogram select equals the sorted reference bit-identically (${name})`, () => {
    fc.assert(
      fc.property(arbitrary, fc.double({ min: 0, max: 1, noNaN: true }), (list, fraction) => {
        const values = Float32Array.from(list);
        const sorted = sortedMagnitudes(values);
        const n = values.length;
        const ks = [1, n, Math.max(1, Math.floor(n / 2)), Math.max(1, Math.ceil(fraction * n))];
        for (const k of ks) {
          const expected = sorted[k - 1]!;
          assert.ok(Object.is(kthLargestMagnitude(values, k), expected), `k=${k}`);
          const cut = magnitudeCut(values, k);
          assert.equal(cut.countAbove, sorted.filter((m) => m > expected).length);
          assert.equal(cut.countEqual, sorted.filter((m) => m === expected).length);
          assert.equal(cut.tiesToKeep, k - cut.countAbove);
        }
      }),
      { numRuns: 60 },
    );
  });
}

test('top-k mask keeps exactly the sort-reference set (lower index first at ties)', () => {
  fc.assert(
    fc.property(fc.oneof(arrays.random, arrays.heavyTied, arrays.signedZeros), fc.nat(), (list, kSeed) => {
      const values = Float32Array.from(list);
      const k = kSeed % (values.length + 1);
      const mask = topKMagnitudeMask(values, k);
      const expected = referenceTopKIndices(values, k);
      for (let j = 0; j < values.length; j++) assert.equal(mask[j], expected.has(j) ? 1 : 0, `index ${j}`);
    }),
    { numRuns: 150 },
  );
});

test('streamed select over several arrays equals select over their concatenation', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(arrays.random, arrays.heavyTied, arrays.hugeRange), { minLength: 1, maxLength: 5 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (lists, fraction) => {
        const parts = lists.map((list) => Float32Array.from(list));
        const whole = Float32Array.from(lists.flat());
        const k = Math.max(1, Math.round(fraction * whole.length));
        const streamed = magnitudeCutStreamed((visit) => parts.forEach(visit), k);
        const direct = magnitudeCut(whole, k);
        assert.ok(Object.is(streamed.threshold, direct.threshold));
        assert.equal(streamed.countAbove, direct.countAbove);
        assert.equal(streamed.countEqual, direct.countEqual);
        assert.ok(Object.is(streamed.threshold, sortedMagnitudes(whole)[k - 1]!));
      },
    ),
    { numRuns: 80 },
  );
});
