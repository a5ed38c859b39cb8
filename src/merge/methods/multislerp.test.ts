import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelevoError } from '../../core/errors.js';
import { assertCloseToReference, makeMergeInput, readFixtureTensor } from '../test-support.js';
import { multislerp } from './multislerp.js';

/** Float64 reference of §3.4, materialising every intermediate vector. */
function referenceMultislerp(models: ArrayLike<number>[], weightsIn: number[], base?: ArrayLike<number>, eps = 1e-8): number[] {
  const total = weightsIn.reduce((a, b) => a + b, 0);
  const w = weightsIn.map((x) => x / total);
  const xs = models.map((m) => Array.from(m, (v, j) => v - (base ? base[j]! : 0)));
  const dotp = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j]!, 0);
  const norms = xs.map((x) => Math.sqrt(dotp(x, x)));
  const us = xs.map((x, i) => x.map((v) => v / (norms[i]! + eps)));
  const m = us[0]!.map((_, j) => us.reduce((s, u, i) => s + w[i]! * u[j]!, 0));
  const mNorm = Math.sqrt(dotp(m, m));
  const mHat = m.map((v) => v / mNorm);
  const g = mHat.map((_, j) => us.reduce((s, u, i) => s + w[i]! * (u[j]! - dotp(u, mHat) * mHat[j]!), 0));
  const gNorm = Math.sqrt(dotp(g, g));
  const r = mHat.map((v, j) => v * Math.cos(gNorm) + (g[j]! * Math.sin(gNorm)) / (gNorm + eps));
  const scale = w.reduce((s, wi, i) => s + wi * norms[i]!, 0);
  return r.map((v, j) => v * scale + (base ? base[j]! : 0));
}

function run(models: ArrayLike<number>[], weights: number[], base?: ArrayLike<number>, shape?: number[]) {
  return multislerp.mergeTensor(
    makeMergeInput(multislerp, {
      models: models.map((m) => Float32Array.from(m)),
      ...(base ? { base: Float32Array.from(base) } : {}),
      ...(shape ? { shape } : {}),
      modelParams: weights.map((weight) => ({ weight })),
    }),
  );
}

const a = Float32Array.from([1.2, -0.4, 0.3, 2.2, -1.1, 0.05]);
const b = Float32Array.from([0.2, 0.9, -1.7, 0.4, 0.6, -0.3]);
const c = Float32Array.from([-0.8, 0.1, 0.5, -0.2, 1.9, 1.4]);
const base = Float32Array.from([0.1, 0.1, -0.1, 0.3, 0.2, -0.2]);

describe('multislerp (§3.4)', () => {
  test('one-hot weights return that input (1e-6 relative), with and without a base', () => {
    for (const hot of [0, 1, 2]) {
      const weights = [0, 0, 0].map((_, i) => (i === hot ? 1 : 0));
      assertCloseToReference(run([a, b, c], weights), [a, b, c][hot]!, 1e-6, `hot ${hot}`);
      assertCloseToReference(run([a, b, c], weights, base), [a, b, c][hot]!, 1e-6, `hot ${hot}, base`);
    }
  });

  test('matches the float64 reference for general weights, with and without a base', () => {
    assertCloseToReference(run([a, b, c], [0.5, 0.2, 0.3]), referenceMultislerp([a, b, c], [0.5, 0.2, 0.3]), 1e-6);
    assertCloseToReference(run([a, b, c], [1, 2, 3], base), referenceMultislerp([a, b, c], [1, 2, 3], base), 1e-6);
  });

  test('two opposite directions fall back to the linear interpolation; three are an error', () => {
    const minusA = a.map((v) => -v);
    const out = run([a, minusA], [1, 1]);
    assertCloseToReference(out, Array.from(a, (v) => 0.5 * v - 0.5 * v), 1e-6, 'cancelling pair', 1e-7);
    assert.throws(
      () => run([a, minusA, new Float32Array(6)], [1, 1, 1]),
      (e: unknown) => e instanceof ModelevoError && e.code === 'VALUE_INVALID' && e.message.includes("'test.weight'"),
    );
  });

  test('golden: tiny-llama three experts over base, gate_proj and a norm', () => {
    for (const name of ['model.layers.0.mlp.gate_proj.weight', 'model.layers.2.input_layernorm.weight']) {
      const [b0, ...experts] = ['base', 'expert-literature', 'expert-code', 'expert-math'].map((m) => readFixtureTensor(m, name));
      const weights = [0.2, 0.5, 0.3];
      const out = run(experts.map((e) => e.data), weights, b0!.data, b0!.shape);
      assertCloseToReference(out, referenceMultislerp(experts.map((e) => e.data), weights, b0!.data), 1e-6, name);
    }
  });
});
