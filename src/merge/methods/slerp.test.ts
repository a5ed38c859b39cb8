import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCloseToReference, makeMergeInput, readFixtureTensor } from '../test-support.js';
import { slerp } from './slerp.js';

/** Independent float64 reference of §3.2 on plain number arrays. */
function referenceSlerp(v0: ArrayLike<number>, v1: ArrayLike<number>, t: number, threshold = 0.9995): { out: number[]; branch: 'lerp' | 'slerp' } {
  let n0 = 0;
  let n1 = 0;
  let d = 0;
  for (let j = 0; j < v0.length; j++) {
    n0 += v0[j]! ** 2;
    n1 += v1[j]! ** 2;
  }
  n0 = Math.sqrt(n0);
  n1 = Math.sqrt(n1);
  const u0 = Array.from(v0, (x) => (n0 > 1e-8 ? x / n0 : x));
  const u1 = Array.from(v1, (x) => (n1 > 1e-8 ? x / n1 : x));
  for (let j = 0; j < v0.length; j++) d += u0[j]! * u1[j]!;
  if (Math.abs(d) > threshold) return { out: Array.from(v0, (x, j) => (1 - t) * x + t * v1[j]!), branch: 'lerp' };
  const theta = Math.acos(d);
  const s0 = Math.sin((1 - t) * theta) / Math.sin(theta);
  const s1 = Math.sin(t * theta) / Math.sin(theta);
  return { out: Array.from(v0, (x, j) => s0 * x + s1 * v1[j]!), branch: 'slerp' };
}

function run(v0: Float32Array, v1: Float32Array, t: number, extra: Record<string, number> = {}, shape?: number[]) {
  return slerp.mergeTensor(makeMergeInput(slerp, { base: v0, models: [v1], params: { t, ...extra }, ...(shape ? { shape } : {}) }));
}

const v0 = Float32Array.from([0.3, -1.2, 2.5, 0.01, -0.7, 1.1]);
const v1 = Float32Array.from([-0.4, 0.9, 1.7, -2.2, 0.05, 0.6]);

describe('slerp (§3.2)', () => {
  test('t = 0 returns the base and t = 1 the other model, bit-exactly', () => {
    assert.deepEqual(Array.from(run(v0, v1, 0)), Array.from(v0));
    assert.deepEqual(Array.from(run(v0, v1, 1)), Array.from(v1));
  });

  test('identical inputs return themselves for every t', () => {
    for (const t of [0, 0.1, 0.25, 0.5, 0.77, 1]) assert.deepEqual(Array.from(run(v0, v0, t)), Array.from(v0), `t = ${t}`);
  });

  test('interior t follows the slerp formula on the raw tensors', () => {
    for (const t of [0.2, 0.5, 0.9]) {
      const reference = referenceSlerp(v0, v1, t);
      assert.equal(reference.branch, 'slerp');
      assertCloseToReference(run(v0, v1, t), reference.out, 1e-6, `t = ${t}`);
    }
  });

  test('near-colinear inputs (|cos| > dot_threshold) take the lerp branch; dot_threshold moves the switch', () => {
    // v1 = 2·v0 rotated by a small angle: cos ≈ 0.9999, where slerp and lerp differ by ~1e-5 relative
    const angle = 0.0141;
    const base = Float32Array.from([1, 0, 0, 0]);
    const other = Float32Array.from([2 * Math.cos(angle), 2 * Math.sin(angle), 0, 0]);
    const lerped = referenceSlerp(base, other, 0.5);
    assert.equal(lerped.branch, 'lerp');
    assertCloseToReference(run(base, other, 0.5), lerped.out, 1e-7, 'lerp branch');
    const slerped = referenceSlerp(base, other, 0.5, 1);
    assert.equal(slerped.branch, 'slerp');
    assertCloseToReference(run(base, other, 0.5, { dot_threshold: 1 }), slerped.out, 1e-6, 'slerp branch');
    const gap = Math.abs(lerped.out[0]! - slerped.out[0]!) / Math.abs(slerped.out[0]!);
    assert.ok(gap > 1e-6, `the two branches must be distinguishable here (gap ${gap})`);
    // anti-parallel inputs are colinear too
    const opposite = Float32Array.from(base, (x) => -3 * x);
    assertCloseToReference(run(base, opposite, 0.1), [0.6, 0, 0, 0], 1e-7, 'anti-parallel');
  });

  test('golden: tiny-llama base → expert-code at t = 0.3 (v_proj and a norm weight)', () => {
    const branches = { 'model.layers.2.self_attn.v_proj.weight': 'slerp', 'model.norm.weight': 'lerp' } as const;
    for (const [name, branch] of Object.entries(branches)) {
      const base = readFixtureTensor('base', name);
      const expert = readFixtureTensor('expert-code', name);
      const reference = referenceSlerp(base.data, expert.data, 0.3);
      const out = run(base.data, expert.data, 0.3, {}, base.shape);
      assert.equal(reference.branch, branch, name);
      assertCloseToReference(out, reference.out, 1e-6, `${name} (${reference.branch})`);
    }
  });
});
