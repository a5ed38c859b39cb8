import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { float32SumErrorBound, weightedSum, weightedSumFloat32 } from './vector.js';

// weightedSumFloat32 (merge-methods.md §0 float32 element-wise arithmetic) on hand-computed cases, and its
// documented distance from the float64 weightedSum on arbitrary finite inputs.

test('weightedSumFloat32: hand-computed float32 sums differ from the float64 sum where float32 rounding shows', () => {
  const u = 2 ** -24;
  // 1 + u rounds back to 1 (tie to even) twice in float32; in float64 the sum is 1 + 2u, a float32 value
  const inputs = [[1], [u], [u]].map((x) => Float32Array.from(x));
  assert.deepEqual([...weightedSumFloat32(inputs, [1, 1, 1], 1)], [1]);
  assert.deepEqual([...weightedSum(inputs, [1, 1, 1], 1)], [1 + 2 * u]);
  // the weight is rounded to float32 first: 0.1 → 0.100000001490116…
  assert.deepEqual([...weightedSumFloat32([Float32Array.from([1])], [0.1], 1)], [Math.fround(0.1)]);
  // products are rounded: (1 + 2⁻²³)·(1 + 2⁻²³) = 1 + 2⁻²² + 2⁻⁴⁶ → 1 + 2⁻²²
  const x = 1 + 2 ** -23;
  assert.deepEqual([...weightedSumFloat32([Float32Array.from([x])], [x], 1)], [1 + 2 ** -22]);
});

test('weightedSumFloat32: one-hot weights return that input bit for bit, −0 included; zero weights are skipped', () => {
  const a = Float32Array.from([-0, 1.5, -3e-39, 3.4e38]);
  const b = Float32Array.from([Number.NaN, 7, 8, 9]);
  const out = weightedSumFloat32([a, b], [1, 0], 4);
  assert.ok(out.every((v, i) => Object.is(v, a[i])));
  // a weight that rounds to float32 zero is skipped too (the kernel path never sees one: fast-path.ts)
  assert.ok(weightedSumFloat32([a, b], [1, 1e-50], 4).every((v, i) => Object.is(v, a[i])));
});

test('weightedSumFloat32 stays within float32SumErrorBound of weightedSum on arbitrary finite inputs', () => {
  // |x| ≤ 1e30 and |w| ≤ 8 over ≤ 6 inputs: no sum can overflow float32, the bound's only exclusion
  const finite = fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) });
  const normalWeight = fc.oneof(fc.double({ min: 2 ** -20, max: 8, noNaN: true }), fc.double({ min: -8, max: -(2 ** -20), noNaN: true }));
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }).chain((count) =>
        fc.tuple(
          fc.array(fc.array(finite, { minLength: 8, maxLength: 8 }), { minLength: count, maxLength: count }),
          fc.array(normalWeight, { minLength: count, maxLength: count }),
        ),
      ),
      ([rows, weights]) => {
        const inputs = rows.map((row) => Float32Array.from(row));
        const f32 = weightedSumFloat32(inputs, weights, 8);
        const f64 = weightedSum(inputs, weights, 8);
        for (let i = 0; i < 8; i++) {
          let absTerms = 0;
          weights.forEach((w, j) => (absTerms += Math.abs(w * inputs[j]![i]!)));
          assert.ok(Math.abs(f32[i]! - f64[i]!) <= float32SumErrorBound(absTerms, weights.length), `element ${i}: ${f32[i]} vs ${f64[i]}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
