import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCloseToReference, makeMergeInput, readFixtureTensor } from '../test-support.js';
import { magmax } from './magmax.js';

/** Float64 reference of §3.13. */
function referenceMagmax(models: ArrayLike<number>[], base: ArrayLike<number>, lambda: number): number[] {
  return Array.from(base, (b, j) => {
    let best = 0;
    for (const m of models) if (Math.abs(m[j]! - b) > Math.abs(best)) best = m[j]! - b;
    return b + lambda * best;
  });
}

function run(models: Float32Array[], base: Float32Array, params: Record<string, number> = {}, shape?: number[]) {
  return magmax.mergeTensor(makeMergeInput(magmax, { base, models, params, ...(shape ? { shape } : {}) }));
}

const base = Float32Array.from([0, 1, -2, 3.5, 0.25]);
const x1 = Float32Array.from([0.5, 1.1, -2.4, 3.5, 1.25]);
const x2 = Float32Array.from([-0.7, 0.95, -1.8, 3.25, -0.75]);

describe('magmax (§3.13)', () => {
  test('one model with λ = 1 returns that model', () => {
    assert.deepEqual(Array.from(run([x1], base, { lambda: 1 })), Array.from(x1));
  });

  test('per element the largest-magnitude task-vector entry wins, sign kept; default λ = 0.5', () => {
    // entries 0: −0.7 (x2); 1: +0.1 (x1); 2: −0.4 (x1); 3: −0.25 (x2); 4: +1 vs −1 tie → first model (+1)
    const expected = [0 + 0.5 * -0.7, 1 + 0.5 * 0.1, -2 + 0.5 * -0.4, 3.5 + 0.5 * -0.25, 0.25 + 0.5 * 1];
    assertCloseToReference(run([x1, x2], base), expected, 1e-6);
    // the tie goes to whichever model comes first
    assert.equal(run([x2, x1], base)[4], Math.fround(0.25 + 0.5 * -1));
  });

  test('golden: tiny-llama three experts over base, down_proj, λ = 0.5 and 1', () => {
    const name = 'model.layers.2.mlp.down_proj.weight';
    const [b, ...experts] = ['base', 'expert-literature', 'expert-code', 'expert-math'].map((m) => readFixtureTensor(m, name));
    for (const lambda of [0.5, 1]) {
      const out = run(experts.map((e) => e.data), b!.data, { lambda }, b!.shape);
      assertCloseToReference(out, referenceMagmax(experts.map((e) => e.data), b!.data, lambda), 1e-6, `λ = ${lambda}`);
    }
  });
});
