// The float32 form of the fused FINAL kernel's sign consensus and mix (assembly/task-vector-final.ts, issue #16):
// four elements per v128 instead of the float64 form's two. Every operation rounds to float32 (merge-methods.md
// §0: element-wise arithmetic in float32), in the order of src/merge/consensus-f32.ts `combineTaskVectorsFloat32`,
// which is the bit-exact TypeScript model of this code; its distance from the float64 form is stated there.

import { exponentAllOnes } from './bits';

// w_j·δ_j in float32 for four sparsified lanes s, w the splatted float32 weight; with an l1 factor (f: float64
// pair), δ·factor is first rounded to float32 from a float64 product, as the float64 form and the reference
// sparsifier do
// @ts-ignore: decorator
@inline
export function weighted4(s: v128, w: v128, scaled: bool, f: v128): v128 {
  let v = s;
  if (scaled) {
    const lo = f64x2.mul(f64x2.promote_low_f32x4(v), f);
    const hi = f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)), f);
    v = v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
  }
  return f32x4.mul(w, v);
}

// model j's agreement with the elected sign: d > 0 where the total is ≥ 0, d < 0 where it is negative. `flip` is
// the sign bit where the total is negative: d·(±1) > 0 as float32 ⇔ as int32, so two operations instead of five
// (d is never NaN: finite inputs and weights)
// @ts-ignore: decorator
@inline
function agrees(d: v128, flip: v128): v128 {
  return i32x4.gt_s(v128.xor(d, flip), i32x4.splat(0));
}

// b + λ·mix for four elements, float32 throughout: d0..d3 are w_j·δ_j (count of them real), w0..w3 the splatted
// float32 weights, plain and lambda the splatted divisor without consensus and λ, b the base lanes. `positive`:
// every weight ≥ 1e-8 (as float32), so a divisor below 1e-8 is 0, where no model agrees and the mix is +0: +0 / 1e-8
// is +0 / 1, and a max replaces the test and select
// @ts-ignore: decorator
@inline
export function mix4F32(
  d0: v128, d1: v128, d2: v128, d3: v128, w0: v128, w1: v128, w2: v128, w3: v128,
  plain: v128, lambda: v128, count: i32, consensus: bool, normalize: bool, b: v128, positive: bool,
): v128 {
  const zero = f32x4.splat(0);
  // with consensus the total only decides the sign; without it, it is the mix, summed from +0
  let total = consensus ? d0 : f32x4.add(zero, d0);
  if (count > 1) total = f32x4.add(total, d1);
  if (count > 2) total = f32x4.add(total, d2);
  if (count > 3) total = f32x4.add(total, d3);
  let mixed = total;
  let divisor = plain;
  if (consensus) {
    const flip = v128.andnot(i32x4.splat(0x80000000), f32x4.ge(total, zero));
    // the first agreeing term is non-zero, so starting the sums at it (not at +0) changes no bit
    const a0 = agrees(d0, flip);
    mixed = v128.and(d0, a0);
    divisor = v128.and(w0, a0);
    if (count > 1) {
      const a1 = agrees(d1, flip);
      mixed = f32x4.add(mixed, v128.and(d1, a1));
      divisor = f32x4.add(divisor, v128.and(w1, a1));
    }
    if (count > 2) {
      const a2 = agrees(d2, flip);
      mixed = f32x4.add(mixed, v128.and(d2, a2));
      divisor = f32x4.add(divisor, v128.and(w2, a2));
    }
    if (count > 3) {
      const a3 = agrees(d3, flip);
      mixed = f32x4.add(mixed, v128.and(d3, a3));
      divisor = f32x4.add(divisor, v128.and(w3, a3));
    }
    divisor = positive
      ? f32x4.pmax(divisor, f32x4.splat(<f32>1e-8))
      : v128.bitselect(f32x4.splat(1), divisor, f32x4.lt(f32x4.abs(divisor), f32x4.splat(<f32>1e-8)));
  }
  return f32x4.add(b, f32x4.mul(lambda, normalize ? f32x4.div(mixed, divisor) : mixed));
}

// @ts-ignore: decorator
@inline
function weightAt(weights: usize, j: i32, count: i32): v128 {
  return f32x4.splat(j < count ? <f32>load<f64>(weights + (<usize>j << 3)) : 0);
}

// @ts-ignore: decorator
@inline
function factorAt(factors: usize, j: i32, count: i32): v128 {
  return f64x2.splat(factors != 0 && j < count ? load<f64>(factors + (<usize>j << 3)) : 1);
}

// four float32 lanes of vector j (u32 address in the table `deltas`) at element i, +0 past `lanes`
// @ts-ignore: decorator
@inline
function lanesOf(p: usize, i: i32, lanes: i32): v128 {
  if (lanes == 4) return v128.load(p + (<usize>i << 2));
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p + (<usize>i << 2)));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + (<usize>i << 2), 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + (<usize>i << 2), 8));
  return v;
}

/**
 * The whole-vector form (src/merge/fast-task-vectors.ts) for 1..4 models: out = base + λ·mix over n float32
 * elements, `deltas` a table of `count` u32 addresses of the sparsified task vectors, weights / factors (0: none)
 * float64 per model. Stores 1 at `status` when a result is not finite (the caller redoes the range in float64).
 */
export function tiesCombineF32(
  out: usize, base: usize, deltas: usize, weights: usize, count: i32, n: i32,
  plainDivisor: f64, lambda: f64, consensus: i32, normalize: i32, factors: usize, status: usize,
): void {
  const scaled = factors != 0;
  const agree = consensus != 0;
  const divide = normalize != 0;
  const w0 = weightAt(weights, 0, count);
  const w1 = weightAt(weights, 1, count);
  const w2 = weightAt(weights, 2, count);
  const w3 = weightAt(weights, 3, count);
  const f0 = factorAt(factors, 0, count);
  const f1 = factorAt(factors, 1, count);
  const f2 = factorAt(factors, 2, count);
  const f3 = factorAt(factors, 3, count);
  const plain = f32x4.splat(<f32>plainDivisor);
  const lambdaV = f32x4.splat(<f32>lambda);
  const p0 = <usize>load<u32>(deltas);
  const p1 = count > 1 ? <usize>load<u32>(deltas, 4) : p0;
  const p2 = count > 2 ? <usize>load<u32>(deltas, 8) : p0;
  const p3 = count > 3 ? <usize>load<u32>(deltas, 12) : p0;
  const zero = f32x4.splat(0);
  let bad = i32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const lanes = min(4, n - i);
    const d0 = weighted4(lanesOf(p0, i, lanes), w0, scaled, f0);
    const d1 = count > 1 ? weighted4(lanesOf(p1, i, lanes), w1, scaled, f1) : zero;
    const d2 = count > 2 ? weighted4(lanesOf(p2, i, lanes), w2, scaled, f2) : zero;
    const d3 = count > 3 ? weighted4(lanesOf(p3, i, lanes), w3, scaled, f3) : zero;
    const merged = mix4F32(d0, d1, d2, d3, w0, w1, w2, w3, plain, lambdaV, count, agree, divide, lanesOf(base, i, lanes), false);
    const q = out + (<usize>i << 2);
    if (lanes == 4) v128.store(q, merged);
    else {
      store<f32>(q, f32x4.extract_lane(merged, 0));
      if (lanes > 1) store<f32>(q, f32x4.extract_lane(merged, 1), 4);
      if (lanes > 2) store<f32>(q, f32x4.extract_lane(merged, 2), 8);
    }
    const valid = lanes == 4 ? i32x4.splat(-1) : i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(lanes));
    bad = v128.or(bad, v128.and(exponentAllOnes(merged), valid));
  }
  if (v128.any_true(bad)) store<i32>(status, 1);
}
