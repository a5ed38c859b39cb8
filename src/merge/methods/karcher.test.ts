import { describe, test } from 'node:test';
import { assertCloseToReference, makeMergeInput, readFixtureTensor } from '../test-support.js';
import { karcher } from './karcher.js';

/** Float64 reference of §3.5, materialising each vector. */
function referenceKarcher(models: ArrayLike<number>[], maxIter = 10, tol = 1e-5): number[] {
  const n = models.length;
  const xs = models.map((m) => Array.from(m));
  const dotp = (p: number[], q: number[]) => p.reduce((s, v, j) => s + v * q[j]!, 0);
  const norms = xs.map((x) => Math.sqrt(dotp(x, x)));
  const units = xs.map((x, i) => x.map((v) => v / norms[i]!)).filter((_, i) => norms[i]! > tol);
  let u = units[0]!.map((_, j) => units.reduce((s, unit) => s + unit[j]!, 0));
  const unorm = Math.sqrt(dotp(u, u));
  u = unorm > tol ? u.map((v) => v / unorm) : units[0]!.slice();
  for (let it = 0; it < maxIter; it++) {
    const T = u.map(() => 0);
    for (const unit of units) {
      const cos = Math.min(1, Math.max(-1, dotp(u, unit)));
      const theta = Math.acos(cos);
      if (theta < tol) continue;
      for (let j = 0; j < T.length; j++) T[j]! += (1 / n) * (theta / Math.sin(theta)) * (unit[j]! - cos * u[j]!);
    }
    const tn = Math.sqrt(dotp(T, T));
    if (tn < tol) break;
    u = u.map((v, j) => Math.cos(tn) * v + (Math.sin(tn) * T[j]!) / tn);
    const un = Math.sqrt(dotp(u, u));
    u = u.map((v) => v / un);
  }
  const scale = norms.reduce((s, v) => s + v / n, 0);
  return u.map((v) => v * scale);
}

function run(models: ArrayLike<number>[], shape?: number[], params: Record<string, number> = {}) {
  return karcher.mergeTensor(makeMergeInput(karcher, { models: models.map((m) => Float32Array.from(m)), params, ...(shape ? { shape } : {}) }));
}

describe('karcher (§3.5)', () => {
  test('identical inputs return that input (1e-6 relative)', () => {
    const x = Float32Array.from([0.5, -1.25, 3, 0.01, -0.3]);
    for (const count of [1, 2, 4]) assertCloseToReference(run(Array.from({ length: count }, () => x)), x, 1e-6, `${count} copies`);
  });

  test('two orthogonal vectors of norms 1 and 3 give the bisector scaled by the mean norm 2', () => {
    const s = Math.SQRT1_2 * 2;
    assertCloseToReference(run([[1, 0, 0], [0, 3, 0]], undefined, { max_iter: 50, tol: 1e-9 }), [s, s, 0], 1e-6, 'bisector');
  });

  test('a zero-norm input has no direction but still counts in the scale', () => {
    // direction from [2, 0] alone; scale = (2 + 0)/2 = 1
    assertCloseToReference(run([[2, 0], [0, 0]]), [1, 0], 1e-7, 'zero input');
  });

  test('golden: tiny-llama experts, o_proj and the final norm, against the float64 reference', () => {
    for (const name of ['model.layers.3.self_attn.o_proj.weight', 'model.norm.weight']) {
      const experts = ['expert-literature', 'expert-code', 'expert-math', 'base'].map((m) => readFixtureTensor(m, name));
      const out = run(experts.map((e) => e.data), experts[0]!.shape);
      assertCloseToReference(out, referenceKarcher(experts.map((e) => e.data)), 1e-6, name);
    }
  });
});
