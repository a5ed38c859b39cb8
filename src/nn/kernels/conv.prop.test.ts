/**
 * The convolution data-movement kernels (im2col1d, its adjoint col2im1d, swapAxes01) of the WASM build against
 * their definitions on random geometries: stride, padding and dilation variants, odd lengths and channel counts,
 * batch 1, operands at offsets that are not multiples of the SIMD width. im2col and the axis swap only copy, so
 * they must match exactly; col2im sums at most `kernel` overlapping taps, so it must match the float64 sum
 * within the float32 bound of a short sum. The reference kernels satisfy the adjoint identity
 * ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ in float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createWasmKernels } from './wasm/index.js';
import { createReferenceKernels } from './reference/index.js';
import type { Conv1dGeometry } from './kernel-types.js';
import { createRng } from '../../core/rng.js';

const EPS32 = 2 ** -23;
const wasm = createWasmKernels(1 << 16);

const geometry: fc.Arbitrary<Conv1dGeometry> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    channels: fc.integer({ min: 1, max: 5 }),
    length: fc.integer({ min: 1, max: 17 }),
    kernel: fc.integer({ min: 1, max: 5 }),
    stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.integer({ min: 0, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
  })
  .map((g) => ({ ...g, outLength: Math.floor((g.length + 2 * g.padding - g.dilation * (g.kernel - 1) - 1) / g.stride) + 1 }))
  .filter((g) => g.outLength >= 1);

/** x[b, c, t·stride − padding + k·dilation] for column row (c, k) and column (b, t), or undefined in the padding */
function tapSource(g: Conv1dGeometry, c: number, k: number, b: number, t: number): number | undefined {
  const at = t * g.stride - g.padding + k * g.dilation;
  return at >= 0 && at < g.length ? (b * g.channels + c) * g.length + at : undefined;
}

function forEachTap(g: Conv1dGeometry, visit: (column: number, source: number | undefined) => void): void {
  const width = g.batch * g.outLength;
  for (let c = 0; c < g.channels; c++)
    for (let k = 0; k < g.kernel; k++)
      for (let b = 0; b < g.batch; b++)
        for (let t = 0; t < g.outLength; t++) visit((c * g.kernel + k) * width + b * g.outLength + t, tapSource(g, c, k, b, t));
}

/** random data in a region of the WASM arena: [x | gap | cols | gap], starting at an odd offset */
function fill(g: Conv1dGeometry, seed: number): { x: number; cols: number; xSize: number; colsSize: number; region: Float32Array } {
  const xSize = g.batch * g.channels * g.length;
  const colsSize = g.channels * g.kernel * g.batch * g.outLength;
  const x = wasm.base + 3;
  const cols = x + xSize + 5;
  const region = wasm.data.subarray(wasm.base, cols + colsSize + 2);
  const rng = createRng('conv-prop', seed);
  for (let i = 0; i < region.length; i++) region[i] = 2 * rng.next() - 1;
  return { x, cols, xSize, colsSize, region };
}

test('im2col1d (WASM) copies x[b, c, t·s − p + k·d] into column (c·K + k, b·Lout + t), zeros in the padding, nothing else', () => {
  fc.assert(
    fc.property(geometry, fc.nat(), (g, seed) => {
      const { x, cols, colsSize, region } = fill(g, seed);
      const before = Float32Array.from(region);
      wasm.im2col1d(x, cols, g);
      const data = wasm.data;
      forEachTap(g, (column, source) => {
        const expected = source === undefined ? 0 : data[x + source]!;
        assert.equal(data[cols + column], expected, `column entry ${column} of ${JSON.stringify(g)}`);
      });
      // x and the gaps around the columns are untouched
      const colsStart = cols - wasm.base;
      for (let i = 0; i < region.length; i++) if (i < colsStart || i >= colsStart + colsSize) assert.equal(region[i], before[i], `element ${i} outside the columns changed`);
    }),
    { numRuns: 150 },
  );
});

test('col2im1d (WASM) scatter-adds every column entry back into x (overwriting x) within the float32 bound of a K-term sum', () => {
  fc.assert(
    fc.property(geometry, fc.nat(), (g, seed) => {
      const { x, cols, xSize, region } = fill(g, seed);
      const before = Float32Array.from(region);
      const data = wasm.data;
      const exact = new Float64Array(xSize);
      const magnitude = new Float64Array(xSize);
      forEachTap(g, (column, source) => {
        if (source === undefined) return;
        exact[source]! += data[cols + column]!;
        magnitude[source]! += Math.abs(data[cols + column]!);
      });
      wasm.col2im1d(cols, x, g);
      for (let i = 0; i < xSize; i++) {
        const bound = g.kernel * EPS32 * magnitude[i]!;
        assert.ok(Math.abs(data[x + i]! - exact[i]!) <= bound, `x[${i}] = ${data[x + i]} vs ${exact[i]} (bound ${bound}) for ${JSON.stringify(g)}`);
      }
      const xStart = x - wasm.base;
      for (let i = 0; i < region.length; i++) if (i < xStart || i >= xStart + xSize) assert.equal(region[i], before[i], `element ${i} outside x changed`);
    }),
    { numRuns: 150 },
  );
});

test('reference im2col1d and col2im1d are adjoint: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ in float64', () => {
  fc.assert(
    fc.property(geometry, fc.nat(), (g, seed) => {
      const xSize = g.batch * g.channels * g.length;
      const colsSize = g.channels * g.kernel * g.batch * g.outLength;
      const k = createReferenceKernels(2 * xSize + 2 * colsSize, 'float64');
      const [x, cols, c, back] = [0, xSize, xSize + colsSize, xSize + 2 * colsSize];
      const rng = createRng('conv-adjoint', seed);
      for (let i = 0; i < xSize + 2 * colsSize; i++) k.data[i] = 2 * rng.next() - 1;
      k.im2col1d(x, cols, g);
      k.col2im1d(c, back, g);
      let left = 0;
      let right = 0;
      for (let i = 0; i < colsSize; i++) left += k.data[cols + i]! * k.data[c + i]!;
      for (let i = 0; i < xSize; i++) right += k.data[x + i]! * k.data[back + i]!;
      assert.ok(Math.abs(left - right) <= 1e-12 * Math.max(1, colsSize), `${left} vs ${right} for ${JSON.stringify(g)}`);
    }),
    { numRuns: 100 },
  );
});

test('swapAxes01 (WASM) moves src[p, q, r] to dst[q, p, r] exactly', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 13 }), fc.nat(), (p, q, r, seed) => {
      const size = p * q * r;
      const src = wasm.base + 1;
      const dst = src + size + 3;
      const rng = createRng('swap-prop', seed);
      const data = wasm.data;
      for (let i = src; i < dst + size; i++) data[i] = 2 * rng.next() - 1;
      wasm.swapAxes01(src, dst, p, q, r);
      for (let i = 0; i < p; i++)
        for (let j = 0; j < q; j++)
          for (let l = 0; l < r; l++) assert.equal(data[dst + (j * p + i) * r + l], data[src + (i * q + j) * r + l], `[${i}, ${j}, ${l}] of ${p}×${q}×${r}`);
    }),
    { numRuns: 100 },
  );
});
