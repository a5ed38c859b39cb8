import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeMergeInput, readFixtureTensor } from '../test-support.js';
import { arceeFusion, quantileOfSorted } from './arcee-fusion.js';

/** Float64 reference of §3.10 on plain arrays; returns the selection mask. */
function referenceFusionMask(tuned: ArrayLike<number>, base: ArrayLike<number>, rowLength: number): boolean[] {
  const importance: number[] = [];
  for (let start = 0; start < base.length; start += rowLength) {
    const idx = Array.from({ length: rowLength }, (_, k) => start + k);
    const softmax = (v: number[]) => {
      const top = Math.max(...v);
      const e = v.map((x) => Math.exp(x - top));
      const z = e.reduce((s, x) => s + x, 0);
      return e.map((x) => x / z + 1e-8);
    };
    const p = softmax(idx.map((j) => tuned[j]!));
    const q = softmax(idx.map((j) => base[j]!));
    const kl = p.reduce((s, pj, k) => s + pj * Math.log(pj / q[k]!), 0);
    for (const j of idx) importance.push(Math.abs(tuned[j]! - base[j]!) * kl);
  }
  const sorted = [...importance].sort((a, b) => a - b);
  const quantile = (q: number) => {
    const h = (sorted.length - 1) * q;
    const lo = Math.floor(h);
    return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? 0) - sorted[lo]!);
  };
  const threshold = quantile(0.5) + 1.5 * (quantile(0.75) - quantile(0.25));
  return importance.map((v) => v >= threshold);
}

function run(tuned: Float32Array, base: Float32Array, shape: number[]) {
  return arceeFusion.mergeTensor(makeMergeInput(arceeFusion, { base, models: [tuned], shape }));
}

describe('arcee_fusion (§3.10)', () => {
  test('X = B returns B', () => {
    const b = Float32Array.from([0.3, -1, 2, 0.5, 0, 1.25]);
    assert.deepEqual(Array.from(run(Float32Array.from(b), b, [2, 3])), Array.from(b));
  });

  test('quantiles interpolate linearly between order statistics', () => {
    const sorted = Float64Array.from([1, 2, 4, 8, 16]);
    assert.equal(quantileOfSorted(sorted, 0.5), 4);
    assert.equal(quantileOfSorted(sorted, 0.25), 2);
    assert.equal(quantileOfSorted(sorted, 0.1), 1.4);
    assert.equal(quantileOfSorted(Float64Array.from([3, 5]), 0.5), 4);
  });

  test('selects exactly the outlier entries of the float64 reference; everything else is the base', () => {
    const shape = [8, 16];
    const base = Float32Array.from({ length: 128 }, (_, j) => Math.sin(j * 0.7));
    const tuned = base.map((v, j) => v + (j % 37 === 0 ? 0.9 : 0.01 * Math.cos(j)));
    const mask = referenceFusionMask(tuned, base, 16);
    const out = run(tuned, base, shape);
    const taken = mask.filter(Boolean).length;
    assert.ok(taken > 0 && taken < 128, `a non-trivial selection (${taken})`);
    mask.forEach((take, j) => assert.equal(out[j], take ? tuned[j] : base[j], `element ${j}`));
  });

  test('quantile_sample_size estimates the threshold from a seeded sample: deterministic, close to exact', () => {
    const name = 'model.layers.0.mlp.up_proj.weight';
    const b = readFixtureTensor('base', name);
    const x = readFixtureTensor('expert-code', name);
    const sampled = (seed: number) =>
      arceeFusion.mergeTensor(makeMergeInput(arceeFusion, { base: b.data, models: [x.data], shape: b.shape, params: { quantile_sample_size: 20000 }, seed }));
    const exact = run(x.data, b.data, b.shape);
    const first = sampled(1);
    assert.deepEqual(Array.from(sampled(1)), Array.from(first));
    const taken = (out: Float32Array) => out.reduce((n, v, j) => n + (v === x.data[j] && v !== b.data[j] ? 1 : 0), 0);
    const exactCount = taken(exact);
    assert.ok(exactCount > 0);
    // a 20k sample of 45k elements puts the threshold near the exact one: the selections differ by a few %
    assert.ok(Math.abs(taken(first) - exactCount) <= 0.1 * exactCount, `${taken(first)} vs ${exactCount}`);
  });

  test('golden: tiny-llama expert-code over base, o_proj and a norm — same selection as the float64 reference', () => {
    for (const name of ['model.layers.0.self_attn.o_proj.weight', 'model.layers.1.input_layernorm.weight']) {
      const b = readFixtureTensor('base', name);
      const x = readFixtureTensor('expert-code', name);
      const mask = referenceFusionMask(x.data, b.data, b.shape[b.shape.length - 1]!);
      const out = run(x.data, b.data, b.shape);
      let mismatches = 0;
      mask.forEach((take, j) => {
        if (out[j] !== (take ? x.data[j] : b.data[j])) mismatches++;
      });
      assert.equal(mismatches, 0, name);
      assert.ok(mask.some(Boolean) && !mask.every(Boolean), `${name}: non-trivial selection`);
    }
  });
});
