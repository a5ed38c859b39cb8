// deltaBand: the bracketed first step of a task-vector top-k select (src/merge/fused-cut-bands.ts). A sample
// brackets the cut's |δ| bit pattern in a band [lo, hi]; one pass then counts the entries above the band (a SIMD
// compare, no scattered increments) and gathers the patterns inside it, in index order. The exact cut is then
// selected among the few gathered patterns, so no second read of the inputs is needed (issue #16).

import { exponentAllOnes } from './bits';
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
const COMPACT: usize = memory.data<u8>([
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

/**
 * For δ = x − base (float32, one rounding, as decodeTaskVector) of n bfloat16 (kind 1) or float32 (kind 0)
 * elements: adds to the record the count of |δ| bit patterns > hi and appends the patterns in [lo, hi] (in
 * index order); with record1 ≠ 0 the same for a second band of the same δ (Breadcrumbs' two cuts), so δ is
 * formed once. Stores 1 at `status` when x or base holds NaN/±Inf. With base = 0, x holds float32 δ already
 * (decoded float16 inputs; their status was set by the decode).
 */
export function deltaBand(
  raw: usize, base: usize, n: i32, kind: i32, status: usize,
  lo: u32, hi: u32, record: usize,
  lo1: u32, hi1: u32, record1: usize,
): void {
  const bf16 = kind == BF16 && base != 0;
  const two = record1 != 0;
  const loV = i32x4.splat(lo);
  const hiV = i32x4.splat(hi);
  const loV1 = i32x4.splat(lo1);
  const hiV1 = i32x4.splat(hi1);
  const buffer = <usize>load<u32>(record + BUFFER);
  const capacity = load<u32>(record + CAPACITY);
  let count = load<u32>(record + COUNT);
  const buffer1 = two ? <usize>load<u32>(record1 + BUFFER) : 0;
  const capacity1 = two ? load<u32>(record1 + CAPACITY) : 0;
  let count1 = two ? load<u32>(record1 + COUNT) : 0;
  let aboveV = i32x4.splat(0);
  let aboveV1 = i32x4.splat(0);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let a: v128;
    if (base == 0) a = v128.and(v128.load(raw + (<usize>i << 2)), i32x4.splat(ABS));
    else {
      const x = bf16 ? i32x4.shl(v128.load16x4_u(raw + (<usize>i << 1)), 16) : v128.load(raw + (<usize>i << 2));
      const b = bf16 ? i32x4.shl(v128.load16x4_u(base + (<usize>i << 1)), 16) : v128.load(base + (<usize>i << 2));
      bad = v128.or(bad, v128.or(exponentAllOnes(x), exponentAllOnes(b)));
      a = v128.and(f32x4.sub(x, b), i32x4.splat(ABS));
    }
    // branch-free compaction: the lanes inside the band moved to the front, stored at once (4 slots written,
    // `count` advanced by those inside): a branch would mispredict on the bands' few percent
    const above = i32x4.gt_u(a, hiV);
    aboveV = i32x4.sub(aboveV, above);
    const mask = i32x4.bitmask(v128.andnot(i32x4.ge_u(a, loV), above));
    v128.store(buffer + (<usize>min(count, capacity) << 2), i8x16.swizzle(a, v128.load(COMPACT + (<usize>mask << 4))));
    count += <u32>popcnt(mask);
    if (two) {
      const above1 = i32x4.gt_u(a, hiV1);
      aboveV1 = i32x4.sub(aboveV1, above1);
      const mask1 = i32x4.bitmask(v128.andnot(i32x4.ge_u(a, loV1), above1));
      v128.store(buffer1 + (<usize>min(count1, capacity1) << 2), i8x16.swizzle(a, v128.load(COMPACT + (<usize>mask1 << 4))));
      count1 += <u32>popcnt(mask1);
    }
  }
  let above: u32 = 0;
  let above1: u32 = 0;
  for (; i < n; i++) {
    let bits: u32;
    if (base == 0) bits = load<u32>(raw + (<usize>i << 2)) & ABS;
    else {
      const x = bf16 ? reinterpret<f32>(<u32>load<u16>(raw + (<usize>i << 1)) << 16) : load<f32>(raw + (<usize>i << 2));
      const b = bf16 ? reinterpret<f32>(<u32>load<u16>(base + (<usize>i << 1)) << 16) : load<f32>(base + (<usize>i << 2));
      if ((reinterpret<u32>(x) & 0x7f800000) == 0x7f800000 || (reinterpret<u32>(b) & 0x7f800000) == 0x7f800000) store<i32>(status, 1);
      bits = reinterpret<u32>(x - b) & ABS;
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
  if (v128.any_true(bad)) store<i32>(status, 1);
  store<u32>(record + ABOVE, load<u32>(record + ABOVE) + above + lanesSum(aboveV));
  store<u32>(record + COUNT, count);
  if (two) {
    store<u32>(record1 + ABOVE, load<u32>(record1 + ABOVE) + above1 + lanesSum(aboveV1));
    store<u32>(record1 + COUNT, count1);
  }
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
