// Bit-level helpers shared by the conversion and merge kernels (all inlined at their call sites): pointer and
// weight tables as the host lays them out, bfloat16 ↔ float32 bit patterns, and the NaN/±Inf test on float32
// bits. One definition each, so every kernel rounds and flags exactly alike.

// @ts-ignore: decorator
@inline
export function pointerAt(table: usize, j: i32): usize {
  return <usize>load<u32>(table + (<usize>j << 2));
}

// @ts-ignore: decorator
@inline
export function doubleAt(table: usize, j: i32): f64 {
  return load<f64>(table + (<usize>j << 3));
}

// four bfloat16 values at `p` as float32 lanes (bf16 bits become the top half of each lane)
// @ts-ignore: decorator
@inline
export function bf16x4(p: usize): v128 {
  return i32x4.shl(v128.load16x4_u(p), 16);
}

// element i of a bfloat16 or float32 array as float32 lanes (four) or bits (one)
// @ts-ignore: decorator
@inline
export function loadInput4(p: usize, i: i32, inBf16: bool): v128 {
  return inBf16 ? bf16x4(p + (<usize>i << 1)) : v128.load(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
export function loadInput1(p: usize, i: i32, inBf16: bool): u32 {
  return inBf16 ? <u32>load<u16>(p + (<usize>i << 1)) << 16 : load<u32>(p + (<usize>i << 2));
}

// lanes whose float32 exponent is all ones: NaN or ±Inf
// @ts-ignore: decorator
@inline
export function exponentAllOnes(bits: v128): v128 {
  return i32x4.eq(v128.and(bits, i32x4.splat(0x7f800000)), i32x4.splat(0x7f800000));
}

// float32 lanes → bfloat16 bits in the low half of each lane (round to nearest even; NaN stays a quiet NaN)
// @ts-ignore: decorator
@inline
export function f32x4ToBf16Bits(bits: v128): v128 {
  const magnitude = v128.and(bits, i32x4.splat(0x7fffffff));
  const isNaN = i32x4.gt_u(magnitude, i32x4.splat(0x7f800000));
  const lsb = v128.and(i32x4.shr_u(bits, 16), i32x4.splat(1));
  const rounded = i32x4.shr_u(i32x4.add(i32x4.add(bits, i32x4.splat(0x7fff)), lsb), 16);
  const quiet = v128.or(i32x4.shr_u(bits, 16), i32x4.splat(0x40));
  return v128.bitselect(quiet, rounded, isNaN);
}

// f32x4ToBf16Bits for lanes known finite (or whose encoding is discarded): the rounding without the NaN test
// @ts-ignore: decorator
@inline
export function finiteToBf16Bits(bits: v128): v128 {
  const lsb = v128.and(i32x4.shr_u(bits, 16), i32x4.splat(1));
  return i32x4.shr_u(i32x4.add(i32x4.add(bits, i32x4.splat(0x7fff)), lsb), 16);
}

// one float32 bit pattern → bfloat16 bits, same rounding and NaN rule
// @ts-ignore: decorator
@inline
export function bf16BitsOf(bits: u32): u16 {
  if ((bits & 0x7fffffff) > 0x7f800000) return <u16>((bits >> 16) | 0x40);
  return <u16>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}
