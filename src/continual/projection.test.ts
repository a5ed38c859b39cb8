import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { createRng } from '../core/rng.js';
import { ProjectionWorkspace, projectGradientReference, sharpnessPerturbation, squashImportance } from './projection.js';

/** project g (rows) through a one-layer workspace holding M; returns the projected rows */
function projected(g: number[][], M: number[][], importance: number[] | null, kernels: 'wasm' | 'reference' = 'wasm'): number[][] {
  const [out, inDim] = [g.length, g[0]!.length];
  const ws = new ProjectionWorkspace([{ out, in: inDim }], kernels);
  ws.setBasis(0, new Matrix(M));
  const flat = Float32Array.from(g.flat());
  ws.project(0, flat, importance);
  return Array.from({ length: out }, (_, o) => [...flat.subarray(o * inDim, (o + 1) * inDim)]);
}

function orthonormal(rows: number, columns: number, seed: string): number[][] {
  const rng = createRng(seed);
  const A = Matrix.from1DArray(rows, columns, Array.from({ length: rows * columns }, () => rng.normal()));
  return new QrDecomposition(A).orthogonalMatrix.subMatrix(0, rows - 1, 0, columns - 1).to2DArray();
}

function randomRows(rows: number, columns: number, seed: string): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: columns }, () => rng.normal()));
}

test('Λ = I: the projected gradient is orthogonal to every protected basis (|g·M| ≤ 4e-6 in float32, 1e-12 in float64)', () => {
  for (const [out, inDim, rank] of [[10, 100, 30], [100, 784, 120], [5, 20, 20]] as const) {
    const g = randomRows(out, inDim, `g${out}`);
    const M = orthonormal(inDim, rank, `m${inDim}`);
    const p = projected(g, M, null);
    let worst = 0;
    let norm = 0;
    for (const row of g) for (const v of row) norm = Math.max(norm, Math.abs(v));
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < rank; k++) {
        let dot = 0; // float64 check of the float32 result
        for (let i = 0; i < inDim; i++) dot += p[o]![i]! * M[i]![k]!;
        worst = Math.max(worst, Math.abs(dot));
      }
    }
    // gradients here are N(0, 1) entries (max |g| ≈ 2–4); measured worst 1.8e-6 at 100×784, rank 120 with the
    // SIMD GEMM (tfjs: 7.1e-7) — float32 rounding of M and of 784-term sums, a few ulps of |g|
    assert.ok(norm < 5);
    assert.ok(worst <= 4e-6, `${out}×${inDim}, rank ${rank}: max |g·M| = ${worst}`);
    // float64 reference: orthogonal to 1e-12
    const reference = projectGradientReference(g, M);
    for (let o = 0; o < out; o++)
      for (let k = 0; k < rank; k++) {
        let dot = 0;
        for (let i = 0; i < inDim; i++) dot += reference[o]![i]! * M[i]![k]!;
        assert.ok(Math.abs(dot) < 1e-12);
      }
  }
});

test('engine projection (SIMD and reference kernels) matches the float64 reference with importances; Λ = 0 is the identity', () => {
  const g = randomRows(7, 40, 'g-imp');
  const M = orthonormal(40, 9, 'm-imp');
  const rng = createRng('importance');
  const importance = Array.from({ length: 9 }, () => rng.next());
  const reference = projectGradientReference(g, M, importance);
  for (const kernels of ['wasm', 'reference'] as const) {
    const p = projected(g, M, importance, kernels);
    for (let o = 0; o < 7; o++) for (let i = 0; i < 40; i++) assert.ok(Math.abs(p[o]![i]! - reference[o]![i]!) < 1e-5, kernels);
  }
  const identity = projected(g, M, new Array<number>(9).fill(0));
  for (let o = 0; o < 7; o++) for (let i = 0; i < 40; i++) assert.equal(identity[o]![i], Math.fround(g[o]![i]!));
  // without a basis the gradient is left alone; clearing a basis restores that
  const ws = new ProjectionWorkspace([{ out: 7, in: 40 }]);
  const flat = Float32Array.from(g.flat());
  ws.project(0, flat, null);
  assert.deepEqual([...flat], g.flat().map((v) => Math.fround(v)));
  ws.setBasis(0, new Matrix(M));
  ws.setBasis(0, null);
  assert.equal(ws.rank(0), 0);
  ws.project(0, flat, null);
  assert.deepEqual([...flat], g.flat().map((v) => Math.fround(v)));
  assert.throws(() => ws.setBasis(0, Matrix.eye(39, 2)), /expected 40 × r/);
});

test('sharpness perturbation lies in the important subspace and is clipped', () => {
  const g = randomRows(6, 30, 'g-v').map((row) => row.map((v) => v * 50));
  const M = orthonormal(30, 4, 'm-v');
  const ws = new ProjectionWorkspace([{ out: 6, in: 30 }]);
  ws.setBasis(0, new Matrix(M));
  const flat = new Float32Array(180);
  sharpnessPerturbation(ws, 0, g.flat(), [1, 1, 1, 1], 0.05, 2, flat);
  const v = Array.from({ length: 6 }, (_, o) => [...flat.subarray(o * 30, (o + 1) * 30)]);
  const unclipped = projectGradientReference(g, M).map((row, o) => row.map((value, i) => 0.05 * (g[o]![i]! - value)));
  for (let o = 0; o < 6; o++)
    for (let i = 0; i < 30; i++) {
      const expected = Math.max(-2, Math.min(2, unclipped[o]![i]!));
      assert.ok(Math.abs(v[o]![i]! - expected) < 1e-4);
      assert.ok(Math.abs(v[o]![i]!) <= 2);
    }
  ws.setBasis(0, null);
  const none = new Float32Array(180).fill(7);
  sharpnessPerturbation(ws, 0, g.flat(), null, 0.05, 2, none);
  assert.ok(none.every((x) => x === 0));
});

test('property: FS-DGPM importance sigmoid(10·λ) stays strictly inside (0, 1) in float32', () => {
  assert.ok(Math.abs(squashImportance([1])[0]! - Math.fround(1 / (1 + Math.exp(-10)))) < 1e-12);
  assert.equal(squashImportance([0])[0], 0.5);
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }), (lambda) => {
      let current: Float32Array = Float32Array.from(lambda);
      for (let step = 0; step < 3; step++) {
        current = squashImportance(current);
        for (const v of current) assert.ok(v > 0 && v < 1, `λ = ${v}`);
      }
    }),
  );
});

test('projectWithCoordinates from coordinatesView of the same g equals project bit for bit; component writes its coordinates where asked', () => {
  const [out, inDim, rank] = [9, 40, 7];
  const g = Float32Array.from(randomRows(out, inDim, 'g-held').flat());
  const M = new Matrix(orthonormal(inDim, rank, 'm-held'));
  const rng = createRng('importance-held');
  const importance = Float32Array.from({ length: rank }, () => rng.next());
  const ws = new ProjectionWorkspace([{ out, in: inDim }]);
  ws.setBasis(0, M);
  const direct = Float32Array.from(g);
  ws.project(0, direct, importance);
  const held = Float32Array.from(ws.coordinatesView(0, g));
  // the coordinates are g·M: against a float64 product
  for (let o = 0; o < out; o++)
    for (let k = 0; k < rank; k++) {
      let dot = 0;
      for (let i = 0; i < inDim; i++) dot += g[o * inDim + i]! * M.get(i, k);
      assert.ok(Math.abs(held[o * rank + k]! - dot) < 1e-5);
    }
  ws.coordinates(0, Float32Array.from(g, (v) => 3 * v)); // other work in between leaves the held copy valid
  const reused = Float32Array.from(g);
  ws.projectWithCoordinates(0, reused, held, importance);
  assert.deepEqual(reused, direct);
  assert.notDeepEqual(reused, g);
  assert.throws(() => ws.projectWithCoordinates(0, Float32Array.from(g), held.subarray(1), importance), /coordinates/);
  // component: the coordinates land in the front of the buffer given, the same values as the fresh copy
  const into = new Float32Array(out * inDim).fill(-1);
  const [a, b] = [new Float32Array(out * inDim), new Float32Array(out * inDim)];
  const fresh = ws.component(0, g, importance, a);
  const kept = ws.component(0, g, importance, b, into);
  assert.deepEqual(kept, fresh);
  assert.deepEqual(fresh, held);
  assert.deepEqual(a, b);
  assert.equal(into[out * rank], -1);
});
