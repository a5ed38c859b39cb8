// taskVectorFinal: the FINAL pass of the block-wise task-vector merges (src/kernels/wasm/task-vector-passes.ts,
// issue #16) for one to four models in one per-element loop: raw bfloat16/float16/float32 blocks of the base and
// of each model → δ_j = x_j − b (float32) → the model's sparsifier (keepBand's cuts with tie numbers, DARE's
// counter-based mask, keep all, or none) with its rescale → the l1 factor → sign consensus and weighted mix in
// float64 → λ → base + mix rounded once to float32 → encoded to the output dtype. Per element the operations
// and their order are those of decodeTaskVector + keepBandAt / dareKeep + tiesCombineF64 + f32ToBf16 / f32ToF16,
// so the bytes are the same (merge-methods.md §0); no float32 block is written and read back in between.

import { f32x4ToBf16Bits } from './bits';
import { f16x4ToF32Bits, f32x4ToF16Bits } from './convert';
import { lowbias32x4, scaleF32x4 } from './sparsify';

const ABS: u32 = 0x7fffffff;
const IN_F32: i32 = 0;
const IN_BF16: i32 = 1;
const IN_F16: i32 = 2;
const KEEP_ALL: i32 = 0;
const KEEP_BAND: i32 = 1;
const KEEP_DARE: i32 = 2;
const OUT_F32: i32 = 0;
const OUT_BF16: i32 = 1;
// a model's record: 9 float64 (kind, then KEEP_BAND: low, lowFirst, lowLast, high, highFirst, highLast, scale,
// address of the i32 pair of tie numbers; KEEP_DARE: k0, k1, keepBelow, scale)
const RECORD_BYTES: usize = 72;

// @ts-ignore: decorator
@inline
function field(record: usize, f: i32): f64 {
  return load<f64>(record + 8 + (<usize>f << 3));
}

// `lanes` (1..4) elements of a raw block from element i as float32 lanes (the rest +0)
// @ts-ignore: decorator
@inline
function decode4(p: usize, i: i32, kind: i32, lanes: i32): v128 {
  let bits: v128;
  if (lanes == 4) {
    bits = kind == IN_F32 ? v128.load(p + (<usize>i << 2)) : v128.load16x4_u(p + (<usize>i << 1));
  } else {
    bits = i32x4.splat(0);
    const q = kind == IN_F32 ? p + (<usize>i << 2) : p + (<usize>i << 1);
    if (kind == IN_F32) {
      bits = i32x4.replace_lane(bits, 0, load<i32>(q));
      if (lanes > 1) bits = i32x4.replace_lane(bits, 1, load<i32>(q, 4));
      if (lanes > 2) bits = i32x4.replace_lane(bits, 2, load<i32>(q, 8));
    } else {
      bits = i32x4.replace_lane(bits, 0, <i32>load<u16>(q));
      if (lanes > 1) bits = i32x4.replace_lane(bits, 1, <i32>load<u16>(q, 2));
      if (lanes > 2) bits = i32x4.replace_lane(bits, 2, <i32>load<u16>(q, 4));
    }
  }
  if (kind == IN_BF16) return i32x4.shl(bits, 16);
  if (kind == IN_F16) return f16x4ToF32Bits(bits);
  return bits;
}

// the exclusive prefix sum of four 0/1 lanes: lane l gets e_0 + … + e_(l−1)
// @ts-ignore: decorator
@inline
function exclusivePrefix(e: v128): v128 {
  const zero = i32x4.splat(0);
  const once = i32x4.add(e, i8x16.shuffle(zero, e, 0, 1, 2, 3, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27));
  const inclusive = i32x4.add(once, i8x16.shuffle(zero, once, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
  return i32x4.sub(inclusive, e);
}

// keepBandAt for four lanes of δ (`valid`: the lanes that are elements): inside the lower cut and outside the
// upper one; a lane equal to a cut is inside it when its tie number (the pair at the record's address, counted
// in index order and advanced here) lies in [first, last); kept lanes become <f32>(δ·scale), the others +0
// @ts-ignore: decorator
@inline
function band4(v: v128, lowV: v128, highV: v128, scale: f64, valid: v128, record: usize): v128 {
  const a = v128.and(v, i32x4.splat(ABS));
  let inLow = i32x4.gt_u(a, lowV);
  let inHigh = i32x4.gt_u(a, highV);
  const tiedLow = v128.and(i32x4.eq(a, lowV), valid);
  const tiedHigh = v128.and(i32x4.eq(a, highV), valid);
  if (v128.any_true(v128.or(tiedLow, tiedHigh))) {
    const ties = <usize>field(record, 7);
    const lowTie = load<i32>(ties);
    const highTie = load<i32>(ties, 4);
    const lowNumber = i32x4.add(i32x4.splat(lowTie), exclusivePrefix(i32x4.shr_u(tiedLow, 31)));
    const highNumber = i32x4.add(i32x4.splat(highTie), exclusivePrefix(i32x4.shr_u(tiedHigh, 31)));
    const lowKept = v128.and(i32x4.ge_s(lowNumber, i32x4.splat(<i32>field(record, 1))), i32x4.lt_s(lowNumber, i32x4.splat(<i32>field(record, 2))));
    const highKept = v128.and(i32x4.ge_s(highNumber, i32x4.splat(<i32>field(record, 4))), i32x4.lt_s(highNumber, i32x4.splat(<i32>field(record, 5))));
    inLow = v128.or(inLow, v128.and(tiedLow, lowKept));
    inHigh = v128.or(inHigh, v128.and(tiedHigh, highKept));
    store<i32>(ties, lowTie + <i32>popcnt(i32x4.bitmask(tiedLow)));
    store<i32>(ties, highTie + <i32>popcnt(i32x4.bitmask(tiedHigh)), 4);
  }
  return v128.and(scale != 1.0 ? scaleF32x4(v, scale) : v, v128.andnot(inLow, inHigh));
}

// model j's sparsified δ for four elements (global indices in `index`): pA/pB/pC are the record's splatted low
// and high cuts (KEEP_BAND) or k0, k1 and the draw bound (KEEP_DARE)
// @ts-ignore: decorator
@inline
function sparsify4(kind: i32, v: v128, pA: v128, pB: v128, pC: v128, scale: f64, keepAll: bool, index: v128, record: usize, valid: v128): v128 {
  if (kind == KEEP_ALL) return v;
  if (kind == KEEP_BAND) return band4(v, pA, pB, scale, valid, record);
  if (kind == KEEP_DARE) {
    const draw = lowbias32x4(i32x4.add(lowbias32x4(v128.xor(index, pA)), pB));
    const keep = keepAll ? i32x4.splat(-1) : i32x4.lt_u(draw, pC);
    return v128.and(scale != 1.0 ? scaleF32x4(v, scale) : v, keep);
  }
  return f32x4.splat(0);
}

// δ pair (low two lanes of s) as float64, times the l1 factor rounded to float32 when there is one
// @ts-ignore: decorator
@inline
function factored(s: v128, factor: v128, scaled: bool): v128 {
  const d = f64x2.promote_low_f32x4(s);
  if (!scaled) return d;
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(d, factor)));
}

// tiesCombineUpTo4's step for one pair: d_j = w_j·δ_j already formed; returns b + λ·mix as float64 lanes
// @ts-ignore: decorator
@inline
function mixPair(d0: v128, d1: v128, d2: v128, d3: v128, w0: v128, w1: v128, w2: v128, w3: v128, count: i32, plain: v128, consensus: bool, normalize: bool, lambdaV: v128, b: v128): v128 {
  const zero = f64x2.splat(0);
  let total = f64x2.add(zero, d0);
  if (count > 1) total = f64x2.add(total, d1);
  if (count > 2) total = f64x2.add(total, d2);
  if (count > 3) total = f64x2.add(total, d3);
  let mixed = total;
  let divisor = plain;
  if (consensus) {
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
    divisor = v128.bitselect(f64x2.splat(1), divisor, f64x2.lt(f64x2.abs(divisor), f64x2.splat(1e-8)));
  }
  return f64x2.add(b, f64x2.mul(lambdaV, normalize ? f64x2.div(mixed, divisor) : mixed));
}

// the upper two lanes of a float32 vector moved to the bottom
// @ts-ignore: decorator
@inline
function high2(v: v128): v128 {
  return v128.shuffle<u32>(v, v, 2, 3, 0, 1);
}

/**
 * The FINAL pass over n elements of one block: raws is a table of count + 1 u32 addresses of the raw blocks
 * (base first, encoding `kind` = TASK_INPUT_*), records count × 9 float64 (see RECORD_BYTES), indexStart the
 * global index of element 0 (DARE's draws), weights / factors (0: none) float64 per model; writes the encoded
 * block (OUT_F32 / OUT_BF16 / OUT_F16) at `out`. count is 1..4.
 */
export function taskVectorFinal(
  raws: usize, n: i32, kind: i32, indexStart: u32, records: usize, count: i32,
  weights: usize, factors: usize, plainDivisor: f64, lambda: f64, consensus: i32, normalize: i32,
  outKind: i32, out: usize,
): void {
  const r0 = records;
  const r1 = records + RECORD_BYTES;
  const r2 = records + 2 * RECORD_BYTES;
  const r3 = records + 3 * RECORD_BYTES;
  const pb = <usize>load<u32>(raws);
  const p0 = <usize>load<u32>(raws, 4);
  const p1 = count > 1 ? <usize>load<u32>(raws, 8) : p0;
  const p2 = count > 2 ? <usize>load<u32>(raws, 12) : p0;
  const p3 = count > 3 ? <usize>load<u32>(raws, 16) : p0;
  const k0 = <i32>load<f64>(r0);
  const k1 = count > 1 ? <i32>load<f64>(r1) : KEEP_ALL;
  const k2 = count > 2 ? <i32>load<f64>(r2) : KEEP_ALL;
  const k3 = count > 3 ? <i32>load<f64>(r3) : KEEP_ALL;
  // the record's parameters splatted: cuts (KEEP_BAND) or k0, k1, bound (KEEP_DARE), scale, keep-all flag
  const a0 = paramA(k0, r0), b0 = paramB(k0, r0), c0 = paramC(k0, r0), s0 = scaleOf(k0, r0), all0 = keepsAll(k0, r0);
  const a1 = paramA(k1, r1), b1 = paramB(k1, r1), c1 = paramC(k1, r1), s1 = scaleOf(k1, r1), all1 = keepsAll(k1, r1);
  const a2 = paramA(k2, r2), b2 = paramB(k2, r2), c2 = paramC(k2, r2), s2 = scaleOf(k2, r2), all2 = keepsAll(k2, r2);
  const a3 = paramA(k3, r3), b3 = paramB(k3, r3), c3 = paramC(k3, r3), s3 = scaleOf(k3, r3), all3 = keepsAll(k3, r3);
  const w0 = f64x2.splat(load<f64>(weights));
  const w1 = f64x2.splat(count > 1 ? load<f64>(weights, 8) : 0);
  const w2 = f64x2.splat(count > 2 ? load<f64>(weights, 16) : 0);
  const w3 = f64x2.splat(count > 3 ? load<f64>(weights, 24) : 0);
  const scaled = factors != 0;
  const f0 = f64x2.splat(scaled ? load<f64>(factors) : 1);
  const f1 = f64x2.splat(scaled && count > 1 ? load<f64>(factors, 8) : 1);
  const f2 = f64x2.splat(scaled && count > 2 ? load<f64>(factors, 16) : 1);
  const f3 = f64x2.splat(scaled && count > 3 ? load<f64>(factors, 24) : 1);
  const plain = f64x2.splat(plainDivisor);
  const lambdaV = f64x2.splat(lambda);
  const agree = consensus != 0;
  const divide = normalize != 0;
  const zero = f64x2.splat(0);
  let index = i32x4.add(i32x4.splat(indexStart), i32x4(0, 1, 2, 3));
  for (let i = 0; i < n; i += 4) {
    const lanes = min(4, n - i);
    const valid = lanes == 4 ? i32x4.splat(-1) : i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(lanes));
    const b = decode4(pb, i, kind, lanes);
    const s0v = sparsify4(k0, f32x4.sub(decode4(p0, i, kind, lanes), b), a0, b0, c0, s0, all0, index, r0, valid);
    const s1v = count > 1 ? sparsify4(k1, f32x4.sub(decode4(p1, i, kind, lanes), b), a1, b1, c1, s1, all1, index, r1, valid) : zero;
    const s2v = count > 2 ? sparsify4(k2, f32x4.sub(decode4(p2, i, kind, lanes), b), a2, b2, c2, s2, all2, index, r2, valid) : zero;
    const s3v = count > 3 ? sparsify4(k3, f32x4.sub(decode4(p3, i, kind, lanes), b), a3, b3, c3, s3, all3, index, r3, valid) : zero;
    const lo = mixPair(
      f64x2.mul(w0, factored(s0v, f0, scaled)),
      count > 1 ? f64x2.mul(w1, factored(s1v, f1, scaled)) : zero,
      count > 2 ? f64x2.mul(w2, factored(s2v, f2, scaled)) : zero,
      count > 3 ? f64x2.mul(w3, factored(s3v, f3, scaled)) : zero,
      w0, w1, w2, w3, count, plain, agree, divide, lambdaV, f64x2.promote_low_f32x4(b),
    );
    const hi = mixPair(
      f64x2.mul(w0, factored(high2(s0v), f0, scaled)),
      count > 1 ? f64x2.mul(w1, factored(high2(s1v), f1, scaled)) : zero,
      count > 2 ? f64x2.mul(w2, factored(high2(s2v), f2, scaled)) : zero,
      count > 3 ? f64x2.mul(w3, factored(high2(s3v), f3, scaled)) : zero,
      w0, w1, w2, w3, count, plain, agree, divide, lambdaV, f64x2.promote_low_f32x4(high2(b)),
    );
    const merged = v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
    store4(out, i, merged, outKind, lanes);
    index = i32x4.add(index, i32x4.splat(4));
  }
}

// @ts-ignore: decorator
@inline
function paramA(kind: i32, record: usize): v128 {
  return kind == KEEP_BAND || kind == KEEP_DARE ? i32x4.splat(<i32><u32>field(record, 0)) : i32x4.splat(0);
}

// @ts-ignore: decorator
@inline
function paramB(kind: i32, record: usize): v128 {
  if (kind == KEEP_BAND) return i32x4.splat(<i32><u32>field(record, 3));
  return kind == KEEP_DARE ? i32x4.splat(<i32><u32>field(record, 1)) : i32x4.splat(0);
}

// DARE's bound: for an integer draw u, u < keepBelow ⇔ u < ceil(keepBelow) (dareKeep)
// @ts-ignore: decorator
@inline
function paramC(kind: i32, record: usize): v128 {
  if (kind != KEEP_DARE) return i32x4.splat(0);
  const ceiling = Math.ceil(field(record, 2));
  return i32x4.splat(ceiling > 4294967295.0 ? 0 : <i32><u32>ceiling);
}

// @ts-ignore: decorator
@inline
function keepsAll(kind: i32, record: usize): bool {
  return kind == KEEP_DARE && Math.ceil(field(record, 2)) > 4294967295.0;
}

// @ts-ignore: decorator
@inline
function scaleOf(kind: i32, record: usize): f64 {
  if (kind == KEEP_BAND) return field(record, 6);
  return kind == KEEP_DARE ? field(record, 3) : 1;
}

// `lanes` float32 results encoded at element i of `out`
// @ts-ignore: decorator
@inline
function store4(out: usize, i: i32, v: v128, outKind: i32, lanes: i32): void {
  if (outKind == OUT_F32) {
    const q = out + (<usize>i << 2);
    if (lanes == 4) {
      v128.store(q, v);
      return;
    }
    store<f32>(q, f32x4.extract_lane(v, 0));
    if (lanes > 1) store<f32>(q, f32x4.extract_lane(v, 1), 4);
    if (lanes > 2) store<f32>(q, f32x4.extract_lane(v, 2), 8);
    return;
  }
  const bits = outKind == OUT_BF16 ? f32x4ToBf16Bits(v) : f32x4ToF16Bits(v);
  const q = out + (<usize>i << 1);
  if (lanes == 4) {
    v128.store64_lane(q, i16x8.narrow_i32x4_u(bits, bits), 0);
    return;
  }
  store<u16>(q, <u16>i32x4.extract_lane(bits, 0));
  if (lanes > 1) store<u16>(q, <u16>i32x4.extract_lane(bits, 1), 2);
  if (lanes > 2) store<u16>(q, <u16>i32x4.extract_lane(bits, 2), 4);
}
