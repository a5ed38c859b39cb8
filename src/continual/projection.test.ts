import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { createRng } from '../core/rng.js';
import { tf, useBackend } from '../train/tf.js';
import { projectGradient, projectGradientReference, sharpnessPerturbation, squashImportance } from './projection.js';

function orthonormal(rows: number, columns: number, seed: string): number[][] {
  const rng = createRng(seed);
  const A = Matrix.from1DArray(rows, columns, Array.from({ length: rows * columns }, () => rng.normal()));
  return new QrDecomposition(A).orthogonalMatrix.subMatrix(0, rows - 1, 0, columns - 1).to2DArray();
}

function randomRows(rows: number, columns: number, seed: string): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: columns }, () => rng.normal()));
}

test('Λ = I: the projected gradient is orthogonal to every protected basis (|g·M| ≤ 1e-6 in float32, 1e-12 in float64)', async () => {
  await useBackend('cpu');
  for (const [out, inDim, rank] of [[10, 100, 30], [100, 784, 120], [5, 20, 20]] as const) {
    const g = randomRows(out, inDim, `g${out}`);
    const M = orthonormal(inDim, rank, `m${inDim}`);
    const projected = projectGradient(tf.tensor2d(g), { basis: tf.tensor2d(M), importance: null });
    const p = projected.arraySync();
    projected.dispose();
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
    // gradients here are N(0, 1) entries (max |g| ≈ 2–4); measured worst 7.1e-7 at 100×784, rank 120
    assert.ok(norm < 5);
    assert.ok(worst <= 1e-6, `${out}×${inDim}, rank ${rank}: max |g·M| = ${worst}`);
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

test('tfjs projection matches the float64 reference with importances; Λ = 0 is the identity', async () => {
  await useBackend('cpu');
  const g = randomRows(7, 40, 'g-imp');
  const M = orthonormal(40, 9, 'm-imp');
  const rng = createRng('importance');
  const importance = Array.from({ length: 9 }, () => rng.next());
  const projected = projectGradient(tf.tensor2d(g), { basis: tf.tensor2d(M), importance: tf.tensor1d(importance) }).arraySync();
  const reference = projectGradientReference(g, M, importance);
  for (let o = 0; o < 7; o++) for (let i = 0; i < 40; i++) assert.ok(Math.abs(projected[o]![i]! - reference[o]![i]!) < 1e-5);
  const identity = projectGradient(tf.tensor2d(g), { basis: tf.tensor2d(M), importance: tf.zeros([9]) as tf.Tensor1D }).arraySync();
  for (let o = 0; o < 7; o++) for (let i = 0; i < 40; i++) assert.equal(identity[o]![i], Math.fround(g[o]![i]!));
  // without bases the gradient comes back unchanged (and as a new tensor)
  const input = tf.tensor2d(g);
  const copy = projectGradient(input, null);
  assert.notEqual(copy, input);
  assert.deepEqual(copy.arraySync(), input.arraySync());
});

test('sharpness perturbation lies in the important subspace and is clipped', async () => {
  await useBackend('cpu');
  const g = randomRows(6, 30, 'g-v').map((row) => row.map((v) => v * 50));
  const M = orthonormal(30, 4, 'm-v');
  const v = sharpnessPerturbation(tf.tensor2d(g), { basis: tf.tensor2d(M), importance: tf.ones([4]) as tf.Tensor1D }, 0.05, 2).arraySync();
  const unclipped = projectGradientReference(g, M).map((row, o) => row.map((value, i) => 0.05 * (g[o]![i]! - value)));
  for (let o = 0; o < 6; o++)
    for (let i = 0; i < 30; i++) {
      const expected = Math.max(-2, Math.min(2, unclipped[o]![i]!));
      assert.ok(Math.abs(v[o]![i]! - expected) < 1e-4);
      assert.ok(Math.abs(v[o]![i]!) <= 2);
    }
  const none = sharpnessPerturbation(tf.tensor2d(g), null, 0.05, 2).arraySync();
  assert.ok(none.every((row) => row.every((x) => x === 0)));
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
