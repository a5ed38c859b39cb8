// taskVectorFinal: the FINAL pass of the block-wise task-vector merges (src/kernels/wasm/task-vector-passes.ts,
// issue #16) for one to four models in one per-element loop: raw bfloat16/float16/float32 blocks of the base and
// of each model → δ_j = x_j − b (float32) → the model's sparsifier (keepBand's cuts with tie numbers, DARE's
// counter-based mask, keep all, or none) with its rescale → the l1 factor → sign consensus and weighted mix in
// float64 → λ → base + mix rounded once to float32 → encoded to the output dtype. Per element the operations
// and their order are those of decodeTaskVector + keepBandAt / dareKeep + tiesCombineF64 + f32ToBf16 / f32ToF16
// (less additions of +0 that cannot change a bit, see mixPair), so the bytes are the same (merge-methods.md §0);
// no float32 block is written and read back in between.

import { exponentAllOnes, f32x4ToBf16Bits, finiteToBf16Bits } from './bits';
import { f16x4ToF32Bits, f32x4ToF16Bits } from './convert';
import { dareBound, dareKeep4, dareKeepsAll, scaleF32x4 } from './sparsify';
import { mix4F32, weighted4 } from './task-vector-mix-f32';
import { bandLoopF32, hasUpperCut, loopF32, maskNormalized, maskPlain, sameKind, unitScales, weightsAtLeast } from './task-vector-final-loops';

export const ABS: u32 = 0x7fffffff;
const IN_F32: i32 = 0;
export const IN_BF16: i32 = 1;
const IN_F16: i32 = 2;
const KEEP_ALL: i32 = 0;
export const KEEP_BAND: i32 = 1;
const KEEP_DARE: i32 = 2;
// DARE's mask as stored by the LOAD pass (assembly/dare-norms.ts): a byte per four elements
export const KEEP_MASK: i32 = 4;
// no kind known in advance (sparsify4)
const ANY: i32 = -1;
const OUT_F32: i32 = 0;
export const OUT_BF16: i32 = 1;
// a model's record: 9 float64 (kind, then KEEP_BAND: low, lowFirst, lowLast, high, highFirst, highLast, scale,
// address of the i32 pair of tie numbers; KEEP_DARE: k0, k1, keepBelow, scale)
export const RECORD_BYTES: usize = 72;
// a model's constants in the work table: splatted parameters A, B, C, weight and l1 factor pairs, scale, flags
export const MODEL_BYTES: usize = 128;
export const A: usize = 0;
export const B: usize = 16;
const C: usize = 32;
const W: usize = 48;
const F: usize = 64;
export const SCALE: usize = 80;
const ALL: usize = 88;
export const KIND: usize = 92;
// KEEP_MASK: byte address of the mask of the tensor's element 0 (after the float32 weight W32 at 96)
const MASK: usize = 112;
const PLAIN: usize = 4 * MODEL_BYTES;
const LAMBDA: usize = 4 * MODEL_BYTES + 16;
// the float32 mix's splatted weight (per model), divisor and λ
export const W32: usize = 96;
export const PLAIN32: usize = 4 * MODEL_BYTES + 32;
export const LAMBDA32: usize = 4 * MODEL_BYTES + 48;

// @ts-ignore: decorator
@inline
function field(record: usize, f: i32): f64 {
  return load<f64>(record + 8 + (<usize>f << 3));
}

// `lanes` (1..4) elements of a raw block from element i as float32 lanes (the rest +0)
// @ts-ignore: decorator
@inline
export function decode4(p: usize, i: i32, kind: i32, lanes: i32): v128 {
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
export function band4(v: v128, lowV: v128, highV: v128, scale: f64, lanes: i32, valid: v128, record: usize, unit: bool): v128 {
  const a = v128.and(v, i32x4.splat(ABS));
  let inLow = i32x4.gt_s(a, lowV);
  let inHigh = i32x4.gt_s(a, highV);
  const tiedLow = lanes == 4 ? i32x4.eq(a, lowV) : v128.and(i32x4.eq(a, lowV), valid);
  const tiedHigh = lanes == 4 ? i32x4.eq(a, highV) : v128.and(i32x4.eq(a, highV), valid);
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
  return v128.and(!unit && scale != 1.0 ? scaleF32x4(v, scale) : v, v128.andnot(inLow, inHigh));
}

// model j's sparsified δ for four elements (global indices in `index`), its constants at m: the splatted low
// and high cuts (KEEP_BAND) or k0, k1 and the draw bound (KEEP_DARE), the scale, the keep-all flag. `fixed`:
// every model's kind when a specialised loop knows it (else ANY: read per group), `unit`: its band scales are 1
// @ts-ignore: decorator
@inline
function sparsify4(v: v128, m: usize, index: v128, record: usize, lanes: i32, valid: v128, fixed: i32, unit: bool): v128 {
  const kind = fixed != ANY ? fixed : load<i32>(m, KIND);
  if (kind == KEEP_ALL) return v;
  const scale = load<f64>(m, SCALE);
  if (kind == KEEP_BAND) return band4(v, v128.load(m, A), v128.load(m, B), scale, lanes, valid, record, unit);
  if (kind == KEEP_MASK) {
    // the byte of the group: record field 0 is the mask of the tensor's element 0, lanes are multiples of 4
    const byte = <i32>load<u8>(<usize>load<u32>(m, MASK) + (<usize>i32x4.extract_lane(index, 0) >>> 2));
    const keep = i32x4.ne(v128.and(i32x4.splat(byte), i32x4(1, 2, 4, 8)), i32x4.splat(0));
    return v128.and(scale != 1.0 ? scaleF32x4(v, scale) : v, keep);
  }
  if (kind == KEEP_DARE) {
    const keep = dareKeep4(index, v128.load(m, A), v128.load(m, B), v128.load(m, C), load<i32>(m, ALL) != 0);
    return v128.and(scale != 1.0 ? scaleF32x4(v, scale) : v, keep);
  }
  return f32x4.splat(0);
}

// tiesCombineUpTo4's step for one pair: d_j = w_j·δ_j already formed (w_j at work + j·MODEL_BYTES + W);
// returns b + λ·mix as float64 lanes
// @ts-ignore: decorator
@inline
function mixPair(d0: v128, d1: v128, d2: v128, d3: v128, work: usize, count: i32, consensus: bool, normalize: bool, b: v128): v128 {
  const zero = f64x2.splat(0);
  // with consensus the total only decides the sign (+0 + d0 and d0 differ only as ±0, both ≥ 0); without it, it is
  // the mix, summed from +0 as tiesCombineF64 does
  let total = consensus ? d0 : f64x2.add(zero, d0);
  if (count > 1) total = f64x2.add(total, d1);
  if (count > 2) total = f64x2.add(total, d2);
  if (count > 3) total = f64x2.add(total, d3);
  let mixed = total;
  let divisor = v128.load(work, PLAIN);
  if (consensus) {
    const positive = f64x2.ge(total, zero);
    const a0 = v128.bitselect(f64x2.gt(d0, zero), f64x2.lt(d0, zero), positive);
    // +0 + x is x here: an agreeing d0 is non-zero, a disagreeing one (or a zero weight's) +0
    mixed = v128.and(d0, a0);
    divisor = v128.and(v128.load(work, W), a0);
    if (count > 1) {
      const a1 = v128.bitselect(f64x2.gt(d1, zero), f64x2.lt(d1, zero), positive);
      mixed = f64x2.add(mixed, v128.and(d1, a1));
      divisor = f64x2.add(divisor, v128.and(v128.load(work, MODEL_BYTES + W), a1));
    }
    if (count > 2) {
      const a2 = v128.bitselect(f64x2.gt(d2, zero), f64x2.lt(d2, zero), positive);
      mixed = f64x2.add(mixed, v128.and(d2, a2));
      divisor = f64x2.add(divisor, v128.and(v128.load(work, 2 * MODEL_BYTES + W), a2));
    }
    if (count > 3) {
      const a3 = v128.bitselect(f64x2.gt(d3, zero), f64x2.lt(d3, zero), positive);
      mixed = f64x2.add(mixed, v128.and(d3, a3));
      divisor = f64x2.add(divisor, v128.and(v128.load(work, 3 * MODEL_BYTES + W), a3));
    }
    divisor = v128.bitselect(f64x2.splat(1), divisor, f64x2.lt(f64x2.abs(divisor), f64x2.splat(1e-8)));
  }
  return f64x2.add(b, f64x2.mul(v128.load(work, LAMBDA), normalize ? f64x2.div(mixed, divisor) : mixed));
}

// w_j·δ_j for the pair in the low lanes of s (model j's constants at m), δ times the l1 factor rounded to float32
// when there is one
// @ts-ignore: decorator
@inline
function weighted(s: v128, m: usize, scaled: bool): v128 {
  let d = f64x2.promote_low_f32x4(s);
  if (scaled) d = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(d, v128.load(m, F))));
  return f64x2.mul(v128.load(m, W), d);
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
 * block (OUT_F32 / OUT_BF16 / OUT_F16) at `out`. count is 1..4; `work` (4·MODEL_BYTES + 32 bytes, this thread's)
 * holds the splatted per-model constants, which the loop reads from memory: kept in registers they would not
 * fit x64's sixteen vector registers and spill anyway.
 */
export function taskVectorFinal(
  raws: usize, n: i32, kind: i32, indexStart: u32, records: usize, count: i32,
  weights: usize, factors: usize, plainDivisor: f64, lambda: f64, consensus: i32, normalize: i32,
  outKind: i32, out: usize, work: usize, float32: i32, status: usize,
): void {
  const scaled = factors != 0;
  for (let j = 0; j < 4; j++) {
    const m = work + <usize>j * MODEL_BYTES;
    const record = records + <usize>j * RECORD_BYTES;
    const modelKind = j < count ? <i32>load<f64>(record) : KEEP_ALL;
    v128.store(m, paramA(modelKind, record), A);
    v128.store(m, paramB(modelKind, record), B);
    v128.store(m, paramC(modelKind, record), C);
    v128.store(m, f64x2.splat(j < count ? load<f64>(weights + (<usize>j << 3)) : 0), W);
    v128.store(m, f64x2.splat(scaled && j < count ? load<f64>(factors + (<usize>j << 3)) : 1), F);
    store<f64>(m, scaleOf(modelKind, record), SCALE);
    store<i32>(m, keepsAll(modelKind, record) ? 1 : 0, ALL);
    store<i32>(m, modelKind, KIND);
    store<u32>(m, modelKind == KEEP_MASK ? <u32>field(record, 0) : 0, MASK);
    v128.store(m, f32x4.splat(j < count ? <f32>load<f64>(weights + (<usize>j << 3)) : 0), W32);
  }
  v128.store(work, f64x2.splat(plainDivisor), PLAIN);
  v128.store(work, f64x2.splat(lambda), LAMBDA);
  v128.store(work, f32x4.splat(<f32>plainDivisor), PLAIN32);
  v128.store(work, f32x4.splat(<f32>lambda), LAMBDA32);
  const pb = <usize>load<u32>(raws);
  const p0 = <usize>load<u32>(raws, 4);
  const p1 = count > 1 ? <usize>load<u32>(raws, 8) : p0;
  const p2 = count > 2 ? <usize>load<u32>(raws, 12) : p0;
  const p3 = count > 3 ? <usize>load<u32>(raws, 16) : p0;
  const agree = consensus != 0;
  const divide = normalize != 0;
  if (float32 != 0) {
    // float32 mix: a non-finite result (a float32 overflow the float64 form may not have) is flagged at `status`
    // and the caller redoes the range in float64
    // the common cases get loops with their flags as constants (task-vector-final-band.ts, maskLoopF32)
    const common = kind == IN_BF16 && outKind == OUT_BF16 && agree && weightsAtLeast(work, count, <f32>1e-8);
    let bad: v128;
    if (common && !scaled && sameKind(work, count, KEEP_BAND) && unitScales(work, count)) {
      bad = bandLoopF32(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out, hasUpperCut(work, count), divide);
    } else if (common && scaled && sameKind(work, count, KEEP_MASK)) {
      bad = divide ? maskNormalized(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out) : maskPlain(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out);
    } else bad = loopF32(n, indexStart, kind, pb, p0, p1, p2, p3, records, count, work, scaled, agree, divide, outKind, out, ANY, false, false);
    if (v128.any_true(bad)) store<i32>(status, 1);
    return;
  }
  let index = i32x4.add(i32x4.splat(indexStart), i32x4(0, 1, 2, 3));
  let i = 0;
  // whole groups with the lane count a constant (the partial-group branches fold away), then the tail
  for (; i + 4 <= n; i += 4) {
    finalGroup(i, 4, index, kind, pb, p0, p1, p2, p3, records, count, work, scaled, agree, divide, outKind, out, false, ANY, false, false);
    index = i32x4.add(index, i32x4.splat(4));
  }
  if (i < n) finalGroup(i, n - i, index, kind, pb, p0, p1, p2, p3, records, count, work, scaled, agree, divide, outKind, out, false, ANY, false, false);
}

// elements i … i + lanes − 1 (lanes ≤ 4) of taskVectorFinal, mixed in float32 (task-vector-mix-f32.ts) or float64
// (a constant at each call site, so each loop gets its own form); returns the lanes whose float32 result is not finite
// @ts-ignore: decorator
@inline
export function finalGroup(
  i: i32, lanes: i32, index: v128, kind: i32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize,
  records: usize, count: i32, work: usize, scaled: bool, agree: bool, divide: bool, outKind: i32, out: usize,
  float32: bool, fixed: i32, unit: bool, lean: bool,
): v128 {
  const zero = f64x2.splat(0);
  const valid = lanes == 4 ? i32x4.splat(-1) : i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(lanes));
  const m0 = work;
  const m1 = work + MODEL_BYTES;
  const m2 = work + 2 * MODEL_BYTES;
  const m3 = work + 3 * MODEL_BYTES;
  const b = decode4(pb, i, kind, lanes);
  const s0 = sparsify4(f32x4.sub(decode4(p0, i, kind, lanes), b), m0, index, records, lanes, valid, fixed, unit);
  const s1 = count > 1 ? sparsify4(f32x4.sub(decode4(p1, i, kind, lanes), b), m1, index, records + RECORD_BYTES, lanes, valid, fixed, unit) : zero;
  const s2 = count > 2 ? sparsify4(f32x4.sub(decode4(p2, i, kind, lanes), b), m2, index, records + 2 * RECORD_BYTES, lanes, valid, fixed, unit) : zero;
  const s3 = count > 3 ? sparsify4(f32x4.sub(decode4(p3, i, kind, lanes), b), m3, index, records + 3 * RECORD_BYTES, lanes, valid, fixed, unit) : zero;
  if (float32) {
    const w0 = v128.load(m0, W32);
    const w1 = v128.load(m1, W32);
    const w2 = v128.load(m2, W32);
    const w3 = v128.load(m3, W32);
    const d0 = weighted4(s0, w0, scaled, v128.load(m0, F));
    const d1 = count > 1 ? weighted4(s1, w1, scaled, v128.load(m1, F)) : zero;
    const d2 = count > 2 ? weighted4(s2, w2, scaled, v128.load(m2, F)) : zero;
    const d3 = count > 3 ? weighted4(s3, w3, scaled, v128.load(m3, F)) : zero;
    const mixed = mix4F32(d0, d1, d2, d3, w0, w1, w2, w3, v128.load(work, PLAIN32), v128.load(work, LAMBDA32), count, agree, divide, b, lean);
    store4(out, i, mixed, outKind, lanes, lean);
    return v128.and(exponentAllOnes(mixed), valid);
  }
  const lo = mixPair(
    weighted(s0, m0, scaled),
    count > 1 ? weighted(s1, m1, scaled) : zero,
    count > 2 ? weighted(s2, m2, scaled) : zero,
    count > 3 ? weighted(s3, m3, scaled) : zero,
    work, count, agree, divide, f64x2.promote_low_f32x4(b),
  );
  const hi = mixPair(
    weighted(high2(s0), m0, scaled),
    count > 1 ? weighted(high2(s1), m1, scaled) : zero,
    count > 2 ? weighted(high2(s2), m2, scaled) : zero,
    count > 3 ? weighted(high2(s3), m3, scaled) : zero,
    work, count, agree, divide, f64x2.promote_low_f32x4(high2(b)),
  );
  const merged = v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
  store4(out, i, merged, outKind, lanes, false);
  return zero;
}

// @ts-ignore: decorator
@inline
function paramA(kind: i32, record: usize): v128 {
  return kind == KEEP_BAND || kind == KEEP_DARE ? i32x4.splat(<i32><u32>field(record, 0)) : i32x4.splat(0);
}

// @ts-ignore: decorator
@inline
function paramB(kind: i32, record: usize): v128 {
  // no upper cut (0xffffffff) as 0x7fffffff, which no |δ| pattern exceeds or equals (δ of finite inputs is never
  // NaN), so the band's compares can be signed
  if (kind == KEEP_BAND) return i32x4.splat(<i32>min(<u32>field(record, 3), ABS));
  return kind == KEEP_DARE ? i32x4.splat(<i32><u32>field(record, 1)) : i32x4.splat(0);
}

// DARE's bound: for an integer draw u, u < keepBelow ⇔ u < ceil(keepBelow) (dareKeep)
// @ts-ignore: decorator
@inline
function paramC(kind: i32, record: usize): v128 {
  return kind == KEEP_DARE ? dareBound(field(record, 2)) : i32x4.splat(0);
}

// @ts-ignore: decorator
@inline
function keepsAll(kind: i32, record: usize): bool {
  return kind == KEEP_DARE && dareKeepsAll(field(record, 2));
}

// @ts-ignore: decorator
@inline
function scaleOf(kind: i32, record: usize): f64 {
  if (kind == KEEP_BAND) return field(record, 6);
  return kind == KEEP_DARE || kind == KEEP_MASK ? field(record, 3) : 1;
}

// `lanes` float32 results encoded at element i of `out`
// @ts-ignore: decorator
@inline
function store4(out: usize, i: i32, v: v128, outKind: i32, lanes: i32, finite: bool): void {
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
  const bits = outKind == OUT_BF16 ? (finite ? finiteToBf16Bits(v) : f32x4ToBf16Bits(v)) : f32x4ToF16Bits(v);
  const q = out + (<usize>i << 1);
  if (lanes == 4) {
    v128.store64_lane(q, i16x8.narrow_i32x4_u(bits, bits), 0);
    return;
  }
  store<u16>(q, <u16>i32x4.extract_lane(bits, 0));
  if (lanes > 1) store<u16>(q, <u16>i32x4.extract_lane(bits, 1), 2);
  if (lanes > 2) store<u16>(q, <u16>i32x4.extract_lane(bits, 2), 4);
}
