// dareNorms: the LOAD pass of a DARE merge with the l1 rescale (src/kernels/wasm/task-vector-passes.ts, issue #16)
// for one l1 block, straight from the raw blocks: Σ|δ| before and after DARE's counter-based mask, where
// δ = x − base in float32. Per element the values and the summation order are those of decodeTaskVector +
// absSumBlocks + dareKeep + absSumBlocks (element i of the block in float64 lane i mod 4, the block's sum
// (lane0 + lane1) + (lane2 + lane3)), so the norms — and the l1 factors made from them — are the same bits;
// no float32 block is written and read back.

import { exponentAllOnes } from './bits';
import { dareBound, dareKeep4, dareKeepsAll, scaleF32x4 } from './sparsify';
import { decode4 } from './task-vector-final';

// the block's four-lane sum as absSumBlocks forms it
// @ts-ignore: decorator
@inline
function blockSum(a: v128, b: v128): f64 {
  return (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
}

/**
 * For n ≤ 16,384 elements of one l1 block (kind TASK_INPUT_*: 0 float32, 1 bfloat16, 2 float16): stores Σ|δ| at
 * `before` and Σ|kept δ| at `after` (float64), with δ kept where the draw of (indexStart + i, k0, k1) is below
 * keepBelow (every δ when keepBelow ≥ 2³²) and multiplied by `scale` (rounded to float32) when scale ≠ 1; stores
 * 1 at `status` when x or base holds NaN/±Inf. With mask ≠ 0, also stores the mask: one byte per four
 * elements (bit l for element 4g + l kept), for the FINAL pass to read instead of drawing again (KEEP_MASK).
 */
export function dareNorms(
  raw: usize, base: usize, n: i32, kind: i32, status: usize,
  indexStart: u32, k0: u32, k1: u32, keepBelow: f64, scale: f64, before: usize, after: usize, mask: usize,
): void {
  const keepAll = dareKeepsAll(keepBelow);
  const bound = dareBound(keepBelow);
  const scaled = scale != 1.0;
  const k0v = i32x4.splat(k0);
  const k1v = i32x4.splat(k1);
  let index = i32x4.add(i32x4.splat(indexStart), i32x4(0, 1, 2, 3));
  let bad = i32x4.splat(0);
  let sumLow = f64x2.splat(0);
  let sumHigh = f64x2.splat(0);
  let keptLow = f64x2.splat(0);
  let keptHigh = f64x2.splat(0);
  // a partial last group reads +0 past n in both inputs: δ = +0 adds nothing (the sums are never −0)
  for (let i = 0; i < n; i += 4) {
    const lanes = min(4, n - i);
    const x = lanes == 4 ? decode4(raw, i, kind, 4) : decode4(raw, i, kind, lanes);
    const b = lanes == 4 ? decode4(base, i, kind, 4) : decode4(base, i, kind, lanes);
    bad = v128.or(bad, v128.or(exponentAllOnes(x), exponentAllOnes(b)));
    const d = f32x4.sub(x, b);
    const v = f32x4.abs(d);
    sumLow = f64x2.add(sumLow, f64x2.promote_low_f32x4(v));
    sumHigh = f64x2.add(sumHigh, f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
    const keep = dareKeep4(index, k0v, k1v, bound, keepAll);
    if (mask != 0) store<u8>(mask + (<usize>i >> 2), <u8>i32x4.bitmask(keep));
    const kept = f32x4.abs(v128.and(scaled ? scaleF32x4(d, scale) : d, keep));
    keptLow = f64x2.add(keptLow, f64x2.promote_low_f32x4(kept));
    keptHigh = f64x2.add(keptHigh, f64x2.promote_low_f32x4(v128.shuffle<u32>(kept, kept, 2, 3, 0, 1)));
    index = i32x4.add(index, i32x4.splat(4));
  }
  if (v128.any_true(bad)) store<i32>(status, 1);
  store<f64>(before, blockSum(sumLow, sumHigh));
  store<f64>(after, blockSum(keptLow, keptHigh));
}
