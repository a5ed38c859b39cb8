// The FINAL kernel's float32 loops (assembly/task-vector-final.ts, issue #16). The general one (loopF32) tests its
// flags per group of four; the common cases get loops with every flag a constant: dare_ties' masks (maskNormalized,
// maskPlain) and, with a group step of its own, ties and breadcrumbs_ties (bandLoopF32): bfloat16 models into a
// bfloat16 output, every model kept by a band with scale 1 and every weight ≥ 1e-8. Same bytes as the general
// loop (finalGroup); the band loop does less per element:
// - the count of models, the upper cut's presence and every flag are constants, one loop per combination;
// - the cuts' tie test is one branch for all models (a tie at a cut is rare), not one per model;
// - the bfloat16 encoding skips NaN: a result that is not finite makes the caller redo the tensor in float64,
//   so these lanes are never written out;
// - positive weights let mix4F32 use a max for its divisor floor.
// Ties on three bfloat16 models, one thread, real blocks of the 22-layer bench family: 3.75 → 1.93–2.07 ns per
// element (flags as constants alone: 3.38).

import { band4, decode4, finalGroup, MODEL_BYTES, RECORD_BYTES, A, B, W32, PLAIN32, LAMBDA32, IN_BF16, OUT_BF16, KEEP_BAND, KEEP_MASK, KIND, SCALE, ABS } from './task-vector-final';
import { mix4F32 } from './task-vector-mix-f32';
import { finiteToBf16Bits } from './bits';


// v's lanes whose |v| bits (a) are above the low cut and, with an upper cut, not above it; the others +0
// @ts-ignore: decorator
@inline
function keepInBand(v: v128, a: v128, low: v128, high: v128, upper: bool): v128 {
  let keep = i32x4.gt_s(a, low);
  if (upper) keep = v128.andnot(keep, i32x4.gt_s(a, high));
  return v128.and(v, keep);
}

// the lanes of a model (δ in v) that equal one of its cuts
// @ts-ignore: decorator
@inline
function tiedLanes(a: v128, low: v128, high: v128, upper: bool): v128 {
  const tied = i32x4.eq(a, low);
  return upper ? v128.or(tied, i32x4.eq(a, high)) : tied;
}

// four elements from element i; returns |result| bits, whose maximum tells whether a result was not finite
// @ts-ignore: decorator
@inline
function bandGroup(i: i32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize, upper: bool, divide: bool): v128 {
  const zero = f32x4.splat(0);
  const abs = i32x4.splat(ABS);
  const m1 = work + MODEL_BYTES;
  const m2 = work + 2 * MODEL_BYTES;
  const m3 = work + 3 * MODEL_BYTES;
  const b = decode4(pb, i, IN_BF16, 4);
  const v0 = f32x4.sub(decode4(p0, i, IN_BF16, 4), b);
  const v1 = count > 1 ? f32x4.sub(decode4(p1, i, IN_BF16, 4), b) : zero;
  const v2 = count > 2 ? f32x4.sub(decode4(p2, i, IN_BF16, 4), b) : zero;
  const v3 = count > 3 ? f32x4.sub(decode4(p3, i, IN_BF16, 4), b) : zero;
  const a0 = v128.and(v0, abs);
  const a1 = v128.and(v1, abs);
  const a2 = v128.and(v2, abs);
  const a3 = v128.and(v3, abs);
  let tied = tiedLanes(a0, v128.load(work, A), v128.load(work, B), upper);
  if (count > 1) tied = v128.or(tied, tiedLanes(a1, v128.load(m1, A), v128.load(m1, B), upper));
  if (count > 2) tied = v128.or(tied, tiedLanes(a2, v128.load(m2, A), v128.load(m2, B), upper));
  if (count > 3) tied = v128.or(tied, tiedLanes(a3, v128.load(m3, A), v128.load(m3, B), upper));
  let s0: v128, s1 = zero, s2 = zero, s3 = zero;
  if (v128.any_true(tied)) {
    // a lane at a cut: band4 numbers the ties of each model in index order
    const all = i32x4.splat(-1);
    s0 = band4(v0, v128.load(work, A), v128.load(work, B), 1, 4, all, records, true);
    if (count > 1) s1 = band4(v1, v128.load(m1, A), v128.load(m1, B), 1, 4, all, records + RECORD_BYTES, true);
    if (count > 2) s2 = band4(v2, v128.load(m2, A), v128.load(m2, B), 1, 4, all, records + 2 * RECORD_BYTES, true);
    if (count > 3) s3 = band4(v3, v128.load(m3, A), v128.load(m3, B), 1, 4, all, records + 3 * RECORD_BYTES, true);
  } else {
    s0 = keepInBand(v0, a0, v128.load(work, A), v128.load(work, B), upper);
    if (count > 1) s1 = keepInBand(v1, a1, v128.load(m1, A), v128.load(m1, B), upper);
    if (count > 2) s2 = keepInBand(v2, a2, v128.load(m2, A), v128.load(m2, B), upper);
    if (count > 3) s3 = keepInBand(v3, a3, v128.load(m3, A), v128.load(m3, B), upper);
  }
  const w0 = v128.load(work, W32);
  const w1 = v128.load(m1, W32);
  const w2 = v128.load(m2, W32);
  const w3 = v128.load(m3, W32);
  const d0 = f32x4.mul(w0, s0);
  const d1 = count > 1 ? f32x4.mul(w1, s1) : zero;
  const d2 = count > 2 ? f32x4.mul(w2, s2) : zero;
  const d3 = count > 3 ? f32x4.mul(w3, s3) : zero;
  const mixed = mix4F32(d0, d1, d2, d3, w0, w1, w2, w3, v128.load(work, PLAIN32), v128.load(work, LAMBDA32), count, true, divide, b, true);
  const bits = finiteToBf16Bits(mixed);
  v128.store64_lane(out + (<usize>i << 1), i16x8.narrow_i32x4_u(bits, bits), 0);
  return v128.and(mixed, abs);
}

// the loop for one count and upper-cut form; the last n % 4 elements through finalGroup
// @ts-ignore: decorator
@inline
function bandLoop(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize, upper: bool, divide: bool): v128 {
  let largest = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) largest = i32x4.max_u(largest, bandGroup(i, pb, p0, p1, p2, p3, records, count, work, out, upper, divide));
  let bad = i32x4.ge_u(largest, i32x4.splat(0x7f800000));
  if (i < n) {
    const index = i32x4.add(i32x4.splat(indexStart + <u32>i), i32x4(0, 1, 2, 3));
    bad = v128.or(bad, finalGroup(i, n - i, index, IN_BF16, pb, p0, p1, p2, p3, records, count, work, false, true, divide, OUT_BF16, out, true, KEEP_BAND, true, true));
  }
  return bad;
}

// one loop per model count for one cut form and one normalize flag
// @ts-ignore: decorator
@inline
function bandLoops(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize, upper: bool, divide: bool): v128 {
  if (count == 1) return bandLoop(n, indexStart, pb, p0, p1, p2, p3, records, 1, work, out, upper, divide);
  if (count == 2) return bandLoop(n, indexStart, pb, p0, p1, p2, p3, records, 2, work, out, upper, divide);
  if (count == 3) return bandLoop(n, indexStart, pb, p0, p1, p2, p3, records, 3, work, out, upper, divide);
  return bandLoop(n, indexStart, pb, p0, p1, p2, p3, records, 4, work, out, upper, divide);
}

/**
 * taskVectorFinal's float32 loop for bands of scale 1 and weights ≥ 1e-8 (see the header), `upper`: some model
 * has an upper cut (breadcrumbs), `divide`: normalize. Returns the lanes that are not finite.
 */
export function bandLoopF32(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize, upper: bool, divide: bool): v128 {
  if (upper) return divide ? upperNormalized(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out) : upperPlain(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out);
  return divide ? lowNormalized(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out) : lowPlain(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out);
}

// four functions, not one: V8 compiles each optimised form separately and sooner (a merge runs on the baseline
// compiler's code until then)
function upperNormalized(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize): v128 {
  return bandLoops(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out, true, true);
}

function upperPlain(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize): v128 {
  return bandLoops(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out, true, false);
}

function lowNormalized(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize): v128 {
  return bandLoops(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out, false, true);
}

function lowPlain(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize): v128 {
  return bandLoops(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out, false, false);
}

// The float32 loop over n elements; `fixed` / `unit` as in sparsify4, `lean`: weights ≥ 1e-8 (mix4F32's
// `positive`) and the bfloat16 encoding without NaN. With every flag a constant at the call site (maskLoopF32, the
// band loop's tail) no per-group test of a flag, a count or a kind is left in the loop.
// @ts-ignore: decorator
@inline
export function loopF32(
  n: i32, indexStart: u32, kind: i32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize,
  count: i32, work: usize, scaled: bool, agree: bool, divide: bool, outKind: i32, out: usize, fixed: i32, unit: bool,
  lean: bool,
): v128 {
  let index = i32x4.add(i32x4.splat(indexStart), i32x4(0, 1, 2, 3));
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    bad = v128.or(bad, finalGroup(i, 4, index, kind, pb, p0, p1, p2, p3, records, count, work, scaled, agree, divide, outKind, out, true, fixed, unit, lean));
    index = i32x4.add(index, i32x4.splat(4));
  }
  if (i < n) bad = v128.or(bad, finalGroup(i, n - i, index, kind, pb, p0, p1, p2, p3, records, count, work, scaled, agree, divide, outKind, out, true, fixed, unit, lean));
  return bad;
}

// dare_ties on bfloat16 with weights ≥ 1e-8: every model's DARE mask from the LOAD pass and its l1 factor, one loop
// per count
// @ts-ignore: decorator
@inline
function maskLoopF32(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize, divide: bool): v128 {
  if (count == 1) return loopF32(n, indexStart, IN_BF16, pb, p0, p1, p2, p3, records, 1, work, true, true, divide, OUT_BF16, out, KEEP_MASK, false, true);
  if (count == 2) return loopF32(n, indexStart, IN_BF16, pb, p0, p1, p2, p3, records, 2, work, true, true, divide, OUT_BF16, out, KEEP_MASK, false, true);
  if (count == 3) return loopF32(n, indexStart, IN_BF16, pb, p0, p1, p2, p3, records, 3, work, true, true, divide, OUT_BF16, out, KEEP_MASK, false, true);
  return loopF32(n, indexStart, IN_BF16, pb, p0, p1, p2, p3, records, 4, work, true, true, divide, OUT_BF16, out, KEEP_MASK, false, true);
}

// separate functions, so V8 compiles each optimised form sooner (task-vector-final-band.ts); a mask comes with
// l1 factors (it is kept by the LOAD pass only for the l1 rescale)
export function maskNormalized(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize): v128 {
  return maskLoopF32(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out, true);
}

export function maskPlain(n: i32, indexStart: u32, pb: usize, p0: usize, p1: usize, p2: usize, p3: usize, records: usize, count: i32, work: usize, out: usize): v128 {
  return maskLoopF32(n, indexStart, pb, p0, p1, p2, p3, records, count, work, out, false);
}

// every one of the count models' kind (work table) is `kind`
// @ts-ignore: decorator
@inline
export function sameKind(work: usize, count: i32, kind: i32): bool {
  for (let j = 0; j < count; j++) if (load<i32>(work + <usize>j * MODEL_BYTES, KIND) != kind) return false;
  return true;
}

// every one of the count models' float32 weight is at least `least`
// @ts-ignore: decorator
@inline
export function weightsAtLeast(work: usize, count: i32, least: f32): bool {
  for (let j = 0; j < count; j++) if (!(load<f32>(work + <usize>j * MODEL_BYTES, W32) >= least)) return false;
  return true;
}

// some one of the count models' bands has an upper cut (paramB below 0x7fffffff)
// @ts-ignore: decorator
@inline
export function hasUpperCut(work: usize, count: i32): bool {
  for (let j = 0; j < count; j++) if (load<i32>(work + <usize>j * MODEL_BYTES, B) != <i32>ABS) return true;
  return false;
}

// every one of the count models' scale is 1
// @ts-ignore: decorator
@inline
export function unitScales(work: usize, count: i32): bool {
  for (let j = 0; j < count; j++) if (load<f64>(work + <usize>j * MODEL_BYTES, SCALE) != 1.0) return false;
  return true;
}
