import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { convOutputSize, convRepresentation, denseRepresentation } from './representation.js';

test('dense representation is features × samples', () => {
  const rows = [1, 2, 3, 4, 5, 6]; // 2 samples of width 3
  const R = denseRepresentation(rows, 2, 3);
  assert.deepEqual([R.rows, R.columns], [3, 2]);
  assert.deepEqual(R.to2DArray(), [[1, 4], [2, 5], [3, 6]]);
  assert.throws(() => denseRepresentation(rows, 3, 3), /expected 3×3 = 9 values, got 6/);
});

test('conv representation has shape (k·k·C_in) × (batch·H_out·W_out) and equals an explicit patch unfolding', () => {
  const g = { batch: 2, height: 4, width: 5, channels: 3, kernel: 3, stride: 1, padding: 1 };
  const rng = createRng('conv-repr');
  const input = Float64Array.from({ length: 2 * 4 * 5 * 3 }, () => Math.round(rng.normal() * 100) / 100);
  const R = convRepresentation(input, g);
  const out = convOutputSize(g);
  assert.deepEqual(out, { height: 4, width: 5 });
  assert.deepEqual([R.rows, R.columns], [3 * 3 * 3, 2 * 4 * 5]);
  // explicit unfolding, written independently: walk every patch element and compare
  const pixel = (b: number, y: number, x: number, c: number): number =>
    y < 0 || y >= 4 || x < 0 || x >= 5 ? 0 : input[((b * 4 + y) * 5 + x) * 3 + c]!;
  let checked = 0;
  for (let b = 0; b < 2; b++)
    for (let oy = 0; oy < 4; oy++)
      for (let ox = 0; ox < 5; ox++)
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++)
            for (let c = 0; c < 3; c++) {
              assert.equal(R.get((ky * 3 + kx) * 3 + c, (b * 4 + oy) * 5 + ox), pixel(b, oy + ky - 1, ox + kx - 1, c));
              checked++;
            }
  assert.equal(checked, 27 * 40);
});

test('strided valid conv: shape, and Wᵀ·R reproduces a direct convolution', () => {
  const g = { batch: 3, height: 7, width: 6, channels: 2, kernel: 3, stride: 2, padding: 0 };
  const rng = createRng('conv-tf');
  const input = Float32Array.from({ length: 3 * 7 * 6 * 2 }, () => rng.normal());
  const outChannels = 4;
  const filter = Float32Array.from({ length: 3 * 3 * 2 * outChannels }, () => rng.normal());
  const R = convRepresentation(input, g);
  const out = convOutputSize(g);
  assert.deepEqual(out, { height: 3, width: 2 });
  assert.deepEqual([R.rows, R.columns], [18, 3 * 3 * 2]);
  // direct NHWC convolution, filter [ky, kx, c_in, c_out], stride 2, no padding: ((b·H + y)·W + x)·C_out + o
  const expected = new Float64Array(3 * 3 * 2 * outChannels);
  for (let b = 0; b < 3; b++)
    for (let oy = 0; oy < 3; oy++)
      for (let ox = 0; ox < 2; ox++)
        for (let o = 0; o < outChannels; o++) {
          let sum = 0;
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++)
              for (let c = 0; c < 2; c++) sum += input[((b * 7 + 2 * oy + ky) * 6 + 2 * ox + kx) * 2 + c]! * filter[((ky * 3 + kx) * 2 + c) * outChannels + o]!;
          expected[((b * 3 + oy) * 2 + ox) * outChannels + o] = sum;
        }
  for (let col = 0; col < R.columns; col++) {
    for (let o = 0; o < outChannels; o++) {
      let sum = 0;
      for (let row = 0; row < R.rows; row++) sum += filter[row * outChannels + o]! * R.get(row, col);
      assert.ok(Math.abs(sum - expected[col * outChannels + o]!) < 1e-4, `col ${col} channel ${o}: ${sum} vs ${expected[col * outChannels + o]}`);
    }
  }
});
