// Delta statistics for kinship (kinship.md) and slerp: Σx, Σy, Σx², Σy², Σxy with x = a − base, y = b − base
// (base optional), accumulated in float64.
//
// Accumulation scheme (fixed, so the result never depends on how work is split between workers):
// - the array is cut into blocks of STATS_BLOCK elements counted from the first element of the whole array;
// - inside a block, element i goes to lane i mod 4; each lane adds its terms in index order in float64
//   (two f64x2 accumulators per sum); x and y are differences of float32 inputs formed in float64;
// - a block's sum is (lane0 + lane1) + (lane2 + lane3); block sums are written to `partials` (5 f64 per block)
//   and the caller adds them in block order.
// Error bound: each lane is a recursive float64 sum of at most STATS_BLOCK/4 = 4096 terms, and the block sums
// are summed recursively over n/STATS_BLOCK blocks, so |error| ≤ (4096 + 2 + n/STATS_BLOCK)·u·Σ|term|
// with u = 2^-53 (≈ 5e-13·Σ|term| for n = 64M), far inside the 1e-9 relative target.

export const STATS_BLOCK: i32 = 16384;

// @ts-ignore: decorator
@inline
function widen(p: usize, remaining: i32, high: bool): v128 {
  if (remaining >= 4) return f64x2.promote_low_f32x4(v128.load_zero<u64>(high ? p + 8 : p));
  // Final partial group: missing lanes are 0, which leaves every lane sum unchanged.
  const first = high ? 2 : 0;
  const lane0: f64 = remaining > first ? <f64>load<f32>(p + (<usize>first << 2)) : 0;
  const lane1: f64 = remaining > first + 1 ? <f64>load<f32>(p + (<usize>(first + 1) << 2)) : 0;
  return f64x2.replace_lane(f64x2.splat(lane0), 1, lane1);
}

// @ts-ignore: decorator
@inline
function fold(lo: v128, hi: v128): f64 {
  return (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
}

// @ts-ignore: decorator
@inline
function blockSums(a: usize, b: usize, base: usize, hasBase: bool, n: i32, partial: usize): void {
  let sxLo = f64x2.splat(0), sxHi = f64x2.splat(0);
  let syLo = f64x2.splat(0), syHi = f64x2.splat(0);
  let sxxLo = f64x2.splat(0), sxxHi = f64x2.splat(0);
  let syyLo = f64x2.splat(0), syyHi = f64x2.splat(0);
  let sxyLo = f64x2.splat(0), sxyHi = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const remaining = n - i;
    let xLo = widen(a + o, remaining, false), xHi = widen(a + o, remaining, true);
    let yLo = widen(b + o, remaining, false), yHi = widen(b + o, remaining, true);
    if (hasBase) {
      const zLo = widen(base + o, remaining, false), zHi = widen(base + o, remaining, true);
      xLo = f64x2.sub(xLo, zLo);
      xHi = f64x2.sub(xHi, zHi);
      yLo = f64x2.sub(yLo, zLo);
      yHi = f64x2.sub(yHi, zHi);
    }
    sxLo = f64x2.add(sxLo, xLo);
    sxHi = f64x2.add(sxHi, xHi);
    syLo = f64x2.add(syLo, yLo);
    syHi = f64x2.add(syHi, yHi);
    sxxLo = f64x2.add(sxxLo, f64x2.mul(xLo, xLo));
    sxxHi = f64x2.add(sxxHi, f64x2.mul(xHi, xHi));
    syyLo = f64x2.add(syyLo, f64x2.mul(yLo, yLo));
    syyHi = f64x2.add(syyHi, f64x2.mul(yHi, yHi));
    sxyLo = f64x2.add(sxyLo, f64x2.mul(xLo, yLo));
    sxyHi = f64x2.add(sxyHi, f64x2.mul(xHi, yHi));
  }
  store<f64>(partial, fold(sxLo, sxHi));
  store<f64>(partial, fold(syLo, syHi), 8);
  store<f64>(partial, fold(sxxLo, sxxHi), 16);
  store<f64>(partial, fold(syyLo, syyHi), 24);
  store<f64>(partial, fold(sxyLo, sxyHi), 32);
}

/**
 * Writes 5 float64 sums per STATS_BLOCK-element block of [0, n) to `partials` (ceil(n / STATS_BLOCK) blocks).
 * `base` = 0 means no base (x = a, y = b). Callers split work only at block boundaries.
 */
export function deltaStats(a: usize, b: usize, base: usize, n: i32, partials: usize): void {
  for (let start = 0; start < n; start += STATS_BLOCK) {
    const count = min(STATS_BLOCK, n - start);
    const o = <usize>start << 2;
    const partial = partials + <usize>(start / STATS_BLOCK) * 40;
    if (base != 0) blockSums(a + o, b + o, base + o, true, count, partial);
    else blockSums(a + o, b + o, 0, false, count, partial);
  }
}
