// Merge-executor kernels that reproduce the plain-TypeScript merge methods bit for bit (merge-methods.md §0:
// element-wise combinations evaluated in float64 and rounded once to float32):
// - linearF64: linear merge (§3.1), out = Σ_j w_j·x_j over the non-zero weights, the sum starting at −0 as in
//   src/kernels/reference/vector.ts `weightedSum`; inputs read as bfloat16 or float32, output written as
//   bfloat16 (round to nearest even, NaN-safe) or float32, so the executor streams raw shard bytes in one pass;
//   bfloat16 inputs with one to four non-zero weights take an unrolled eight-element loop (same arithmetic);
// - tiesCombineF64: sign consensus and disjoint mix of already-sparsified task vectors (§3.6 steps 3–7), the
//   operation order of src/merge/consensus.ts `combineTaskVectors`, after the optional per-model l1 rescale;
// - findNonFinite: flags NaN/±Inf in float32 data.
// Every kernel that reads inputs stores 1 at `status` when an input holds NaN/±Inf (the executor then reruns
// the tensor on the reference path, which names the element).

import { bf16BitsOf, bf16x4, doubleAt, exponentAllOnes, f32x4ToBf16Bits, loadInput1, loadInput4, pointerAt } from './bits';

export const LINEAR_IN_BF16: i32 = 1;
export const LINEAR_OUT_BF16: i32 = 2;

// bfloat16 elements 2m and 2m+1 of `x` as the two low float32 lanes (bf16 bits become the top half of each lane)
// @ts-ignore: decorator
@inline
function bf16PairAsF64(x: v128, m: i32): v128 {
  const zero = i32x4.splat(0);
  if (m == 0) return f64x2.promote_low_f32x4(i8x16.shuffle(zero, x, 0, 0, 16, 17, 0, 0, 18, 19, 0, 0, 0, 0, 0, 0, 0, 0));
  if (m == 1) return f64x2.promote_low_f32x4(i8x16.shuffle(zero, x, 0, 0, 20, 21, 0, 0, 22, 23, 0, 0, 0, 0, 0, 0, 0, 0));
  if (m == 2) return f64x2.promote_low_f32x4(i8x16.shuffle(zero, x, 0, 0, 24, 25, 0, 0, 26, 27, 0, 0, 0, 0, 0, 0, 0, 0));
  return f64x2.promote_low_f32x4(i8x16.shuffle(zero, x, 0, 0, 28, 29, 0, 0, 30, 31, 0, 0, 0, 0, 0, 0, 0, 0));
}

// Eight bfloat16 elements of bfloat16 inputs with up to four non-zero weights, the input loop unrolled with
// pointers and weights in locals: the same float64 products and sums in the same order as the generic loop of
// linearF64, with the NaN/±Inf check on the raw 16-bit patterns ((x & 0x7fff) ≥ 0x7f80 ⇔ exponent all ones).
// Returns how many elements it wrote (a multiple of 8); the caller finishes the rest.
function linearBf16Unrolled(out: usize, inputs: usize, weights: usize, count: i32, n: i32, outBf16: bool, status: usize): i32 {
  const p0 = pointerAt(inputs, 0);
  const p1 = count > 1 ? pointerAt(inputs, 1) : p0;
  const p2 = count > 2 ? pointerAt(inputs, 2) : p0;
  const p3 = count > 3 ? pointerAt(inputs, 3) : p0;
  const w0 = f64x2.splat(doubleAt(weights, 0));
  const w1 = f64x2.splat(count > 1 ? doubleAt(weights, 1) : 0);
  const w2 = f64x2.splat(count > 2 ? doubleAt(weights, 2) : 0);
  const w3 = f64x2.splat(count > 3 ? doubleAt(weights, 3) : 0);
  const magnitude = i16x8.splat(0x7fff);
  let widest = i16x8.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const offset = <usize>i << 1;
    const x0 = v128.load(p0 + offset);
    widest = i16x8.max_u(widest, v128.and(x0, magnitude));
    let a0 = f64x2.mul(w0, bf16PairAsF64(x0, 0)); // −0 + p is p, bit for bit
    let a1 = f64x2.mul(w0, bf16PairAsF64(x0, 1)); // −0 + p is p, bit for bit
    let a2 = f64x2.mul(w0, bf16PairAsF64(x0, 2)); // −0 + p is p, bit for bit
    let a3 = f64x2.mul(w0, bf16PairAsF64(x0, 3)); // −0 + p is p, bit for bit
    if (count > 1) {
      const x1 = v128.load(p1 + offset);
      widest = i16x8.max_u(widest, v128.and(x1, magnitude));
      a0 = f64x2.add(a0, f64x2.mul(w1, bf16PairAsF64(x1, 0)));
      a1 = f64x2.add(a1, f64x2.mul(w1, bf16PairAsF64(x1, 1)));
      a2 = f64x2.add(a2, f64x2.mul(w1, bf16PairAsF64(x1, 2)));
      a3 = f64x2.add(a3, f64x2.mul(w1, bf16PairAsF64(x1, 3)));
    }
    if (count > 2) {
      const x2 = v128.load(p2 + offset);
      widest = i16x8.max_u(widest, v128.and(x2, magnitude));
      a0 = f64x2.add(a0, f64x2.mul(w2, bf16PairAsF64(x2, 0)));
      a1 = f64x2.add(a1, f64x2.mul(w2, bf16PairAsF64(x2, 1)));
      a2 = f64x2.add(a2, f64x2.mul(w2, bf16PairAsF64(x2, 2)));
      a3 = f64x2.add(a3, f64x2.mul(w2, bf16PairAsF64(x2, 3)));
    }
    if (count > 3) {
      const x3 = v128.load(p3 + offset);
      widest = i16x8.max_u(widest, v128.and(x3, magnitude));
      a0 = f64x2.add(a0, f64x2.mul(w3, bf16PairAsF64(x3, 0)));
      a1 = f64x2.add(a1, f64x2.mul(w3, bf16PairAsF64(x3, 1)));
      a2 = f64x2.add(a2, f64x2.mul(w3, bf16PairAsF64(x3, 2)));
      a3 = f64x2.add(a3, f64x2.mul(w3, bf16PairAsF64(x3, 3)));
    }
    const low = v128.shuffle<u32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5);
    const high = v128.shuffle<u32>(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5);
    if (outBf16) {
      v128.store(out + offset, i16x8.narrow_i32x4_u(f32x4ToBf16Bits(low), f32x4ToBf16Bits(high)));
    } else {
      v128.store(out + (<usize>i << 2), low);
      v128.store(out + (<usize>i << 2) + 16, high);
    }
  }
  if (v128.any_true(i16x8.ge_u(widest, i16x8.splat(0x7f80)))) store<i32>(status, 1);
  return i;
}

export function linearF64(out: usize, inputs: usize, weights: usize, count: i32, n: i32, flags: i32, status: usize): void {
  const inBf16 = (flags & LINEAR_IN_BF16) != 0;
  const outBf16 = (flags & LINEAR_OUT_BF16) != 0;
  let bad = i32x4.splat(0);
  let i = 0;
  if (inBf16 && count >= 1 && count <= 4 && allNonZero(weights, count)) {
    i = linearBf16Unrolled(out, inputs, weights, count, n, outBf16, status);
  }
  for (; i + 4 <= n; i += 4) {
    let lo = f64x2.splat(-0.0);
    let hi = f64x2.splat(-0.0);
    for (let j = 0; j < count; j++) {
      const x = loadInput4(pointerAt(inputs, j), i, inBf16);
      bad = v128.or(bad, exponentAllOnes(x));
      const w = doubleAt(weights, j);
      if (w == 0) continue;
      const vw = f64x2.splat(w);
      lo = f64x2.add(lo, f64x2.mul(vw, f64x2.promote_low_f32x4(x)));
      hi = f64x2.add(hi, f64x2.mul(vw, f64x2.promote_low_f32x4(v128.shuffle<u32>(x, x, 2, 3, 0, 1))));
    }
    const rounded = v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
    if (outBf16) {
      const encoded = f32x4ToBf16Bits(rounded);
      v128.store64_lane(out + (<usize>i << 1), i16x8.narrow_i32x4_u(encoded, encoded), 0);
    } else {
      v128.store(out + (<usize>i << 2), rounded);
    }
  }
  for (; i < n; i++) {
    let acc: f64 = -0.0;
    for (let j = 0; j < count; j++) {
      const bits = loadInput1(pointerAt(inputs, j), i, inBf16);
      if ((bits & 0x7f800000) == 0x7f800000) store<i32>(status, 1);
      const w = doubleAt(weights, j);
      if (w != 0) acc += w * <f64>reinterpret<f32>(bits);
    }
    const value = <f32>acc;
    if (outBf16) store<u16>(out + (<usize>i << 1), bf16BitsOf(reinterpret<u32>(value)));
    else store<f32>(out + (<usize>i << 2), value);
  }
  if (v128.any_true(bad)) store<i32>(status, 1);
}

// The unrolled loop adds every input's product, so it only stands in for the generic loop (which skips zero
// weights, keeping −0 sums −0) when no weight is zero.
function allNonZero(weights: usize, count: i32): bool {
  for (let j = 0; j < count; j++) if (doubleAt(weights, j) == 0) return false;
  return true;
}

// δ_j at `offset`, times the l1 rescale factor of model j (when `factors` is not 0) rounded to float32, as
// src/merge/sparsify.ts `rescaleToL1` stores it (a factor of 1 leaves δ unchanged)
// @ts-ignore: decorator
@inline
function rescaled(deltas: usize, factors: usize, j: i32, offset: usize): f64 {
  const d = load<f32>(pointerAt(deltas, j) + offset);
  return factors == 0 ? <f64>d : <f64><f32>(<f64>d * doubleAt(factors, j));
}

// the pair of δ_j at `offset` as float64 lanes, with the l1 factor as in `rescaled`
// @ts-ignore: decorator
@inline
function rescaledPair(deltas: usize, factors: usize, j: i32, offset: usize): v128 {
  const d = f64x2.promote_low_f32x4(v128.load64_zero(pointerAt(deltas, j) + offset));
  if (factors == 0) return d;
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(d, f64x2.splat(doubleAt(factors, j)))));
}

export function tiesCombineF64(
  out: usize,
  base: usize,
  deltas: usize,
  weights: usize,
  count: i32,
  n: i32,
  plainDivisor: f64,
  lambda: f64,
  consensus: i32,
  normalize: i32,
  factors: usize,
): void {
  // two elements per step in float64 lanes: per lane the same operations in the same order as the loop below
  // (adding +0 for a disagreeing model changes no sum, which is never −0 here: it starts at +0 and only
  // non-zero terms are added)
  const zero = f64x2.splat(0);
  const tiny = f64x2.splat(1e-8);
  const one = f64x2.splat(1);
  const lambdaV = f64x2.splat(lambda);
  let i = count >= 1 && count <= 4 ? tiesCombineUpTo4(out, base, deltas, weights, count, n, plainDivisor, lambda, consensus, normalize, factors) : 0;
  for (; i + 2 <= n; i += 2) {
    const offset = <usize>i << 2;
    let total = zero;
    for (let j = 0; j < count; j++) total = f64x2.add(total, f64x2.mul(f64x2.splat(doubleAt(weights, j)), rescaledPair(deltas, factors, j, offset)));
    let mixed = total;
    let divisor = f64x2.splat(plainDivisor);
    if (consensus != 0) {
      const positive = f64x2.ge(total, zero);
      mixed = zero;
      divisor = zero;
      for (let j = 0; j < count; j++) {
        const w = f64x2.splat(doubleAt(weights, j));
        const d = f64x2.mul(w, rescaledPair(deltas, factors, j, offset));
        const agrees = v128.bitselect(f64x2.gt(d, zero), f64x2.lt(d, zero), positive);
        mixed = f64x2.add(mixed, v128.and(d, agrees));
        divisor = f64x2.add(divisor, v128.and(w, agrees));
      }
      divisor = v128.bitselect(one, divisor, f64x2.lt(f64x2.abs(divisor), tiny));
    }
    const b = f64x2.promote_low_f32x4(v128.load64_zero(base + offset));
    const scaled = f64x2.mul(lambdaV, normalize != 0 ? f64x2.div(mixed, divisor) : mixed);
    v128.store64_lane(out + offset, f32x4.demote_f64x2_zero(f64x2.add(b, scaled)), 0);
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    let total: f64 = 0;
    for (let j = 0; j < count; j++) total += doubleAt(weights, j) * rescaled(deltas, factors, j, offset);
    let mixed = total;
    let divisor = plainDivisor;
    if (consensus != 0) {
      const positive = total >= 0;
      mixed = 0;
      divisor = 0;
      for (let j = 0; j < count; j++) {
        const w = doubleAt(weights, j);
        const d = w * rescaled(deltas, factors, j, offset);
        if (positive ? d > 0 : d < 0) {
          mixed += d;
          divisor += w;
        }
      }
      if (Math.abs(divisor) < 1e-8) divisor = 1;
    }
    const b = <f64>load<f32>(base + offset);
    store<f32>(out + offset, <f32>(b + lambda * (normalize != 0 ? mixed / divisor : mixed)));
  }
}

// The pair loop of tiesCombineF64 for one to four models, pointers, weights and factors in locals and each
// product w_j·δ_j formed once: per lane the same float64 operations in the same order, so the same bytes.
// Returns how many elements it wrote (even); the caller finishes the rest.
function tiesCombineUpTo4(
  out: usize,
  base: usize,
  deltas: usize,
  weights: usize,
  count: i32,
  n: i32,
  plainDivisor: f64,
  lambda: f64,
  consensus: i32,
  normalize: i32,
  factors: usize,
): i32 {
  const p0 = pointerAt(deltas, 0);
  const p1 = count > 1 ? pointerAt(deltas, 1) : p0;
  const p2 = count > 2 ? pointerAt(deltas, 2) : p0;
  const p3 = count > 3 ? pointerAt(deltas, 3) : p0;
  const w0 = f64x2.splat(doubleAt(weights, 0));
  const w1 = f64x2.splat(count > 1 ? doubleAt(weights, 1) : 0);
  const w2 = f64x2.splat(count > 2 ? doubleAt(weights, 2) : 0);
  const w3 = f64x2.splat(count > 3 ? doubleAt(weights, 3) : 0);
  const scaled = factors != 0;
  const f0 = f64x2.splat(scaled ? doubleAt(factors, 0) : 1);
  const f1 = f64x2.splat(scaled && count > 1 ? doubleAt(factors, 1) : 1);
  const f2 = f64x2.splat(scaled && count > 2 ? doubleAt(factors, 2) : 1);
  const f3 = f64x2.splat(scaled && count > 3 ? doubleAt(factors, 3) : 1);
  const zero = f64x2.splat(0);
  const tiny = f64x2.splat(1e-8);
  const one = f64x2.splat(1);
  const lambdaV = f64x2.splat(lambda);
  const plain = f64x2.splat(plainDivisor);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const offset = <usize>i << 2;
    // the products of rescaledPair × weight, in tiesCombineF64's order
    const d0 = f64x2.mul(w0, factorPair(p0 + offset, f0, scaled));
    const d1 = count > 1 ? f64x2.mul(w1, factorPair(p1 + offset, f1, scaled)) : zero;
    const d2 = count > 2 ? f64x2.mul(w2, factorPair(p2 + offset, f2, scaled)) : zero;
    const d3 = count > 3 ? f64x2.mul(w3, factorPair(p3 + offset, f3, scaled)) : zero;
    let total = f64x2.add(zero, d0);
    if (count > 1) total = f64x2.add(total, d1);
    if (count > 2) total = f64x2.add(total, d2);
    if (count > 3) total = f64x2.add(total, d3);
    let mixed = total;
    let divisor = plain;
    if (consensus != 0) {
      const positive = f64x2.ge(total, zero);
      const a0 = v128.bitselect(f64x2.gt(d0, zero), f64x2.lt(d0, zero), positive);
      mixed = f64x2.add(zero, v128.and(d0, a0));
      divisor = f64x2.add(zero, v128.and(w0, a0));
      if (count > 1) {
        const a1 = v128.bitselect(f64x2.gt(d1, zero), f64x2.lt(d1, zero), positive);
        mixed = f64x2.add(mixed, v128.and(d1, a1));
        divisor = f64x2.add(divisor, v128.and(w1, a1));
      }
      if (count > 2) {
        const a2 = v128.bitselect(f64x2.gt(d2, zero), f64x2.lt(d2, zero), positive);
        mixed = f64x2.add(mixed, v128.and(d2, a2));
        divisor = f64x2.add(divisor, v128.and(w2, a2));
      }
      if (count > 3) {
        const a3 = v128.bitselect(f64x2.gt(d3, zero), f64x2.lt(d3, zero), positive);
        mixed = f64x2.add(mixed, v128.and(d3, a3));
        divisor = f64x2.add(divisor, v128.and(w3, a3));
      }
      divisor = v128.bitselect(one, divisor, f64x2.lt(f64x2.abs(divisor), tiny));
    }
    const b = f64x2.promote_low_f32x4(v128.load64_zero(base + offset));
    const scaledMix = f64x2.mul(lambdaV, normalize != 0 ? f64x2.div(mixed, divisor) : mixed);
    v128.store64_lane(out + offset, f32x4.demote_f64x2_zero(f64x2.add(b, scaledMix)), 0);
  }
  return i;
}

// rescaledPair with the factor in a register: δ, or δ·factor rounded to float32
// @ts-ignore: decorator
@inline
function factorPair(at: usize, factor: v128, scaled: bool): v128 {
  const d = f64x2.promote_low_f32x4(v128.load64_zero(at));
  if (!scaled) return d;
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(d, factor)));
}

export function findNonFinite(x: usize, n: i32, status: usize): void {
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) bad = v128.or(bad, exponentAllOnes(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) store<i32>(status, 1);
  if (v128.any_true(bad)) store<i32>(status, 1);
}
