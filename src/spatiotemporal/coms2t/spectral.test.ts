import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalisedLaplacian, spectralCoordinates, symmetricEigen } from './spectral.js';

test('Jacobi eigen-decomposition reproduces a hand-computed 2×2 case and satisfies A·v = λ·v', () => {
  // [[2, 1], [1, 2]]: eigenvalues 1 and 3
  const { values } = symmetricEigen([2, 1, 1, 2], 2);
  assert.deepEqual([...values].sort().map((v) => Number(v.toFixed(12))), [1, 3]);
  const m = [4, 1, 0.5, 1, 3, -1, 0.5, -1, 2];
  const { values: ev, vectors } = symmetricEigen(m, 3);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < 3; i++) {
      let av = 0;
      for (let j = 0; j < 3; j++) av += m[i * 3 + j]! * vectors[j * 3 + k]!;
      assert.ok(Math.abs(av - ev[k]! * vectors[i * 3 + k]!) < 1e-10);
    }
  }
});

function path(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i + 1 < n; i++) a[i * n + i + 1] = a[(i + 1) * n + i] = 1;
  return a;
}

test('spectral coordinates of a path are eigenvectors of the normalised Laplacian, orthogonal to D^½·1, sign fixed', () => {
  const n = 6;
  const adjacency = path(n);
  const coords = spectralCoordinates(adjacency, n);
  const laplacian = normalisedLaplacian(adjacency, n);
  const degrees = [1, 2, 2, 2, 2, 1];
  for (let d = 0; d < 2; d++) {
    const v = Array.from({ length: n }, (_, i) => coords[i * 2 + d]!);
    assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - n) < 1e-9, 'scaled to norm √N');
    assert.ok(Math.abs(v.reduce((s, x, i) => s + x * Math.sqrt(degrees[i]!), 0)) < 1e-9, 'orthogonal to the trivial eigenvector');
    const lv = v.map((_, i) => v.reduce((s, x, j) => s + laplacian[i * n + j]! * x, 0));
    const lambda = lv.reduce((s, x, i) => s + x * v[i]!, 0) / n;
    lv.forEach((x, i) => assert.ok(Math.abs(x - lambda * v[i]!) < 1e-9));
    let largest = 0;
    v.forEach((x, i) => { if (Math.abs(x) > Math.abs(v[largest]!) + 1e-12) largest = i; });
    assert.ok(v[largest]! > 0, 'largest-magnitude entry positive');
  }
  // D^{-1/2}·(Fiedler vector) — the random-walk Laplacian's eigenvector — is monotone along a path
  const fiedler = Array.from({ length: n }, (_, i) => coords[i * 2]! / Math.sqrt(degrees[i]!));
  const diffs = fiedler.slice(1).map((x, i) => x - fiedler[i]!);
  assert.ok(diffs.every((x) => x > 0) || diffs.every((x) => x < 0));
  // deterministic, and an asymmetric adjacency is symmetrised
  assert.deepEqual(spectralCoordinates(adjacency, n), coords);
  const upper = new Float64Array(n * n);
  for (let i = 0; i + 1 < n; i++) upper[i * n + i + 1] = 2;
  assert.deepEqual([...spectralCoordinates(upper, n)].map((x) => x.toFixed(9)), [...coords].map((x) => x.toFixed(9)));
});
