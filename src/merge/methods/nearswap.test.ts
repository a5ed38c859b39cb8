import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCloseToReference, makeMergeInput } from '../test-support.js';
import { nearswap } from './nearswap.js';

const base = Float32Array.from([1, 2, 3, 4, 5, -1]);
const other = Float32Array.from([1, 2.001, 3.5, 0, 5.0000005, -1.2]);

function run(t: number) {
  return nearswap.mergeTensor(makeMergeInput(nearswap, { base, models: [other], params: { t } }));
}

describe('nearswap (§3.9)', () => {
  test('t = 0 returns the base', () => {
    assert.deepEqual(Array.from(run(0)), Array.from(base));
  });

  test('per-element weight clamp(t/|B − X|, 0, 1) against a float64 reference', () => {
    for (const t of [0.001, 0.1, 0.5, 10]) {
      const expected = Array.from(base, (b, j) => {
        const x = other[j]!;
        const w = Math.min(1, Math.max(0, t / Math.max(Math.abs(b - x), 1e-6)));
        return w * x + (1 - w) * b;
      });
      assertCloseToReference(run(t), expected, 1e-7, `t = ${t}`);
    }
    // a large t takes the other model everywhere
    assert.deepEqual(Array.from(run(10)), Array.from(other));
  });
});
