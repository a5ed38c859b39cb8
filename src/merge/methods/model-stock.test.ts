import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCloseToReference, makeMergeInput, readFixtureTensor } from '../test-support.js';
import { modelStock } from './model-stock.js';

/** Float64 reference of §3.8 over one group of indices. */
function referenceStock(models: ArrayLike<number>[], base: ArrayLike<number>, rowLength: number): number[] {
  const n = models.length;
  const out: number[] = [];
  for (let start = 0; start < base.length; start += rowLength) {
    const idx = Array.from({ length: Math.min(rowLength, base.length - start) }, (_, k) => start + k);
    const offsets = models.map((m) => idx.map((j) => m[j]! - base[j]!));
    const norm = (v: number[]) => Math.max(Math.sqrt(v.reduce((s, x) => s + x * x, 0)), 1e-6);
    const cosines: number[] = [];
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++) {
        const d = offsets[a]!.reduce((s, x, k) => s + x * offsets[b]![k]!, 0);
        cosines.push(Math.min(1, Math.max(-1, d / (norm(offsets[a]!) * norm(offsets[b]!)))));
      }
    const c = cosines.reduce((s, x) => s + x, 0) / cosines.length;
    const t = (n * c) / (1 + (n - 1) * c);
    for (const j of idx) {
      const mean = models.reduce((s, m) => s + m[j]!, 0) / n;
      out.push(t * mean + (1 - t) * base[j]!);
    }
  }
  return out;
}

function run(models: Float32Array[], base: Float32Array, shape: number[], filterWise = false) {
  return modelStock.mergeTensor(makeMergeInput(modelStock, { base, models, shape, params: { filter_wise: filterWise } }));
}

const base = Float32Array.from([0.5, -0.25, 1, 2, -1, 0.75]);

describe('model_stock (§3.8)', () => {
  test('identical fine-tunes return that model (c = 1 → t = 1)', () => {
    const tuned = base.map((v, j) => v + 0.1 * (j - 2));
    for (const n of [2, 3, 5]) {
      const models = Array.from({ length: n }, () => tuned);
      assertCloseToReference(run(models, base, [6]), tuned, 1e-6, `n = ${n}`);
      assertCloseToReference(run(models, base, [2, 3], true), tuned, 1e-6, `n = ${n}, filter_wise`);
    }
  });

  test('pairwise-orthogonal offsets return the base (c = 0 → t = 0)', () => {
    const models = [0, 1, 2].map((i) => base.map((v, j) => (j === i ? v + 0.5 * (i + 1) : v)));
    assert.deepEqual(Array.from(run(models, base, [6])), Array.from(base));
  });

  test('two models: t = 2cosθ/(1 + cosθ) (the paper form)', () => {
    const theta = 1.0;
    const x1 = Float32Array.from([1, 0]);
    const x2 = Float32Array.from([2 * Math.cos(theta), 2 * Math.sin(theta)]);
    const zero = new Float32Array(2);
    const t = (2 * Math.cos(theta)) / (1 + Math.cos(theta));
    const expected = [0, 1].map((j) => (t * (x1[j]! + x2[j]!)) / 2);
    assertCloseToReference(run([x1, x2], zero, [2]), expected, 1e-6);
  });

  test('filter_wise gives one ratio per row; matches the float64 reference', () => {
    const models = [0, 1, 2].map((i) => base.map((v, j) => v + Math.sin(3 * i + j) * 0.3));
    assertCloseToReference(run(models, base, [2, 3], true), referenceStock(models, base, 3), 1e-6, 'rows');
    assertCloseToReference(run(models, base, [2, 3]), referenceStock(models, base, 6), 1e-6, 'whole');
  });

  test('golden: tiny-llama three experts over base, up_proj (whole and filter_wise) and a norm', () => {
    for (const [name, filterWise] of [
      ['model.layers.1.mlp.up_proj.weight', false],
      ['model.layers.1.mlp.up_proj.weight', true],
      ['model.layers.0.post_attention_layernorm.weight', false],
    ] as const) {
      const [b, ...experts] = ['base', 'expert-literature', 'expert-code', 'expert-math'].map((m) => readFixtureTensor(m, name));
      const rowLength = filterWise ? b!.shape[b!.shape.length - 1]! : b!.data.length;
      const out = run(experts.map((e) => e.data), b!.data, b!.shape, filterWise);
      assertCloseToReference(out, referenceStock(experts.map((e) => e.data), b!.data, rowLength), 1e-6, `${name} filter_wise=${filterWise}`);
    }
  });
});
