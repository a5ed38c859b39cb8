// dareNorms: the LOAD pass of a DARE merge with the l1 rescale (src/kernels/wasm/task-vector-passes.ts, issue #16)
// for one l1 block, straight from the raw blocks: Σ|δ| before and after DARE's counter-based mask, where
// δ = x − base in float32. Per element the values and the summation order are those of decodeTaskVector +
// absSumBlocks + dareKeep + absSumBlocks (element i of the block in float64 lane i mod 4, the block's sum
// (lane0 + lane1) + (lane2 + lane3)), so the norms — and the l1 factors made from them — are the same bits;
// no float32 block is written and read back.

import { dareKeepsAll, scaleF32x4 } from './sparsify';
import { decode4 } from './task-vector-final';

const BF16: i32 = 1;
// the constants dareNorms keeps in the caller's scratch (V8 rematerialises a v128 constant or splat at every use
// inside a loop, 2–3 instructions each; a load from memory folds into the operation), then its four running sums
const K_ABS: usize = 0;
const K_K0: usize = 16;
const K_K1: usize = 32;
// the draw bound and the draws with their sign bit flipped: u < bound as signed compares
const K_BOUND: usize = 48;
const K_SIGN: usize = 64;
const K_MUL1: usize = 80;
const K_MUL2: usize = 96;
const K_FOUR: usize = 112;
const SUMS: usize = 128;
/** bytes of dareNorms' scratch */
export const DARE_NORMS_SCRATCH: i32 = 192;

// the block's four-lane sum as absSumBlocks forms it
// @ts-ignore: decorator
@inline
function blockSum(a: v128, b: v128): f64 {
  return (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
}

// sparsify.ts lowbias32x4 with its multipliers from the scratch
// @ts-ignore: decorator
@inline
function lowbias(x: v128, scratch: usize): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, v128.load(scratch, K_MUL1));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, v128.load(scratch, K_MUL2));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/**
 * For n ≤ 16,384 elements of one l1 block (kind TASK_INPUT_*: 0 float32, 1 bfloat16, 2 float16): stores Σ|δ| at
 * `before` and Σ|kept δ| at `after` (float64), with δ kept where the draw of (indexStart + i, k0, k1) is below
 * keepBelow (every δ when keepBelow ≥ 2³²) and multiplied by `scale` (rounded to float32) when scale ≠ 1; stores
 * 1 at `status` when δ is not finite (x or base holds NaN/±Inf, or their difference exceeds float32; the caller's
 * reference path handles both). With mask ≠ 0, also stores the mask: one byte per four elements (bit l for
 * element 4g + l kept), for the FINAL pass to read instead of drawing again (KEEP_MASK). `scratch`:
 * DARE_NORMS_SCRATCH bytes of the calling thread's own.
 */
export function dareNorms(
  raw: usize, base: usize, n: i32, kind: i32, status: usize,
  indexStart: u32, k0: u32, k1: u32, keepBelow: f64, scale: f64, before: usize, after: usize, mask: usize, scratch: usize,
): void {
  const keepAll = dareKeepsAll(keepBelow);
  v128.store(scratch, i32x4.splat(0x7fffffff), K_ABS);
  v128.store(scratch, i32x4.splat(k0), K_K0);
  v128.store(scratch, i32x4.splat(k1), K_K1);
  v128.store(scratch, i32x4.splat((keepAll ? 0 : <i32><u32>Math.ceil(keepBelow)) ^ 0x80000000), K_BOUND);
  v128.store(scratch, i32x4.splat(0x80000000), K_SIGN);
  v128.store(scratch, i32x4.splat(0x7feb352d), K_MUL1);
  v128.store(scratch, i32x4.splat(<i32>0x846ca68b), K_MUL2);
  v128.store(scratch, i32x4.splat(4), K_FOUR);
  for (let s: usize = 0; s < 4; s++) v128.store(scratch + SUMS + (s << 4), f64x2.splat(0));
  const whole = n & ~3;
  const scaled = scale != 1.0;
  let bad: bool;
  // the merge's case (bfloat16, the l1 rescale: no scale, a mask kept) in a loop with its flags as constants
  if (kind == BF16 && !scaled && !keepAll && mask != 0) bad = normsLoop(raw, base, 0, whole, 4, BF16, indexStart, scratch, mask, false, false, 1, true);
  else bad = normsLoop(raw, base, 0, whole, 4, kind, indexStart, scratch, mask, keepAll, scaled, scale, mask != 0);
  // a partial last group reads +0 past n in both inputs: δ = +0 adds nothing (the sums are never −0)
  if (whole < n && normsLoop(raw, base, whole, n, n - whole, kind, indexStart, scratch, mask, keepAll, scaled, scale, mask != 0)) bad = true;
  if (bad) store<i32>(status, 1);
  store<f64>(before, blockSum(v128.load(scratch, SUMS), v128.load(scratch, SUMS + 16)));
  store<f64>(after, blockSum(v128.load(scratch, SUMS + 32), v128.load(scratch, SUMS + 48)));
}

// groups from..to − 1 of `lanes` elements (4, or fewer for the last, partial one), the sums carried in the scratch;
// returns whether a |δ| was NaN/±Inf
// @ts-ignore: decorator
@inline
function normsLoop(
  raw: usize, base: usize, from: i32, to: i32, lanes: i32, kind: i32, indexStart: u32, scratch: usize, mask: usize,
  keepAll: bool, scaled: bool, scale: f64, withMask: bool,
): bool {
  let sumLow = v128.load(scratch, SUMS);
  let sumHigh = v128.load(scratch, SUMS + 16);
  let keptLow = v128.load(scratch, SUMS + 32);
  let keptHigh = v128.load(scratch, SUMS + 48);
  let index = i32x4.add(i32x4.splat(indexStart + <u32>from), i32x4(0, 1, 2, 3));
  // the largest |δ|: NaN or ±Inf in x or base makes δ NaN or ±Inf, |δ| ≥ 0x7f800000
  let largest = i32x4.splat(0);
  for (let i = from; i < to; i += 4) {
    const d = f32x4.sub(decode4(raw, i, kind, lanes), decode4(base, i, kind, lanes));
    const v = v128.and(d, v128.load(scratch, K_ABS));
    largest = i32x4.max_s(largest, v);
    sumLow = f64x2.add(sumLow, f64x2.promote_low_f32x4(v));
    sumHigh = f64x2.add(sumHigh, f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
    // sparsify.ts dareKeep4: the counter-based draw of each index below the bound
    let keep = i32x4.splat(-1);
    if (!keepAll) {
      const draw = lowbias(i32x4.add(lowbias(v128.xor(index, v128.load(scratch, K_K0)), scratch), v128.load(scratch, K_K1)), scratch);
      keep = i32x4.gt_s(v128.load(scratch, K_BOUND), v128.xor(draw, v128.load(scratch, K_SIGN)));
    }
    if (withMask) store<u8>(mask + (<usize>i >> 2), <u8>i32x4.bitmask(keep));
    const kept = v128.and(scaled ? v128.and(scaleF32x4(d, scale), v128.load(scratch, K_ABS)) : v, keep);
    keptLow = f64x2.add(keptLow, f64x2.promote_low_f32x4(kept));
    keptHigh = f64x2.add(keptHigh, f64x2.promote_low_f32x4(v128.shuffle<u32>(kept, kept, 2, 3, 0, 1)));
    index = i32x4.add(index, v128.load(scratch, K_FOUR));
  }
  v128.store(scratch, sumLow, SUMS);
  v128.store(scratch, sumHigh, SUMS + 16);
  v128.store(scratch, keptLow, SUMS + 32);
  v128.store(scratch, keptHigh, SUMS + 48);
  return v128.any_true(i32x4.ge_s(largest, i32x4.splat(0x7f800000)));
}
