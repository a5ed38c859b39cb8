// 2048-bin histogram of the top 11 bits of |x|'s IEEE-754 float32 bit pattern: the first pass of the exact
// radix/histogram select (engines.md §5). Bin = (bits & 0x7fffffff) >>> 20, so bins are ordered by magnitude.
// Counts are added to `hist` (u32[2048]) so one histogram can span many tensors.

export function absHistogram11(x: usize, n: i32, hist: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const bins = i32x4.shr_u(v128.and(v128.load(x + (<usize>i << 2)), i32x4.splat(0x7fffffff)), 20);
    // Scaled to byte offsets once for all four lanes.
    const offsets = i32x4.shl(bins, 2);
    const p0 = hist + <usize>i32x4.extract_lane(offsets, 0);
    store<u32>(p0, load<u32>(p0) + 1);
    const p1 = hist + <usize>i32x4.extract_lane(offsets, 1);
    store<u32>(p1, load<u32>(p1) + 1);
    const p2 = hist + <usize>i32x4.extract_lane(offsets, 2);
    store<u32>(p2, load<u32>(p2) + 1);
    const p3 = hist + <usize>i32x4.extract_lane(offsets, 3);
    store<u32>(p3, load<u32>(p3) + 1);
  }
  for (; i < n; i++) {
    const p = hist + <usize>(((load<u32>(x + (<usize>i << 2)) & 0x7fffffff) >> 20) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
}
