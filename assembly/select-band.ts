// deltaBand: the bracketed first step of a task-vector top-k select (src/merge/fused-cut-bands.ts). A sample
// brackets the cut's |δ| bit pattern in a band [lo, hi]; one pass then counts the entries above the band (a SIMD
// compare, no scattered increments) and gathers the patterns inside it, in index order. The exact cut is then
// selected among the few gathered patterns, so no second read of the inputs is needed (issue #16).

import { absHistogramPrefix } from './sparsify';

const ABS: u32 = 0x7fffffff;
const BF16: i32 = 1;

// record (4 × u32, kept across a worker's blocks): entries above hi, entries gathered (also past the capacity),
// capacity, byte address of the gathered patterns (capacity + 4 slots: stores past the capacity land in the spares)
const ABOVE: usize = 0;
const COUNT: usize = 4;
const CAPACITY: usize = 8;
const BUFFER: usize = 12;

// @ts-ignore: decorator
@inline
function push(buffer: usize, count: u32, capacity: u32, bits: u32): void {
  store<u32>(buffer + (<usize>min(count, capacity) << 2), bits);
}

// byte shuffles that move the lanes selected by a 4-bit mask to the front, in lane order (16 × 16 bytes)
export const COMPACT: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0,
  8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0,
  12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0,
  8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
]);

// the splatted constants deltaBand keeps in the caller's scratch (V8 rematerialises a v128 constant or splat
// at every use inside a loop, 2–3 instructions each; a load from memory folds into the compare)
const K_ABS: usize = 0;
const K_LO: usize = 16;
const K_HI: usize = 32;
const K_LO1: usize = 48;
const K_HI1: usize = 64;
/** bytes of deltaBand's scratch */
export const DELTA_BAND_SCRATCH: i32 = 80;
// how x and base are given: δ already formed (base 0), bfloat16 or float32 inputs
const GIVEN: i32 = 0;
const FROM_BF16: i32 = 1;
const FROM_F32: i32 = 2;

/**
 * For δ = x − base (float32, one rounding, as decodeTaskVector) of n bfloat16 (kind 1) or float32 (kind 0)
 * elements: adds to the record the count of |δ| bit patterns > hi and appends the patterns in [lo, hi] (in
 * index order); with record1 ≠ 0 the same for a second band of the same δ (Breadcrumbs' two cuts), so δ is
 * formed once. Stores 1 at `status` when δ is not finite: x or base holds NaN/±Inf (or their difference exceeds
 * float32; the caller's reference path handles both). With base = 0, x holds float32 δ already (decoded float16
 * inputs; their status was set by the decode). `scratch`: DELTA_BAND_SCRATCH bytes of the calling thread's own.
 */
export function deltaBand(
  raw: usize, base: usize, n: i32, kind: i32, status: usize,
  lo: u32, hi: u32, record: usize,
  lo1: u32, hi1: u32, record1: usize, scratch: usize,
): void {
  // |δ| ≤ 0x7fffffff, so the band tests can be signed compares (one instruction each, unsigned ones take three):
  // |δ| ≥ lo ⇔ |δ| > lo − 1 and |δ| > hi with both clamped to 0x7fffffff
  v128.store(scratch, i32x4.splat(ABS), K_ABS);
  v128.store(scratch, i32x4.splat(<i32>min(lo, ABS) - (lo > ABS ? 0 : 1)), K_LO);
  v128.store(scratch, i32x4.splat(<i32>min(hi, ABS)), K_HI);
  v128.store(scratch, i32x4.splat(<i32>min(lo1, ABS) - (lo1 > ABS ? 0 : 1)), K_LO1);
  v128.store(scratch, i32x4.splat(<i32>min(hi1, ABS)), K_HI1);
  const inputs = base == 0 ? GIVEN : kind == BF16 ? FROM_BF16 : FROM_F32;
  // one loop per input form and band count, each with its tests folded away
  let bad = false;
  if (record1 == 0) {
    if (inputs == GIVEN) bandLoop(raw, base, n, scratch, lo, hi, record, lo1, hi1, record1, GIVEN, false);
    else if (inputs == FROM_BF16) bad = bandLoop(raw, base, n, scratch, lo, hi, record, lo1, hi1, record1, FROM_BF16, false);
    else bad = bandLoop(raw, base, n, scratch, lo, hi, record, lo1, hi1, record1, FROM_F32, false);
  } else {
    if (inputs == GIVEN) bandLoop(raw, base, n, scratch, lo, hi, record, lo1, hi1, record1, GIVEN, true);
    else if (inputs == FROM_BF16) bad = bandLoop(raw, base, n, scratch, lo, hi, record, lo1, hi1, record1, FROM_BF16, true);
    else bad = bandLoop(raw, base, n, scratch, lo, hi, record, lo1, hi1, record1, FROM_F32, true);
  }
  if (bad) store<i32>(status, 1);
}

// deltaBand's loop: four lanes at a time, then the last n % 4 elements one by one; returns whether a |δ| was
// NaN/±Inf
// @ts-ignore: decorator
@inline
function bandLoop(
  raw: usize, base: usize, n: i32, scratch: usize,
  lo: u32, hi: u32, record: usize, lo1: u32, hi1: u32, record1: usize, inputs: i32, two: bool,
): bool {
  const buffer = <usize>load<u32>(record + BUFFER);
  const capacity = load<u32>(record + CAPACITY);
  let count = load<u32>(record + COUNT);
  const buffer1 = two ? <usize>load<u32>(record1 + BUFFER) : 0;
  const capacity1 = two ? load<u32>(record1 + CAPACITY) : 0;
  let count1 = two ? load<u32>(record1 + COUNT) : 0;
  let aboveV = i32x4.splat(0);
  let aboveV1 = i32x4.splat(0);
  // the largest |δ|: NaN or ±Inf in x or base makes δ NaN or ±Inf, |δ| ≥ 0x7f800000
  let largest = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let a: v128;
    if (inputs == GIVEN) a = v128.and(v128.load(raw + (<usize>i << 2)), v128.load(scratch, K_ABS));
    else {
      const x = inputs == FROM_BF16 ? i32x4.shl(v128.load16x4_u(raw + (<usize>i << 1)), 16) : v128.load(raw + (<usize>i << 2));
      const b = inputs == FROM_BF16 ? i32x4.shl(v128.load16x4_u(base + (<usize>i << 1)), 16) : v128.load(base + (<usize>i << 2));
      a = v128.and(f32x4.sub(x, b), v128.load(scratch, K_ABS));
      largest = i32x4.max_s(largest, a);
    }
    // branch-free compaction: the lanes inside the band moved to the front, stored at once (4 slots written,
    // `count` advanced by those inside): a branch would mispredict on the bands' few percent
    const above = i32x4.gt_s(a, v128.load(scratch, K_HI));
    aboveV = i32x4.sub(aboveV, above);
    const mask = i32x4.bitmask(v128.andnot(i32x4.gt_s(a, v128.load(scratch, K_LO)), above));
    v128.store(buffer + (<usize>min(count, capacity) << 2), i8x16.swizzle(a, v128.load(COMPACT + (<usize>mask << 4))));
    count += <u32>popcnt(mask);
    if (two) {
      const above1 = i32x4.gt_s(a, v128.load(scratch, K_HI1));
      aboveV1 = i32x4.sub(aboveV1, above1);
      const mask1 = i32x4.bitmask(v128.andnot(i32x4.gt_s(a, v128.load(scratch, K_LO1)), above1));
      v128.store(buffer1 + (<usize>min(count1, capacity1) << 2), i8x16.swizzle(a, v128.load(COMPACT + (<usize>mask1 << 4))));
      count1 += <u32>popcnt(mask1);
    }
  }
  let above = lanesSum(aboveV);
  let above1 = lanesSum(aboveV1);
  let bad = v128.any_true(i32x4.ge_s(largest, i32x4.splat(0x7f800000)));
  for (; i < n; i++) {
    let bits: u32;
    if (inputs == GIVEN) bits = load<u32>(raw + (<usize>i << 2)) & ABS;
    else {
      const x = inputs == FROM_BF16 ? reinterpret<f32>(<u32>load<u16>(raw + (<usize>i << 1)) << 16) : load<f32>(raw + (<usize>i << 2));
      const b = inputs == FROM_BF16 ? reinterpret<f32>(<u32>load<u16>(base + (<usize>i << 1)) << 16) : load<f32>(base + (<usize>i << 2));
      bits = reinterpret<u32>(x - b) & ABS;
      if (bits >= 0x7f800000) bad = true;
    }
    if (bits > hi) above++;
    else if (bits >= lo) {
      push(buffer, count, capacity, bits);
      count++;
    }
    if (!two) continue;
    if (bits > hi1) above1++;
    else if (bits >= lo1) {
      push(buffer1, count1, capacity1, bits);
      count1++;
    }
  }
  store<u32>(record + ABOVE, load<u32>(record + ABOVE) + above);
  store<u32>(record + COUNT, count);
  if (two) {
    store<u32>(record1 + ABOVE, load<u32>(record1 + ABOVE) + above1);
    store<u32>(record1 + COUNT, count1);
  }
  return bad;
}

// @ts-ignore: decorator
@inline
function lanesSum(v: v128): u32 {
  return <u32>(i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

/**
 * absHistogramPrefix for `count` jobs of 7 u32 each at `table` (x, n, prefixShift, prefix, shift, mask, hist): one
 * worker call for every cut of a range (src/merge/fused-cut-bands.ts `resolve`) instead of one call per cut.
 */
export function absHistogramPrefixMany(table: usize, count: i32): void {
  for (let c = 0; c < count; c++) {
    const at = table + <usize>c * 28;
    absHistogramPrefix(load<u32>(at), load<i32>(at, 4), load<i32>(at, 8), load<u32>(at, 12), load<i32>(at, 16), load<u32>(at, 20), load<u32>(at, 24));
  }
}
