// deltaBands: select-band.ts `deltaBand` for the one band of each of up to four models in one loop (issue #16's
// ties LOAD pass): the base block is decoded once for all of them, not once per model, and one loop runs instead
// of one per model. Same counts, same gathered patterns in the same order, same status as one deltaBand call per
// band. Real bfloat16 blocks of the bench family, three models, one thread: 1.55 → 1.26–1.30 ns per element.

import { COMPACT } from './select-band';

const ABS: u32 = 0x7fffffff;
const BF16: i32 = 1;
// a band's fields in the table: raw block of its model, lo, hi, record (deltaBand's record layout)
const BAND_BYTES: usize = 16;
// deltaBand's record fields
const ABOVE: usize = 0;
const COUNT: usize = 4;
const CAPACITY: usize = 8;
const BUFFER: usize = 12;
// the scratch: band j's splatted lo − 1 at 32·j and hi at 32·j + 16, then the |x| mask
const K_ABS: usize = 128;
/** bytes of deltaBands' scratch */
export const DELTA_BANDS_SCRATCH: i32 = 144;

/**
 * For `count` (1..4) bands, each of one model's δ = x − base (float32, one rounding) over n bfloat16 (kind 1) or
 * float32 (kind 0) elements, table: per band its model's raw block, lo, hi and deltaBand record (u32 each); adds
 * to each record the count of |δ| patterns above hi and appends those in [lo, hi] in index order, as deltaBand
 * does. Stores 1 at `status` when a δ is not finite. `scratch`: DELTA_BANDS_SCRATCH bytes of the thread's own.
 */
export function deltaBands(base: usize, n: i32, kind: i32, status: usize, table: usize, count: i32, scratch: usize): void {
  for (let j = 0; j < count; j++) {
    const lo = load<u32>(table + <usize>j * BAND_BYTES, 4);
    const hi = load<u32>(table + <usize>j * BAND_BYTES, 8);
    // signed compares as deltaBand's: |δ| ≥ lo ⇔ |δ| > lo − 1, both clamped to 0x7fffffff
    v128.store(scratch + <usize>j * 32, i32x4.splat(<i32>min(lo, ABS) - (lo > ABS ? 0 : 1)));
    v128.store(scratch + <usize>j * 32, i32x4.splat(<i32>min(hi, ABS)), 16);
  }
  v128.store(scratch, i32x4.splat(ABS), K_ABS);
  let bad = kind == BF16 ? bf16Loops(base, n, table, scratch, count) : f32Loops(base, n, table, scratch, count);
  // the last n % 4 elements one by one
  for (let i = n & ~3; i < n; i++) {
    const b = kind == BF16 ? reinterpret<f32>(<u32>load<u16>(base + (<usize>i << 1)) << 16) : load<f32>(base + (<usize>i << 2));
    for (let j = 0; j < count; j++) {
      const band = table + <usize>j * BAND_BYTES;
      const raw = <usize>load<u32>(band);
      const x = kind == BF16 ? reinterpret<f32>(<u32>load<u16>(raw + (<usize>i << 1)) << 16) : load<f32>(raw + (<usize>i << 2));
      const bits = reinterpret<u32>(x - b) & ABS;
      if (bits >= 0x7f800000) bad = true;
      const record = <usize>load<u32>(band, 12);
      if (bits > load<u32>(band, 8)) store<u32>(record + ABOVE, load<u32>(record + ABOVE) + 1);
      else if (bits >= load<u32>(band, 4)) {
        const at = load<u32>(record + COUNT);
        store<u32>(<usize>load<u32>(record + BUFFER) + (<usize>min(at, load<u32>(record + CAPACITY)) << 2), bits);
        store<u32>(record + COUNT, at + 1);
      }
    }
  }
  if (bad) store<i32>(status, 1);
}

// one band's compaction mask of four |δ| lanes (those inside the band) and its lanes above hi (all ones)
// @ts-ignore: decorator
@inline
function above(a: v128, scratch: usize, j: usize): v128 {
  return i32x4.gt_s(a, v128.load(scratch + j * 32, 16));
}

// @ts-ignore: decorator
@inline
function inside(a: v128, over: v128, scratch: usize, j: usize): i32 {
  return i32x4.bitmask(v128.andnot(i32x4.gt_s(a, v128.load(scratch + j * 32)), over));
}

// the four lanes' sum of a vector of counts
// @ts-ignore: decorator
@inline
function lanesSum(v: v128): u32 {
  return <u32>(i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline
function lanes(p: usize, i: i32, kind: i32): v128 {
  return kind == BF16 ? i32x4.shl(v128.load16x4_u(p + (<usize>i << 1)), 16) : v128.load(p + (<usize>i << 2));
}

// the whole groups of four for `count` bands (a constant: one loop per count); returns whether a |δ| was NaN/±Inf
// @ts-ignore: decorator
@inline
function bandsLoop(base: usize, n: i32, table: usize, scratch: usize, count: i32, kind: i32): bool {
  const r0 = <usize>load<u32>(table, 12);
  const r1 = count > 1 ? <usize>load<u32>(table + BAND_BYTES, 12) : r0;
  const r2 = count > 2 ? <usize>load<u32>(table + 2 * BAND_BYTES, 12) : r0;
  const r3 = count > 3 ? <usize>load<u32>(table + 3 * BAND_BYTES, 12) : r0;
  const p0 = <usize>load<u32>(table);
  const p1 = count > 1 ? <usize>load<u32>(table + BAND_BYTES) : p0;
  const p2 = count > 2 ? <usize>load<u32>(table + 2 * BAND_BYTES) : p0;
  const p3 = count > 3 ? <usize>load<u32>(table + 3 * BAND_BYTES) : p0;
  const buffer0 = <usize>load<u32>(r0 + BUFFER);
  const buffer1 = <usize>load<u32>(r1 + BUFFER);
  const buffer2 = <usize>load<u32>(r2 + BUFFER);
  const buffer3 = <usize>load<u32>(r3 + BUFFER);
  const capacity0 = load<u32>(r0 + CAPACITY);
  const capacity1 = load<u32>(r1 + CAPACITY);
  const capacity2 = load<u32>(r2 + CAPACITY);
  const capacity3 = load<u32>(r3 + CAPACITY);
  let count0 = load<u32>(r0 + COUNT);
  let count1 = load<u32>(r1 + COUNT);
  let count2 = load<u32>(r2 + COUNT);
  let count3 = load<u32>(r3 + COUNT);
  // the lanes above hi, counted in vectors (a subtraction of the all-ones compare)
  let above0 = i32x4.splat(0);
  let above1 = i32x4.splat(0);
  let above2 = i32x4.splat(0);
  let above3 = i32x4.splat(0);
  let largest = i32x4.splat(0);
  for (let i = 0; i + 4 <= n; i += 4) {
    const b = lanes(base, i, kind);
    const a0 = v128.and(f32x4.sub(lanes(p0, i, kind), b), v128.load(scratch, K_ABS));
    let most = a0;
    const h0 = above(a0, scratch, 0);
    above0 = i32x4.sub(above0, h0);
    const m0 = inside(a0, h0, scratch, 0);
    v128.store(buffer0 + (<usize>min(count0, capacity0) << 2), i8x16.swizzle(a0, v128.load(COMPACT + (<usize>m0 << 4))));
    count0 += <u32>popcnt(m0);
    if (count > 1) {
      const a1 = v128.and(f32x4.sub(lanes(p1, i, kind), b), v128.load(scratch, K_ABS));
      most = i32x4.max_s(most, a1);
      const h1 = above(a1, scratch, 1);
      above1 = i32x4.sub(above1, h1);
      const m1 = inside(a1, h1, scratch, 1);
      v128.store(buffer1 + (<usize>min(count1, capacity1) << 2), i8x16.swizzle(a1, v128.load(COMPACT + (<usize>m1 << 4))));
      count1 += <u32>popcnt(m1);
    }
    if (count > 2) {
      const a2 = v128.and(f32x4.sub(lanes(p2, i, kind), b), v128.load(scratch, K_ABS));
      most = i32x4.max_s(most, a2);
      const h2 = above(a2, scratch, 2);
      above2 = i32x4.sub(above2, h2);
      const m2 = inside(a2, h2, scratch, 2);
      v128.store(buffer2 + (<usize>min(count2, capacity2) << 2), i8x16.swizzle(a2, v128.load(COMPACT + (<usize>m2 << 4))));
      count2 += <u32>popcnt(m2);
    }
    if (count > 3) {
      const a3 = v128.and(f32x4.sub(lanes(p3, i, kind), b), v128.load(scratch, K_ABS));
      most = i32x4.max_s(most, a3);
      const h3 = above(a3, scratch, 3);
      above3 = i32x4.sub(above3, h3);
      const m3 = inside(a3, h3, scratch, 3);
      v128.store(buffer3 + (<usize>min(count3, capacity3) << 2), i8x16.swizzle(a3, v128.load(COMPACT + (<usize>m3 << 4))));
      count3 += <u32>popcnt(m3);
    }
    largest = i32x4.max_s(largest, most);
  }
  store<u32>(r0 + COUNT, count0);
  store<u32>(r0 + ABOVE, load<u32>(r0 + ABOVE) + lanesSum(above0));
  if (count > 1) {
    store<u32>(r1 + COUNT, count1);
    store<u32>(r1 + ABOVE, load<u32>(r1 + ABOVE) + lanesSum(above1));
  }
  if (count > 2) {
    store<u32>(r2 + COUNT, count2);
    store<u32>(r2 + ABOVE, load<u32>(r2 + ABOVE) + lanesSum(above2));
  }
  if (count > 3) {
    store<u32>(r3 + COUNT, count3);
    store<u32>(r3 + ABOVE, load<u32>(r3 + ABOVE) + lanesSum(above3));
  }
  return v128.any_true(i32x4.ge_s(largest, i32x4.splat(0x7f800000)));
}

// one function per count and input form, not one for all: V8 allocates registers per function, and the eight
// loops inlined into one measured 1.40 ns per element, one function per count 1.26–1.30
function bf16Loops(base: usize, n: i32, table: usize, scratch: usize, count: i32): bool {
  if (count == 3) return bf16Three(base, n, table, scratch);
  if (count == 1) return bandsLoop(base, n, table, scratch, 1, BF16);
  if (count == 2) return bf16Two(base, n, table, scratch);
  return bf16Four(base, n, table, scratch);
}

function bf16Two(base: usize, n: i32, table: usize, scratch: usize): bool {
  return bandsLoop(base, n, table, scratch, 2, BF16);
}

function bf16Three(base: usize, n: i32, table: usize, scratch: usize): bool {
  return bandsLoop(base, n, table, scratch, 3, BF16);
}

function bf16Four(base: usize, n: i32, table: usize, scratch: usize): bool {
  return bandsLoop(base, n, table, scratch, 4, BF16);
}

function f32Loops(base: usize, n: i32, table: usize, scratch: usize, count: i32): bool {
  if (count == 1) return bandsLoop(base, n, table, scratch, 1, 0);
  if (count == 2) return f32Two(base, n, table, scratch);
  if (count == 3) return f32Three(base, n, table, scratch);
  return f32Four(base, n, table, scratch);
}

function f32Two(base: usize, n: i32, table: usize, scratch: usize): bool {
  return bandsLoop(base, n, table, scratch, 2, 0);
}

function f32Three(base: usize, n: i32, table: usize, scratch: usize): bool {
  return bandsLoop(base, n, table, scratch, 3, 0);
}

function f32Four(base: usize, n: i32, table: usize, scratch: usize): bool {
  return bandsLoop(base, n, table, scratch, 4, 0);
}
