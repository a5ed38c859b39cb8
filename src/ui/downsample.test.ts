import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { minMaxDownsample } from './downsample.js';

test('min/max per bucket keeps every bucket extreme, the global peaks, the order, and at most 2 points per bucket', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (values, buckets) => {
      const { x, y } = minMaxDownsample(values, buckets);
      assert.equal(x.length, y.length);
      if (values.length <= 2 * buckets) return assert.deepEqual(y, values);
      assert.ok(x.length <= 2 * buckets);
      for (let i = 1; i < x.length; i++) assert.ok(x[i]! > x[i - 1]!);
      x.forEach((position, i) => assert.equal(y[i], values[position]));
      assert.equal(Math.max(...y), Math.max(...values));
      assert.equal(Math.min(...y), Math.min(...values));
      // each bucket's own extremes (independent reference: slice the bucket and take min and max)
      for (let b = 0; b < buckets; b++) {
        const start = Math.floor((b * values.length) / buckets);
        const end = Math.floor(((b + 1) * values.length) / buckets);
        const inBucket = x.map((p, i) => [p, y[i]!] as const).filter(([p]) => p >= start && p < end).map(([, v]) => v);
        const slice = values.slice(start, end);
        assert.deepEqual([Math.min(...inBucket), Math.max(...inBucket)], [Math.min(...slice), Math.max(...slice)]);
      }
    }),
    { numRuns: 200 },
  );
});

test('a spike of one sample in 500,000 survives a reduction to 1,000 buckets; an all-NaN bucket becomes one NaN point', () => {
  const values = new Float64Array(500_000).map((_, i) => Math.sin(i / 1000));
  values[123_457] = 42;
  const { x, y } = minMaxDownsample(values, 1000);
  assert.ok(x.length <= 2000);
  assert.equal(y[x.indexOf(123_457)], 42);
  const gaps = new Float64Array(100).fill(1);
  gaps.fill(NaN, 0, 10);
  const reduced = minMaxDownsample(gaps, 10);
  assert.deepEqual([reduced.x[0], reduced.y[0]], [0, NaN]);
});
