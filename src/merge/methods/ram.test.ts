import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCloseToReference, makeMergeInput } from '../test-support.js';
import { ram } from './ram.js';
import { ramplusTl } from './ramplus-tl.js';

const base = Float32Array.from([1, -1, 0.5, 2, 0, 3, -2, 0.25]);

/** Builds a fine-tune of `base` that changes exactly the listed entries. */
function tuned(changes: Record<number, number>): Float32Array {
  return base.map((v, j) => (j in changes ? v + changes[j]! : v));
}

describe('ram and ramplus_tl (§3.11)', () => {
  test('ram with disjoint supports equals task arithmetic with unit weights (B + Σ τ_i)', () => {
    const models = [tuned({ 0: 0.5, 3: -0.25 }), tuned({ 1: 0.75, 5: 1 }), tuned({ 7: -0.125 })];
    const taskArithmetic = Array.from(base, (b, j) => b + models.reduce((s, m) => s + (m[j]! - b), 0));
    assertCloseToReference(ram.mergeTensor(makeMergeInput(ram, { base, models })), taskArithmetic, 1e-7);
  });

  test('ram averages shared entries over the models that changed them, ignoring |τ| ≤ epsilon', () => {
    const models = [tuned({ 0: 0.5, 2: 0.25 }), tuned({ 0: 1, 2: 1e-6 }), tuned({ 0: -0.3 })];
    const out = ram.mergeTensor(makeMergeInput(ram, { base, models }));
    // entry 0: three active → mean (0.5 + 1 − 0.3)/3; entry 2: only the first is above 1e-5 → kept whole
    const expected = Array.from(base);
    expected[0] = 1 + (0.5 + 1 - 0.3) / 3;
    expected[2] = 0.5 + 0.25;
    assertCloseToReference(out, expected, 1e-6);
  });

  test('ramplus_tl boosts unique entries by 1 + r·clamp(shared/unique, 0, alpha)', () => {
    // model 0: unique {1, 2}, shared {0} → ρ = 1/2 → clamp to alpha 0.2 → λ = 1.02
    // model 1: unique {3, 4, 5, 6}, shared {0} → ρ = 1/4 = 0.25 → clamp 0.2 → λ = 1.02 (with alpha 0.3: 1.025)
    // model 2: no unique entries, shared {0}
    const models = [tuned({ 0: 0.5, 1: 0.2, 2: -0.4 }), tuned({ 0: 0.3, 3: 1, 4: 0.5, 5: -1, 6: 0.1 }), tuned({ 0: -0.2 })];
    for (const [alpha, lambda0, lambda1] of [
      [0.2, 1.02, 1.02],
      [0.3, 1.03, 1.025],
    ] as const) {
      const out = ramplusTl.mergeTensor(makeMergeInput(ramplusTl, { base, models, params: { alpha } }));
      const expected = Array.from(base);
      expected[0] = 1 + (0.5 + 0.3 - 0.2) / 3;
      expected[1] = -1 + lambda0 * 0.2;
      expected[2] = 0.5 + lambda0 * -0.4;
      expected[3] = 2 + lambda1 * 1;
      expected[4] = 0 + lambda1 * 0.5;
      expected[5] = 3 + lambda1 * -1;
      expected[6] = -2 + lambda1 * 0.1;
      assertCloseToReference(out, expected, 1e-6, `alpha ${alpha}`);
    }
  });

  test('ramplus_tl with r = 0 equals ram', () => {
    const models = [tuned({ 0: 0.5, 1: 0.2 }), tuned({ 0: 0.3, 3: 1 })];
    const plain = ram.mergeTensor(makeMergeInput(ram, { base, models }));
    assert.deepEqual(Array.from(ramplusTl.mergeTensor(makeMergeInput(ramplusTl, { base, models, params: { r: 0 } }))), Array.from(plain));
  });
});
