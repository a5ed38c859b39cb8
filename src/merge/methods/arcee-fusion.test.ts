import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeMergeInput, readFixtureTensor } from '../test-support.js';
import { arceeFusion, quantileOfSorted } from './arcee-fusion.js';

/**
 * Float64 reference of §3.10 on plain arrays; returns the selection mask (and importance and threshold).
 * `quartiles: 'lower'` is mergekit's rule (`sorted[⌊q·(n−1)⌋]`), 'linear' interpolates.
 */
function referenceFusion(tuned: ArrayLike<number>, base: ArrayLike<number>, rowLength: number, quartiles: 'lower' | 'linear') {
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
    if (quartiles === 'lower') return sorted[lo]!;
    return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? 0) - sorted[lo]!);
  };
  const threshold = quantile(0.5) + 1.5 * (quantile(0.75) - quantile(0.25));
  return { mask: importance.map((v) => v >= threshold), importance, threshold };
}

/**
 * mergekit's rule in float32 (torch float32 tensors): every intermediate stored in a Float32Array so it is
 * rounded as torch rounds it; quartiles are the lower order statistics of the float32 scores; the threshold
 * median + 1.5·IQR is rounded to float32 too.
 */
function referenceFusionFloat32(tuned: Float32Array, base: Float32Array, rowLength: number): boolean[] {
  const n = base.length;
  const scores = new Float32Array(n);
  const acc = new Float32Array(4);
  const tmp = new Float32Array(8);
  for (let start = 0; start < n; start += rowLength) {
    const softmaxInto = (v: Float32Array, into: Float32Array) => {
      let top = -Infinity;
      for (let k = 0; k < rowLength; k++) top = Math.max(top, v[start + k]!);
      acc[0] = 0;
      for (let k = 0; k < rowLength; k++) {
        tmp[0] = v[start + k]! - top;
        into[k] = Math.exp(tmp[0]);
        acc[0] += into[k]!;
      }
      tmp[1] = 1e-8;
      for (let k = 0; k < rowLength; k++) {
        into[k] = into[k]! / acc[0];
        into[k] = into[k]! + tmp[1];
      }
    };
    const p = new Float32Array(rowLength);
    const q = new Float32Array(rowLength);
    softmaxInto(tuned, p);
    softmaxInto(base, q);
    acc[1] = 0;
    for (let k = 0; k < rowLength; k++) {
      tmp[2] = p[k]! / q[k]!;
      tmp[3] = Math.log(tmp[2]);
      tmp[4] = p[k]! * tmp[3];
      acc[1] += tmp[4];
    }
    for (let k = 0; k < rowLength; k++) {
      tmp[5] = tuned[start + k]! - base[start + k]!;
      scores[start + k] = Math.abs(tmp[5]) * acc[1];
    }
  }
  const sorted = Float32Array.from(scores).sort();
  const at = (q: number) => sorted[Math.floor(q * (n - 1))]!;
  tmp[6] = at(0.75) - at(0.25);
  tmp[6] = 1.5 * tmp[6];
  tmp[7] = at(0.5) + tmp[6];
  return Array.from(scores, (v) => v >= tmp[7]!);
}

function referenceFusionMask(tuned: ArrayLike<number>, base: ArrayLike<number>, rowLength: number): boolean[] {
  return referenceFusion(tuned, base, rowLength, 'linear').mask;
}

/** the float64/interpolating convention (mergekit_compat: false), which the float64 reference reproduces bit for bit */
function run(tuned: Float32Array, base: Float32Array, shape: number[]) {
  return arceeFusion.mergeTensor(makeMergeInput(arceeFusion, { base, models: [tuned], shape, params: { mergekit_compat: false } }));
}

function runDefault(tuned: Float32Array, base: Float32Array, shape: number[]) {
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
      arceeFusion.mergeTensor(makeMergeInput(arceeFusion, { base: b.data, models: [x.data], shape: b.shape, params: { quantile_sample_size: 20000, mergekit_compat: false }, seed }));
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

  test('golden (default, mergekit): float32 KL and lower-order-statistic quartiles on tiny-llama, element for element', () => {
    let flippedVsLinear = 0;
    let flippedVsFloat64 = 0;
    let total = 0;
    for (const name of ['model.layers.0.self_attn.o_proj.weight', 'model.layers.1.input_layernorm.weight', 'model.layers.2.mlp.up_proj.weight']) {
      const b = readFixtureTensor('base', name);
      const x = readFixtureTensor('expert-code', name);
      const rowLength = b.shape[b.shape.length - 1]!;
      const mergekitRule = referenceFusionFloat32(x.data, b.data, rowLength);
      const out = runDefault(x.data, b.data, b.shape);
      mergekitRule.forEach((take, j) => assert.equal(out[j], take ? x.data[j] : b.data[j], `${name} element ${j}`));
      assert.ok(mergekitRule.some(Boolean) && !mergekitRule.every(Boolean), `${name}: non-trivial selection`);
      const lower64 = referenceFusion(x.data, b.data, rowLength, 'lower').mask;
      const linear64 = referenceFusion(x.data, b.data, rowLength, 'linear').mask;
      flippedVsFloat64 += mergekitRule.filter((take, j) => take !== lower64[j]).length;
      flippedVsLinear += lower64.filter((take, j) => take !== linear64[j]).length;
      total += mergekitRule.length;
    }
    // float32 KL matters on the fixtures, yet only a small fraction of elements changes side; with ~10⁴–10⁵
    // elements the two quartile rules give nearly the same τ (the hand case below shows where they differ)
    assert.ok(flippedVsLinear <= 0.001 * total, `interpolated vs lower quartiles: ${flippedVsLinear} of ${total} flip`);
    assert.ok(flippedVsFloat64 > 0 && flippedVsFloat64 < 0.01 * total, `float32 vs float64 KL: ${flippedVsFloat64} of ${total} flip`);
  });

  test('lower quartile rule on a hand case: n = 6 → Q1 = sorted[1], median = sorted[2], Q3 = sorted[3]', () => {
    // one row of 6: importance ∝ |X − B|; rows with one element would have KL 0, so use a single 6-wide row
    const base = Float32Array.from([0, 0, 0, 0, 0, 0]);
    const tuned = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 3]);
    const { mask, importance, threshold } = referenceFusion(tuned, base, 6, 'lower');
    const sorted = [...importance].sort((a, c) => a - c);
    assert.equal(threshold, sorted[2]! + 1.5 * (sorted[3]! - sorted[1]!));
    // interpolation would put Q1 at position 1.25 and Q3 at 3.75: a different threshold
    assert.ok(referenceFusion(tuned, base, 6, 'linear').threshold > threshold);
    assert.deepEqual(Array.from(runDefault(tuned, base, [6])), mask.map((take, j) => (take ? tuned[j]! : base[j]!)));
  });
});
