// Float format conversions: bfloat16 <-> float32 and IEEE binary16 <-> float32, SIMD (engines.md §4, §8).
// NaN conventions follow src/kernels/reference/float16.ts: f32 -> bf16 keeps sign and top payload bits and
// sets the quiet bit; f32 -> f16 gives sign | 0x7e00; f16 -> f32 keeps the payload and sets the quiet bit.
// Both encoders round to nearest, ties to even. f16 decoding uses the exponent-rebias technique of F. Giesen's
// half_to_float_fast; f16 encoding his float_to_half_fast3_rtne, with the NaN rule above.
// Every conversion is a pure function of the bit pattern, so results are bit-identical to the TS reference.

import { f32x4ToBf16Bits } from './bits';

// @ts-ignore: decorator
@inline
function bf16x8ToF32(src: usize, dst: usize): void {
  v128.store(dst, i32x4.shl(v128.load16x4_u(src), 16));
  v128.store(dst, i32x4.shl(v128.load16x4_u(src, 8), 16), 16);
}

export function bf16ToF32(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) bf16x8ToF32(src + (<usize>i << 1), dst + (<usize>i << 2));
  for (; i < n; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
}

export function f32ToBf16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = src + (<usize>i << 2);
    const lo = f32x4ToBf16Bits(v128.load(p));
    const hi = f32x4ToBf16Bits(v128.load(p, 16));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < n; i++) {
    const bits = load<u32>(src + (<usize>i << 2));
    let out: u32;
    if ((bits & 0x7fffffff) > 0x7f800000) out = (bits >> 16) | 0x40;
    else out = (bits + 0x7fff + ((bits >> 16) & 1)) >> 16;
    store<u16>(dst + (<usize>i << 1), <u16>out);
  }
}

// @ts-ignore: decorator
@inline
export function f16x4ToF32Bits(half: v128): v128 {
  const shifted = i32x4.shl(v128.and(half, i32x4.splat(0x7fff)), 13);
  const exponent = v128.and(shifted, i32x4.splat(0x0f800000));
  // Rebias 15 -> 127; Inf/NaN (exponent 31) need a second shift to reach 255.
  let bits = i32x4.add(shifted, i32x4.splat(112 << 23));
  const isInfNaN = i32x4.eq(exponent, i32x4.splat(0x0f800000));
  bits = i32x4.add(bits, v128.and(isInfNaN, i32x4.splat(112 << 23)));
  const hasPayload = v128.not(i32x4.eq(v128.and(shifted, i32x4.splat(0x007fe000)), i32x4.splat(0)));
  bits = v128.or(bits, v128.and(v128.and(isInfNaN, hasPayload), i32x4.splat(0x00400000)));
  // Zero/subnormal: treat as 2^-14 * (1 + m/1024) and subtract 2^-14, which is exact in f32.
  const isSubnormal = i32x4.eq(exponent, i32x4.splat(0));
  const renormalized = f32x4.sub(i32x4.add(bits, i32x4.splat(1 << 23)), i32x4.splat(113 << 23));
  bits = v128.bitselect(renormalized, bits, isSubnormal);
  return v128.or(bits, i32x4.shl(v128.and(half, i32x4.splat(0x8000)), 16));
}

export function f16ToF32(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const s = src + (<usize>i << 1);
    const d = dst + (<usize>i << 2);
    v128.store(d, f16x4ToF32Bits(v128.load16x4_u(s)));
    v128.store(d, f16x4ToF32Bits(v128.load16x4_u(s, 8)), 16);
  }
  for (; i < n; i++) {
    const half = i32x4.splat(<i32>load<u16>(src + (<usize>i << 1)));
    store<u32>(dst + (<usize>i << 2), i32x4.extract_lane(f16x4ToF32Bits(half), 0));
  }
}

// @ts-ignore: decorator
@inline
export function f32x4ToF16Bits(bits: v128): v128 {
  const sign = v128.and(bits, i32x4.splat(0x80000000));
  const magnitude = v128.xor(bits, sign);
  // |x| >= 65536 (every such value overflows after rounding): Inf, or the canonical quiet NaN.
  const isNaN = i32x4.gt_s(magnitude, i32x4.splat(0x7f800000));
  const overflow = v128.bitselect(i32x4.splat(0x7e00), i32x4.splat(0x7c00), isNaN);
  const isOverflow = i32x4.ge_s(magnitude, i32x4.splat(143 << 23));
  // |x| < 2^-14: adding 0.5f aligns the binade so the f32 adder's round-to-nearest-even yields the subnormal bits.
  const isSmall = i32x4.lt_s(magnitude, i32x4.splat(113 << 23));
  const denormMagic = i32x4.splat(126 << 23);
  const small = i32x4.sub(f32x4.add(magnitude, denormMagic), denormMagic);
  // Normal range: rebias 127 -> 15, then round the 13 dropped mantissa bits to nearest even.
  const mantissaOdd = v128.and(i32x4.shr_u(magnitude, 13), i32x4.splat(1));
  const biased = i32x4.add(i32x4.add(magnitude, i32x4.splat(((15 - 127) << 23) + 0xfff)), mantissaOdd);
  const normal = i32x4.shr_u(biased, 13);
  let out = v128.bitselect(small, normal, isSmall);
  out = v128.bitselect(overflow, out, isOverflow);
  return v128.or(out, i32x4.shr_u(sign, 16));
}

export function f32ToF16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = src + (<usize>i << 2);
    const lo = f32x4ToF16Bits(v128.load(p));
    const hi = f32x4ToF16Bits(v128.load(p, 16));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < n; i++) {
    const bits = i32x4.splat(load<i32>(src + (<usize>i << 2)));
    store<u16>(dst + (<usize>i << 1), <u16>i32x4.extract_lane(f32x4ToF16Bits(bits), 0));
  }
}
