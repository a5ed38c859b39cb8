import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { exactSvd, orthonormalizeRows, randomizedSvd, type SvdResult } from './svd.js';

function gaussian(count: number, key: string): Float64Array {
  const rng = createRng(1, key);
  return Float64Array.from({ length: count }, () => rng.normal());
}

/** max |A − U diag(s) Vᵀ| and max |UᵀU − I|, |VᵀV − I| over the kept components. */
function defects(a: Float64Array, rows: number, cols: number, svd: SvdResult): { reconstruction: number; orthogonality: number } {
  const p = svd.s.length;
  let reconstruction = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let i = 0; i < p; i++) sum += svd.u[r * p + i]! * svd.s[i]! * svd.v[c * p + i]!;
      reconstruction = Math.max(reconstruction, Math.abs(sum - a[r * cols + c]!));
    }
  }
  let orthogonality = 0;
  for (const [basis, length] of [[svd.u, rows], [svd.v, cols]] as const) {
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        let dot = 0;
        for (let t = 0; t < length; t++) dot += basis[t * p + i]! * basis[t * p + j]!;
        orthogonality = Math.max(orthogonality, Math.abs(dot - (i === j ? 1 : 0)));
      }
    }
  }
  return { reconstruction, orthogonality };
}

test('exactSvd: tall and wide matrices factor back to A with orthonormal U, V and descending σ', () => {
  for (const [rows, cols] of [[30, 12], [12, 30], [17, 17]] as const) {
    const a = gaussian(rows * cols, `${rows}x${cols}`);
    const svd = exactSvd(a, rows, cols);
    assert.equal(svd.s.length, Math.min(rows, cols));
    for (let i = 1; i < svd.s.length; i++) assert.ok(svd.s[i - 1]! >= svd.s[i]!);
    const { reconstruction, orthogonality } = defects(a, rows, cols, svd);
    assert.ok(reconstruction < 1e-12, `${rows}x${cols} reconstruction ${reconstruction}`);
    assert.ok(orthogonality < 1e-12, `${rows}x${cols} orthogonality ${orthogonality}`);
    // ‖A‖_F² = Σσ²
    const frobenius = a.reduce((s, v) => s + v * v, 0);
    const sigmaSquares = svd.s.reduce((s, v) => s + v * v, 0);
    assert.ok(Math.abs(frobenius - sigmaSquares) < 1e-10 * frobenius);
  }
});

test('randomizedSvd recovers an exactly rank-5 matrix and matches exact σ; orthonormalizeRows zeroes dependent rows', () => {
  const rows = 80;
  const cols = 50;
  const left = gaussian(rows * 5, 'left');
  const right = gaussian(5 * cols, 'right');
  const a = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let i = 0; i < 5; i++) a[r * cols + c] = a[r * cols + c]! + left[r * 5 + i]! * right[i * cols + c]!;
  const exact = exactSvd(a, rows, cols);
  const randomized = randomizedSvd(a, rows, cols, 5, { rng: createRng(9) });
  assert.equal(randomized.s.length, 15); // k + p = 5 + 10
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(randomized.s[i]! - exact.s[i]!) < 1e-10 * exact.s[0]!, `σ_${i}`);
  const top = { s: randomized.s.subarray(0, 5), u: pick(randomized.u, rows, 15, 5), v: pick(randomized.v, cols, 15, 5) };
  assert.ok(defects(a, rows, cols, top).reconstruction < 1e-10 * exact.s[0]!);

  const vectors = Float64Array.from([1, 0, 0, 2, 0, 0, 0, 3, 0]);
  orthonormalizeRows(vectors, 3, 3);
  assert.deepEqual([...vectors], [1, 0, 0, 0, 0, 0, 0, 1, 0]);
});

function pick(matrix: Float64Array, rows: number, width: number, keep: number): Float64Array {
  const out = new Float64Array(rows * keep);
  for (let r = 0; r < rows; r++) for (let i = 0; i < keep; i++) out[r * keep + i] = matrix[r * width + i]!;
  return out;
}
