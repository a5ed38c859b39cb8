// Task-vector sparsifiers in the kernel (merge-methods.md §3.6 "Sparsifiers"; src/merge/sparsify.ts is the
// reference, bit for bit). The host splits a tensor into ranges, one per worker, and combines per-range results:
// - absHistogramPrefix: one level of the exact top-k select (src/kernels/reference/select.ts): a histogram of
//   a bit field of |x|'s float32 pattern over the entries whose higher bits equal a prefix. Three levels
//   (bits 30..20, 19..10, 9..0) pin down the k-th largest pattern; the last level's bucket count per range is
//   that range's number of entries tied with the cut, which numbers the ties across ranges;
// - keepBand: keep the entries inside a lower cut and outside an upper cut (TIES top-k: no upper cut;
//   Breadcrumbs: the band between two cuts), ties at a cut kept by their global tie number, times `scale`;
// - dareKeep: DARE's Bernoulli mask from the counter-based draw of each element's global index
//   (src/core/counter-rng.ts), times `scale`;
// - dellaRows (della.ts): DELLA MagPrune over whole rows;
// - absSumBlocks: Σ|x| per STATS_BLOCK block in the lane order of src/merge/sparsify.ts `l1Norm` (the l1
//   rescale's norms);
// - decodeTaskVector: one block of an input decoded to float32, checked for NaN/±Inf, minus the base (the
//   task-vector file kernel of src/kernels/wasm/task-vector-from-files.ts).

import { STATS_BLOCK } from './stats';
import { f16ToF32 } from './convert';
import { exponentAllOnes } from './bits';

const ABS: u32 = 0x7fffffff;

// lowbias32 (src/core/counter-rng.ts): the draw for element index i is h(h(i ^ k0) + k1)
// @ts-ignore: decorator
@inline
function lowbias32(x: u32): u32 {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

// @ts-ignore: decorator
@inline
export function counterDraw(index: u32, k0: u32, k1: u32): u32 {
  return lowbias32(lowbias32(index ^ k0) + k1);
}

// @ts-ignore: decorator
@inline
export function lowbias32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

// four float32 lanes times a float64 scale, each product rounded once to float32
// @ts-ignore: decorator
@inline
export function scaleF32x4(v: v128, scale: f64): v128 {
  const s = f64x2.splat(scale);
  const lo = f64x2.mul(f64x2.promote_low_f32x4(v), s);
  const hi = f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)), s);
  return v128.shuffle<u32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Adds to hist the counts of ((|x| bits) >> shift) & mask over entries with (|x| bits) >> prefixShift == prefix. */
export function absHistogramPrefix(x: usize, n: i32, prefixShift: i32, prefix: u32, shift: i32, mask: u32, hist: usize): void {
  let i = 0;
  if (prefixShift >= 31) {
    for (; i + 4 <= n; i += 4) {
      const offsets = i32x4.shl(v128.and(i32x4.shr_u(v128.and(v128.load(x + (<usize>i << 2)), i32x4.splat(ABS)), shift), i32x4.splat(mask)), 2);
      const p0 = hist + <usize>i32x4.extract_lane(offsets, 0);
      store<u32>(p0, load<u32>(p0) + 1);
      const p1 = hist + <usize>i32x4.extract_lane(offsets, 1);
      store<u32>(p1, load<u32>(p1) + 1);
      const p2 = hist + <usize>i32x4.extract_lane(offsets, 2);
      store<u32>(p2, load<u32>(p2) + 1);
      const p3 = hist + <usize>i32x4.extract_lane(offsets, 3);
      store<u32>(p3, load<u32>(p3) + 1);
    }
  } else {
    const wanted = i32x4.splat(prefix);
    for (; i + 4 <= n; i += 4) {
      const a = v128.and(v128.load(x + (<usize>i << 2)), i32x4.splat(ABS));
      // most entries lie outside the candidate bucket: test four at once, count the few inside one by one
      if (!v128.any_true(i32x4.eq(i32x4.shr_u(a, prefixShift), wanted))) continue;
      for (let k = i; k < i + 4; k++) {
        const bits = load<u32>(x + (<usize>k << 2)) & ABS;
        if (bits >> prefixShift != prefix) continue;
        const p = hist + (<usize>((bits >> shift) & mask) << 2);
        store<u32>(p, load<u32>(p) + 1);
      }
    }
  }
  for (; i < n; i++) {
    const bits = load<u32>(x + (<usize>i << 2)) & ABS;
    if (prefixShift < 31 && bits >> prefixShift != prefix) continue;
    const p = hist + (<usize>((bits >> shift) & mask) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
}

/**
 * dst[i] = src[i]·scale (rounded to float32) where |src[i]| is inside the lower cut and outside the upper one,
 * else +0. Inside a cut at pattern t: |x| bits > t, or = t with tie number in [first, last); tie numbers count
 * the entries equal to t in index order, starting at `lowTie` / `highTie` for this range. high = 0xffffffff:
 * no upper cut. dst may equal src.
 */
export function keepBand(
  src: usize, dst: usize, n: i32,
  low: u32, lowTie: i32, lowFirst: i32, lowLast: i32,
  high: u32, highTie: i32, highFirst: i32, highLast: i32,
  scale: f64,
): void {
  keepBandFrom(src, dst, n, low, lowTie, lowFirst, lowLast, high, highTie, highFirst, highLast, scale, 0);
}

/**
 * keepBand over one block of a longer range: the tie numbers to start from are the two i32 at `ties` (low, high),
 * and the numbers after the block are stored back there, so consecutive blocks continue the numbering.
 */
export function keepBandAt(
  src: usize, dst: usize, n: i32,
  low: u32, lowFirst: i32, lowLast: i32,
  high: u32, highFirst: i32, highLast: i32,
  scale: f64, ties: usize,
): void {
  keepBandFrom(src, dst, n, low, load<i32>(ties), lowFirst, lowLast, high, load<i32>(ties + 4), highFirst, highLast, scale, ties);
}

// keepBand's loop; with `ties` ≠ 0 the tie numbers reached are stored there
// @ts-ignore: decorator
@inline
function keepBandFrom(
  src: usize, dst: usize, n: i32,
  low: u32, lowTie: i32, lowFirst: i32, lowLast: i32,
  high: u32, highTie: i32, highFirst: i32, highLast: i32,
  scale: f64, ties: usize,
): void {
  const lowV = i32x4.splat(low);
  const highV = i32x4.splat(high);
  const scaled = scale != 1.0;
  let i = 0;
  while (i < n) {
    if (i + 4 <= n) {
      const o = <usize>i << 2;
      const v = v128.load(src + o);
      const a = v128.and(v, i32x4.splat(ABS));
      if (!v128.any_true(v128.or(i32x4.eq(a, lowV), i32x4.eq(a, highV)))) {
        const keep = v128.andnot(i32x4.gt_u(a, lowV), i32x4.gt_u(a, highV));
        v128.store(dst + o, v128.and(scaled ? scaleF32x4(v, scale) : v, keep));
        i += 4;
        continue;
      }
    }
    // a tie with a cut (or the tail): one element at a time, in index order
    const end = min(i + 4, n);
    for (; i < end; i++) {
      const o = <usize>i << 2;
      const value = load<f32>(src + o);
      const a = reinterpret<u32>(value) & ABS;
      let inLow = a > low;
      if (a == low) {
        inLow = lowTie >= lowFirst && lowTie < lowLast;
        lowTie++;
      }
      let inHigh = a > high;
      if (a == high) {
        inHigh = highTie >= highFirst && highTie < highLast;
        highTie++;
      }
      store<f32>(dst + o, inLow && !inHigh ? <f32>(<f64>value * scale) : 0);
    }
  }
  if (ties != 0) {
    store<i32>(ties, lowTie);
    store<i32>(ties + 4, highTie);
  }
}

/**
 * DARE: dst[i] = src[i]·scale where the draw of global index indexStart + i is below keepBelow (= density·2^32,
 * so draw < keepBelow ⇔ draw/2^32 < density), else +0. dst may equal src.
 */
// DARE's keep bound: for an integer draw u, u < keepBelow ⇔ u < ceil(keepBelow); none when every draw is kept
// @ts-ignore: decorator
@inline
export function dareKeepsAll(keepBelow: f64): bool {
  return Math.ceil(keepBelow) > 4294967295.0;
}

// @ts-ignore: decorator
@inline
export function dareBound(keepBelow: f64): v128 {
  return i32x4.splat(dareKeepsAll(keepBelow) ? 0 : <i32><u32>Math.ceil(keepBelow));
}

// the keep lanes of four elements with global indices `index` (k0v, k1v splatted stream keys)
// @ts-ignore: decorator
@inline
export function dareKeep4(index: v128, k0v: v128, k1v: v128, bound: v128, keepAll: bool): v128 {
  if (keepAll) return i32x4.splat(-1);
  return i32x4.lt_u(lowbias32x4(i32x4.add(lowbias32x4(v128.xor(index, k0v)), k1v)), bound);
}

export function dareKeep(src: usize, dst: usize, n: i32, indexStart: u32, k0: u32, k1: u32, keepBelow: f64, scale: f64): void {
  const keepAll = dareKeepsAll(keepBelow);
  const bound = dareBound(keepBelow);
  const scaled = scale != 1.0;
  const k0v = i32x4.splat(k0);
  const k1v = i32x4.splat(k1);
  let index = i32x4.add(i32x4.splat(indexStart), i32x4(0, 1, 2, 3));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const keep = dareKeep4(index, k0v, k1v, bound, keepAll);
    const v = v128.load(src + o);
    v128.store(dst + o, v128.and(scaled ? scaleF32x4(v, scale) : v, keep));
    index = i32x4.add(index, i32x4.splat(4));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const draw = counterDraw(indexStart + <u32>i, k0, k1);
    store<f32>(dst + o, <f64>draw < keepBelow ? <f32>(<f64>load<f32>(src + o) * scale) : 0);
  }
}

/**
 * Σ|x| of each STATS_BLOCK block of x (x starts at a block boundary of the whole array), one float64 per block
 * at partials: element i of a block goes to lane i mod 4, each lane summed in index order in float64, the
 * block's sum (lane0 + lane1) + (lane2 + lane3).
 */
export function absSumBlocks(x: usize, n: i32, partials: usize): void {
  for (let start = 0, block = 0; start < n; start += STATS_BLOCK, block++) {
    const end = min(start + STATS_BLOCK, n);
    let a = f64x2.splat(0);
    let b = f64x2.splat(0);
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const v = f32x4.abs(v128.load(x + (<usize>i << 2)));
      a = f64x2.add(a, f64x2.promote_low_f32x4(v));
      b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
    }
    let l0 = f64x2.extract_lane(a, 0);
    let l1 = f64x2.extract_lane(a, 1);
    let l2 = f64x2.extract_lane(b, 0);
    let l3 = f64x2.extract_lane(b, 1);
    for (let lane = 0; i < end; i++, lane++) {
      const v = <f64>abs(load<f32>(x + (<usize>i << 2)));
      if (lane == 0) l0 += v;
      else if (lane == 1) l1 += v;
      else l2 += v;
    }
    store<f64>(partials + (<usize>block << 3), (l0 + l1) + (l2 + l3));
  }
}

export const TASK_INPUT_F32: i32 = 0;
export const TASK_INPUT_BF16: i32 = 1;
export const TASK_INPUT_F16: i32 = 2;

/**
 * One block of a task-vector input: decodes n elements at `raw` (TASK_INPUT_*) to float32 at `dst` and stores
 * 1 at `status` if any is NaN/±Inf; with `base` ≠ 0 then writes δ = x − base in float32 (one rounding, as
 * src/merge/task-vector.ts `subtract`); with `hist` ≠ 0 adds the block's 2048-bin histogram of |δ| bits 30..20.
 * `raw` and `dst` must not overlap.
 */
export function decodeTaskVector(raw: usize, base: usize, dst: usize, n: i32, kind: i32, status: usize, hist: usize): void {
  // float16 is widened into dst first; bfloat16 and float32 are read from `raw` in the loop itself, so the block
  // is not written to dst and read back before δ is formed
  let src = raw;
  const bf16 = kind == TASK_INPUT_BF16;
  if (kind == TASK_INPUT_F16) {
    f16ToF32(raw, dst, n);
    src = dst;
  }
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const x = bf16 ? i32x4.shl(v128.load16x4_u(src + (<usize>i << 1)), 16) : v128.load(src + o);
    bad = v128.or(bad, exponentAllOnes(x));
    v128.store(dst + o, base != 0 ? f32x4.sub(x, v128.load(base + o)) : x);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const x = bf16 ? reinterpret<f32>(<u32>load<u16>(src + (<usize>i << 1)) << 16) : load<f32>(src + o);
    if ((reinterpret<u32>(x) & 0x7f800000) == 0x7f800000) store<i32>(status, 1);
    store<f32>(dst + o, base != 0 ? x - load<f32>(base + o) : x);
  }
  if (v128.any_true(bad)) store<i32>(status, 1);
  // the first level of the top-k select while the block is still in cache (absHistogramPrefix, bits 30..20)
  if (hist != 0) absHistogramPrefix(dst, n, 31, 0, 20, 0x7ff, hist);
}

/**
 * absHistogramPrefix of δ = x − base (float32, one rounding as decodeTaskVector) for bfloat16 (kind
 * TASK_INPUT_BF16) or float32 inputs read straight from their raw blocks, without storing δ; stores 1 at `status`
 * when x or base holds NaN/±Inf. The task-vector passes' select levels (kernels/wasm/task-vector-passes.ts).
 */
export function deltaHistogramPrefix(raw: usize, base: usize, n: i32, kind: i32, status: usize, prefixShift: i32, prefix: u32, shift: i32, mask: u32, hist: usize): void {
  const bf16 = kind == TASK_INPUT_BF16;
  const all = prefixShift >= 31;
  const wanted = i32x4.splat(prefix);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = bf16 ? i32x4.shl(v128.load16x4_u(raw + (<usize>i << 1)), 16) : v128.load(raw + (<usize>i << 2));
    const b = bf16 ? i32x4.shl(v128.load16x4_u(base + (<usize>i << 1)), 16) : v128.load(base + (<usize>i << 2));
    bad = v128.or(bad, v128.or(exponentAllOnes(x), exponentAllOnes(b)));
    const a = v128.and(f32x4.sub(x, b), i32x4.splat(ABS));
    // outside the first level most entries miss the bucket: test four at once
    if (!all && !v128.any_true(i32x4.eq(i32x4.shr_u(a, prefixShift), wanted))) continue;
    countBits(hist, i32x4.extract_lane(a, 0), all, prefixShift, prefix, shift, mask);
    countBits(hist, i32x4.extract_lane(a, 1), all, prefixShift, prefix, shift, mask);
    countBits(hist, i32x4.extract_lane(a, 2), all, prefixShift, prefix, shift, mask);
    countBits(hist, i32x4.extract_lane(a, 3), all, prefixShift, prefix, shift, mask);
  }
  for (; i < n; i++) {
    const x = bf16 ? reinterpret<f32>(<u32>load<u16>(raw + (<usize>i << 1)) << 16) : load<f32>(raw + (<usize>i << 2));
    const b = bf16 ? reinterpret<f32>(<u32>load<u16>(base + (<usize>i << 1)) << 16) : load<f32>(base + (<usize>i << 2));
    if ((reinterpret<u32>(x) & 0x7f800000) == 0x7f800000 || (reinterpret<u32>(b) & 0x7f800000) == 0x7f800000) store<i32>(status, 1);
    countBits(hist, reinterpret<u32>(x - b) & ABS, all, prefixShift, prefix, shift, mask);
  }
  if (v128.any_true(bad)) store<i32>(status, 1);
}

// @ts-ignore: decorator
@inline
function countBits(hist: usize, bits: u32, all: bool, prefixShift: i32, prefix: u32, shift: i32, mask: u32): void {
  if (!all && bits >> prefixShift != prefix) return;
  const p = hist + (<usize>((bits >> shift) & mask) << 2);
  store<u32>(p, load<u32>(p) + 1);
}
