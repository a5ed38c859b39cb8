// Kinship moments (kinship.md §3): for a base B and N models X_1..X_N, per block of KINSHIP_BLOCK elements, the
// block means of the deltas d_i = X_i − B and their centred cross moments Σ(d_i − m_i)(d_j − m_j) for every
// i ≤ j (the diagonal included), and optionally Σ((d_i − m_i) − (d_j − m_j))² for i < j (for the Euclidean
// distance, which must not be derived from the others: it cancels for near-identical models). Every pair of the
// N×N matrix comes out of ONE pass that reads each input once.
//
// Accuracy: deltas of float32 (or bf16) inputs are exact in float64; each block is centred on its own mean (two
// passes over cache-resident float64 copies) so a common offset of the deltas cannot cancel the moments, as raw
// sums would; the caller combines blocks with Chan et al.'s pairwise update. Everything is float64.
//
// Order (fixed, so results never depend on how work is split between workers): blocks start at multiples of
// KINSHIP_BLOCK counted from the first element passed; inside a block element k goes to lane k mod 4, each lane
// sums in index order, a block sum is (lane0 + lane1) + (lane2 + lane3). Padding up to a multiple of 4 is zero.
//
// Output per block, float64: N means, then the N(N+1)/2 centred moments of the upper triangle row by row
// ((0,0), (0,1) … (0,N−1), (1,1) …), then with KINSHIP_SQDIFF the N(N−1)/2 centred squared differences (i < j).

export const KINSHIP_BLOCK: i32 = 4096;
/** flag: also accumulate the centred squared differences */
export const KINSHIP_SQDIFF: i32 = 1;
/** value in the kinds table: the input holds bfloat16 (otherwise float32) */
export const KINSHIP_IN_BF16: i32 = 1;

// @ts-ignore: decorator
@inline
function widenInto(dst: usize, src: usize, bf16: bool, n: i32, padded: i32): void {
  let k = 0;
  if (bf16) {
    for (; k + 4 <= n; k += 4) {
      const w = i32x4.shl(v128.load16x4_u(src + (<usize>k << 1)), 16);
      v128.store(dst + (<usize>k << 3), f64x2.promote_low_f32x4(w));
      v128.store(dst + (<usize>k << 3), f64x2.promote_low_f32x4(v128.shuffle<u32>(w, w, 2, 3, 2, 3)), 16);
    }
    for (; k < n; k++) store<f64>(dst + (<usize>k << 3), <f64>reinterpret<f32>(<u32>load<u16>(src + (<usize>k << 1)) << 16));
  } else {
    for (; k + 4 <= n; k += 4) {
      const p = src + (<usize>k << 2);
      v128.store(dst + (<usize>k << 3), f64x2.promote_low_f32x4(v128.load64_zero(p)));
      v128.store(dst + (<usize>k << 3), f64x2.promote_low_f32x4(v128.load64_zero(p + 8)), 16);
    }
    for (; k < n; k++) store<f64>(dst + (<usize>k << 3), <f64>load<f32>(src + (<usize>k << 2)));
  }
  for (; k < padded; k++) store<f64>(dst + (<usize>k << 3), 0);
}

// @ts-ignore: decorator
@inline
function fold(lo: v128, hi: v128): f64 {
  return (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
}

/**
 * d = x − base over the block (x decoded from its float32 or bf16 storage on the fly, `base` already float64),
 * written to `d` with zero padding up to `padded`; returns Σd in the fixed lane order
 */
// @ts-ignore: decorator
@inline
function deltaAndSum(d: usize, src: usize, bf16: bool, base: usize, n: i32, padded: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  const whole = n & ~3;
  for (let k = 0; k < whole; k += 4) {
    let xLo: v128, xHi: v128;
    if (bf16) {
      const w = i32x4.shl(v128.load16x4_u(src + (<usize>k << 1)), 16);
      xLo = f64x2.promote_low_f32x4(w);
      xHi = f64x2.promote_low_f32x4(v128.shuffle<u32>(w, w, 2, 3, 2, 3));
    } else {
      const p = src + (<usize>k << 2);
      xLo = f64x2.promote_low_f32x4(v128.load64_zero(p));
      xHi = f64x2.promote_low_f32x4(v128.load64_zero(p + 8));
    }
    const q = base + (<usize>k << 3);
    const a = f64x2.sub(xLo, v128.load(q));
    const b = f64x2.sub(xHi, v128.load(q, 16));
    const o = d + (<usize>k << 3);
    v128.store(o, a);
    v128.store(o, b, 16);
    lo = f64x2.add(lo, a);
    hi = f64x2.add(hi, b);
  }
  if (whole < padded) {
    // the last group through memory: real lanes decoded one by one, padding lanes exactly 0
    for (let k = whole; k < padded; k++) {
      const x: f64 = k >= n ? 0 : bf16 ? <f64>reinterpret<f32>(<u32>load<u16>(src + (<usize>k << 1)) << 16) : <f64>load<f32>(src + (<usize>k << 2));
      store<f64>(d + (<usize>k << 3), k < n ? x - load<f64>(base + (<usize>k << 3)) : 0);
    }
    const o = d + (<usize>whole << 3);
    lo = f64x2.add(lo, v128.load(o));
    hi = f64x2.add(hi, v128.load(o, 16));
  }
  return fold(lo, hi);
}

/** c = d − mean in place over the n real elements (padding stays 0); returns Σc² */
// @ts-ignore: decorator
@inline
function centreAndSquare(d: usize, mean: f64, n: i32, padded: i32): f64 {
  const m = f64x2.splat(mean);
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  const whole = n & ~3;
  for (let k = 0; k < whole; k += 4) {
    const p = d + (<usize>k << 3);
    const a = f64x2.sub(v128.load(p), m);
    const b = f64x2.sub(v128.load(p, 16), m);
    v128.store(p, a);
    v128.store(p, b, 16);
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  if (whole < padded) {
    // the last group: real lanes centred, padding lanes kept at exactly 0
    for (let k = whole; k < padded; k++) {
      const p = d + (<usize>k << 3);
      store<f64>(p, k < n ? load<f64>(p) - mean : 0);
    }
    const p = d + (<usize>whole << 3);
    const a = v128.load(p);
    const b = v128.load(p, 16);
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  return fold(lo, hi);
}

// @ts-ignore: decorator
@inline
function crossSum(x: usize, y: usize, padded: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  for (let k = 0; k < padded; k += 4) {
    const o = <usize>k << 3;
    lo = f64x2.add(lo, f64x2.mul(v128.load(x + o), v128.load(y + o)));
    hi = f64x2.add(hi, f64x2.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
  }
  return fold(lo, hi);
}

// @ts-ignore: decorator
@inline
function squaredDifferenceSum(x: usize, y: usize, padded: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  for (let k = 0; k < padded; k += 4) {
    const o = <usize>k << 3;
    const a = f64x2.sub(v128.load(x + o), v128.load(y + o));
    const b = f64x2.sub(v128.load(x + o, 16), v128.load(y + o, 16));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  return fold(lo, hi);
}

// @ts-ignore: decorator
@inline
function sum2(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * The 3-model case (a 3×3 matrix, or a candidate and its two parents) without writing centred copies: each
 * position's three centred deltas stay in registers for all six products. Lanes are k mod 2 here; the last odd
 * element is added after the lane sum. Writes the six upper-triangle moments after the means of `rec`.
 */
function threeMoments(d0: usize, d1: usize, d2: usize, rec: usize, n: i32): void {
  const m0 = load<f64>(rec), m1 = load<f64>(rec, 8), m2 = load<f64>(rec, 16);
  const v0 = f64x2.splat(m0), v1 = f64x2.splat(m1), v2 = f64x2.splat(m2);
  let s00 = f64x2.splat(0), s01 = f64x2.splat(0), s02 = f64x2.splat(0);
  let s11 = f64x2.splat(0), s12 = f64x2.splat(0), s22 = f64x2.splat(0);
  const pairs = n & ~1;
  for (let k = 0; k < pairs; k += 2) {
    const o = <usize>k << 3;
    const a = f64x2.sub(v128.load(d0 + o), v0);
    const b = f64x2.sub(v128.load(d1 + o), v1);
    const c = f64x2.sub(v128.load(d2 + o), v2);
    s00 = f64x2.add(s00, f64x2.mul(a, a));
    s01 = f64x2.add(s01, f64x2.mul(a, b));
    s02 = f64x2.add(s02, f64x2.mul(a, c));
    s11 = f64x2.add(s11, f64x2.mul(b, b));
    s12 = f64x2.add(s12, f64x2.mul(b, c));
    s22 = f64x2.add(s22, f64x2.mul(c, c));
  }
  let t00: f64 = 0, t01: f64 = 0, t02: f64 = 0, t11: f64 = 0, t12: f64 = 0, t22: f64 = 0;
  if (pairs < n) {
    const o = <usize>pairs << 3;
    const a = load<f64>(d0 + o) - m0, b = load<f64>(d1 + o) - m1, c = load<f64>(d2 + o) - m2;
    t00 = a * a;
    t01 = a * b;
    t02 = a * c;
    t11 = b * b;
    t12 = b * c;
    t22 = c * c;
  }
  store<f64>(rec, sum2(s00) + t00, 24);
  store<f64>(rec, sum2(s01) + t01, 32);
  store<f64>(rec, sum2(s02) + t02, 40);
  store<f64>(rec, sum2(s11) + t11, 48);
  store<f64>(rec, sum2(s12) + t12, 56);
  store<f64>(rec, sum2(s22) + t22, 64);
}

/** index of the centred moment (i, j), i ≤ j, in a record: after the N means, the upper triangle row by row */
// @ts-ignore: decorator
@inline
function triangleSlot(count: i32, i: i32, j: i32): i32 {
  return count + i * count - ((i * (i - 1)) >> 1) + (j - i);
}

/** float64 values per output block for `count` models */
export function kinshipRecordLength(count: i32, flags: i32): i32 {
  const pairs = (count * (count - 1)) >> 1;
  return count + ((count * (count + 1)) >> 1) + ((flags & KINSHIP_SQDIFF) != 0 ? pairs : 0);
}

/**
 * Moments of [0, n) block by block. `inputs`: u32 table of count + 1 byte addresses (base first); `kinds`: u32
 * table, KINSHIP_IN_BF16 or 0 (float32) per input; `work`: (count + 1) × KINSHIP_BLOCK float64 of scratch;
 * `out`: ceil(n / KINSHIP_BLOCK) records of kinshipRecordLength(count, flags) float64.
 */
export function kinshipMoments(inputs: usize, kinds: usize, count: i32, n: i32, flags: i32, work: usize, out: usize): void {
  const record = <usize>kinshipRecordLength(count, flags) << 3;
  const stride = <usize>KINSHIP_BLOCK << 3;
  const baseBuffer = work;
  const baseBf16 = load<u32>(kinds) == KINSHIP_IN_BF16;
  for (let start = 0, block = 0; start < n; start += KINSHIP_BLOCK, block++) {
    const len = min(KINSHIP_BLOCK, n - start);
    const padded = (len + 3) & ~3;
    const rec = out + <usize>block * record;
    widenInto(baseBuffer, <usize>load<u32>(inputs) + (<usize>start << (baseBf16 ? 1 : 2)), baseBf16, len, padded);
    for (let i = 0; i < count; i++) {
      const bf16 = load<u32>(kinds + (<usize>(i + 1) << 2)) == KINSHIP_IN_BF16;
      const d = work + <usize>(i + 1) * stride;
      const src = <usize>load<u32>(inputs + (<usize>(i + 1) << 2)) + (<usize>start << (bf16 ? 1 : 2));
      const sum = bf16 ? deltaAndSum(d, src, true, baseBuffer, len, padded) : deltaAndSum(d, src, false, baseBuffer, len, padded);
      store<f64>(rec + (<usize>i << 3), sum / <f64>len);
    }
    if (count == 3 && (flags & KINSHIP_SQDIFF) == 0) {
      threeMoments(work + stride, work + 2 * stride, work + 3 * stride, rec, len);
      continue;
    }
    // centre every delta first: the cross moments of row i read the centred columns j > i
    for (let i = 0; i < count; i++) {
      const d = work + <usize>(i + 1) * stride;
      store<f64>(rec + (<usize>triangleSlot(count, i, i) << 3), centreAndSquare(d, load<f64>(rec + (<usize>i << 3)), len, padded));
    }
    for (let i = 0; i < count; i++) {
      const d = work + <usize>(i + 1) * stride;
      for (let j = i + 1; j < count; j++) {
        store<f64>(rec + (<usize>triangleSlot(count, i, j) << 3), crossSum(d, work + <usize>(j + 1) * stride, padded));
      }
    }
    let slot = count + ((count * (count + 1)) >> 1);
    if ((flags & KINSHIP_SQDIFF) != 0) {
      for (let i = 0; i < count; i++) {
        for (let j = i + 1; j < count; j++) {
          const x = work + <usize>(i + 1) * stride;
          const y = work + <usize>(j + 1) * stride;
          store<f64>(rec + (<usize>slot << 3), squaredDifferenceSum(x, y, padded));
          slot++;
        }
      }
    }
  }
}
