import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { createRng } from '../core/rng.js';
import { energyRank, frobeniusSquared, largestSingularValue, leftSvd, multiply, sgpScale, updateBasis, updateSgpMemory } from './bases.js';

function randomMatrix(rows: number, columns: number, seed: string, scales?: number[]): Matrix {
  const rng = createRng(seed);
  const A = new Matrix(rows, columns);
  for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) A.set(i, j, rng.normal() * (scales?.[i] ?? 1));
  return A;
}

function maxOrthonormalityError(M: Matrix): number {
  const gram = M.transpose().mmul(M);
  let worst = 0;
  for (let i = 0; i < gram.rows; i++) for (let j = 0; j < gram.columns; j++) worst = Math.max(worst, Math.abs(gram.get(i, j) - (i === j ? 1 : 0)));
  return worst;
}

test('energy criterion: hand-worked ranks', () => {
  // energies 16, 9, 4, 1 (total 30): 16/30 = .533, 25/30 = .833, 29/30 = .967, 1
  assert.equal(energyRank([4, 3, 2, 1], 0.5), 1);
  assert.equal(energyRank([4, 3, 2, 1], 0.8), 2);
  assert.equal(energyRank([4, 3, 2, 1], 25 / 30), 2); // meeting it exactly counts
  assert.equal(energyRank([4, 3, 2, 1], 0.95), 3);
  assert.equal(energyRank([4, 3, 2, 1], 0.99), 4);
  // later task: already captured 20 of 30 → 20/30 = .667; adding 9 → 29/30
  assert.equal(energyRank([3, 1], 0.6, 20, 30), 0);
  assert.equal(energyRank([3, 1], 0.9, 20, 30), 1);
  assert.equal(energyRank([0, 0], 0.9), 0);
});

test('property: energyRank is the smallest r meeting the threshold', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 1, maxLength: 12 }), fc.double({ min: 0.01, max: 0.999, noNaN: true }), (raw, threshold) => {
      const sigma = [...raw].sort((a, b) => b - a);
      const total = sigma.reduce((a, s) => a + s * s, 0);
      const ratio = (r: number): number => sigma.slice(0, r).reduce((a, s) => a + s * s, 0) / total;
      const r = energyRank(sigma, threshold);
      assert.ok(ratio(r) >= threshold - 1e-12, `rank ${r} must meet ${threshold}`);
      if (r > 0) assert.ok(ratio(r - 1) < threshold, `rank ${r - 1} already met ${threshold}`);
    }),
  );
});

test('first-task bases: top-r left singular vectors, orthonormal, rank from the energy criterion', () => {
  // strongly anisotropic data: 3 dominant directions out of 10
  const R = randomMatrix(10, 40, 'first', [10, 8, 6, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
  const update = updateBasis(null, R, 0.99);
  const sigma = new SingularValueDecomposition(R).diagonal;
  assert.equal(update.added, energyRank(sigma, 0.99));
  assert.equal(update.added, 3);
  assert.ok(maxOrthonormalityError(update.basis!) < 1e-10);
  assert.ok(Math.abs(update.sigmaMax - sigma[0]!) < 1e-9);
});

test('later tasks add residual bases orthogonal to the stored ones, never beyond the input dimension', () => {
  let basis = updateBasis(null, randomMatrix(8, 30, 'task0', [5, 5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]), 0.95).basis!;
  assert.equal(basis.columns, 2);
  for (let t = 1; t < 8; t++) {
    const R = randomMatrix(8, 30, `task${t}`);
    const before: number = basis.columns;
    const update = updateBasis(basis, R, 0.97);
    basis = update.basis!;
    assert.equal(basis.columns, before + update.added);
    assert.ok(basis.columns <= 8);
    assert.ok(maxOrthonormalityError(basis) < 1e-9, `task ${t}: MᵀM ≠ I`);
    // the energy criterion holds for this task's representation after the update
    const captured = frobeniusSquared(basis.mmul(basis.transpose().mmul(R)));
    assert.ok(captured / frobeniusSquared(R) >= 0.97 - 1e-9);
  }
  assert.equal(basis.columns, 8); // full rank data fills the space and then stops
  const again = updateBasis(basis, randomMatrix(8, 30, 'extra'), 0.99);
  assert.equal(again.added, 0);
});

test('a representation already inside the memory adds nothing', () => {
  const R = randomMatrix(6, 20, 'span', [3, 2, 0, 0, 0, 0]);
  const first = updateBasis(null, R, 0.999);
  const second = updateBasis(first.basis, R, 0.999);
  assert.equal(second.added, 0);
  assert.equal(second.basis!.columns, first.basis!.columns);
});

test('SGP importance: the top basis gets 1, all in [0, 1], old importance adds the projected energy', () => {
  assert.equal(sgpScale(7, 7, 10), 1);
  assert.equal(sgpScale(0, 7, 10), 0);
  assert.ok(Math.abs(sgpScale(1, 4, 10) - 11 / 14) < 1e-15);
  const R0 = randomMatrix(12, 50, 'sgp0', [9, 6, 4, 2, 1, 0.5, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1]);
  const first = updateSgpMemory({ basis: null, importance: [] }, R0, 0.97, 10);
  assert.equal(first.importance[0], 1);
  assert.equal(first.importance.length, first.basis!.columns);
  for (const v of first.importance) assert.ok(v >= 0 && v <= 1);
  const R1 = randomMatrix(12, 50, 'sgp1');
  const second = updateSgpMemory(first, R1, 0.97, 10);
  assert.equal(second.importance.length, second.basis!.columns);
  for (const v of second.importance) assert.ok(v >= 0 && v <= 1);
  // old-on-new energy √(Σ_j (m_iᵀu_j)²σ_j²) from the SVD of MMᵀR, computed here the long way
  const M = first.basis!;
  const projected = M.mmul(M.transpose().mmul(R1));
  const { U, sigma } = leftSvd(projected);
  const sigmaMax = leftSvd(R1).sigma[0]!;
  for (let i = 0; i < M.columns; i++) {
    let energy = 0;
    for (let j = 0; j < U.columns; j++) {
      let dot = 0;
      for (let k = 0; k < M.rows; k++) dot += M.get(k, i) * U.get(k, j);
      energy += dot * dot * sigma[j]! ** 2;
    }
    const expected = Math.min(1, first.importance[i]! + sgpScale(Math.sqrt(energy), sigmaMax, 10));
    assert.ok(Math.abs(second.importance[i]! - expected) < 1e-9, `basis ${i}: ${second.importance[i]} vs ${expected}`);
    assert.ok(second.importance[i]! >= first.importance[i]!);
  }
});

test('Gram-eigen leftSvd matches ml-matrix SVD (σ, and U up to sign) on tall and wide matrices; multiply matches mmul', () => {
  for (const [rows, columns] of [[30, 12], [12, 30]] as const) {
    const R = randomMatrix(rows, columns, `svd-${rows}x${columns}`, Array.from({ length: rows }, (_, i) => 1 + i));
    const reference = new SingularValueDecomposition(R, { autoTranspose: true });
    const fast = leftSvd(R);
    const rank = Math.min(rows, columns);
    assert.equal(fast.sigma.length, rank);
    for (let k = 0; k < rank; k++) {
      assert.ok(Math.abs(fast.sigma[k]! - reference.diagonal[k]!) < 1e-9 * reference.diagonal[0]!, `σ_${k}`);
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += fast.U.get(i, k) * reference.leftSingularVectors.get(i, k);
      assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-8, `u_${k}: |⟨u, u_ref⟩| = ${Math.abs(dot)}`);
    }
    const B = randomMatrix(columns, 7, 'mult');
    const product = multiply(R, B);
    const transposed = multiply(R, randomMatrix(rows, 5, 'mult-t'), true);
    assert.ok(product.clone().sub(R.mmul(B)).abs().max() < 1e-12);
    assert.ok(transposed.clone().sub(R.transpose().mmul(randomMatrix(rows, 5, 'mult-t'))).abs().max() < 1e-12);
    assert.ok(Math.abs(largestSingularValue(R) - reference.diagonal[0]!) < 1e-8 * reference.diagonal[0]!);
  }
});
