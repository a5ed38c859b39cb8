// linearF32: the linear merge (merge-methods.md §3.1) in float32 arithmetic, the §0 default for element-wise
// arithmetic: out = Σ_j w_j·x_j over the non-zero weights, each product and each partial sum rounded to float32,
// the sum starting at −0 and adding inputs in table order (the plain-TypeScript definition is
// src/kernels/reference/vector.ts `weightedSumFloat32`, which this kernel reproduces bit for bit). Weights come
// as a float64 table (the table linearF64 takes) and are rounded to float32 once. Inputs are bfloat16 or float32,
// the output bfloat16 (round to nearest even, NaN-safe) or float32, so raw shard bytes stream through in one pass.
// bfloat16 inputs with one to four non-zero weights take an eight-element loop that never unpacks the bfloat16
// lanes: `x << 16` is the float32 of the even elements and `x & 0xffff0000` that of the odd ones, and the two
// results are packed back the same way. Stores 1 at `status` when an input holds NaN/±Inf (the executor then
// reruns the tensor on the reference path, which names the element).

import { bf16BitsOf, exponentAllOnes, f32x4ToBf16Bits, loadInput1, loadInput4, pointerAt } from './bits';

// @ts-ignore: decorator
@inline
function weightAt(table: usize, j: i32): f32 {
  return <f32>load<f64>(table + (<usize>j << 3));
}

// Eight bfloat16 elements per step for one to four inputs, all weights non-zero. A NaN/±Inf input makes the sum
// non-finite (every weight is a non-zero finite float32), so the check runs on the two sums instead of on every
// input; a sum that overflows float32 from finite inputs is flagged too and merely takes the reference path.
// Since a flagged block is never used, the bfloat16 rounding here needs no NaN case.
// Returns how many elements it wrote (a multiple of 8); the caller finishes the rest.
function linearBf16Packed(out: usize, inputs: usize, weights: usize, count: i32, n: i32, outBf16: bool, status: usize): i32 {
  const p0 = pointerAt(inputs, 0);
  const p1 = count > 1 ? pointerAt(inputs, 1) : p0;
  const p2 = count > 2 ? pointerAt(inputs, 2) : p0;
  const p3 = count > 3 ? pointerAt(inputs, 3) : p0;
  const w0 = f32x4.splat(weightAt(weights, 0));
  const w1 = f32x4.splat(count > 1 ? weightAt(weights, 1) : 0);
  const w2 = f32x4.splat(count > 2 ? weightAt(weights, 2) : 0);
  const w3 = f32x4.splat(count > 3 ? weightAt(weights, 3) : 0);
  const high = i32x4.splat(0xffff0000);
  const magnitude = i32x4.splat(0x7fffffff);
  const half = i32x4.splat(0x7fff);
  const one = i32x4.splat(1);
  let widest = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const offset = <usize>i << 1;
    const x0 = v128.load(p0 + offset);
    let even = f32x4.mul(w0, i32x4.shl(x0, 16)); // −0 + p is p, bit for bit
    let odd = f32x4.mul(w0, v128.and(x0, high));
    if (count > 1) {
      const x1 = v128.load(p1 + offset);
      even = f32x4.add(even, f32x4.mul(w1, i32x4.shl(x1, 16)));
      odd = f32x4.add(odd, f32x4.mul(w1, v128.and(x1, high)));
    }
    if (count > 2) {
      const x2 = v128.load(p2 + offset);
      even = f32x4.add(even, f32x4.mul(w2, i32x4.shl(x2, 16)));
      odd = f32x4.add(odd, f32x4.mul(w2, v128.and(x2, high)));
    }
    if (count > 3) {
      const x3 = v128.load(p3 + offset);
      even = f32x4.add(even, f32x4.mul(w3, i32x4.shl(x3, 16)));
      odd = f32x4.add(odd, f32x4.mul(w3, v128.and(x3, high)));
    }
    widest = i32x4.max_u(widest, i32x4.max_u(v128.and(even, magnitude), v128.and(odd, magnitude)));
    if (outBf16) {
      // round to nearest even: add 0x7fff plus the lowest kept bit, keep the top half
      const evenBits = i32x4.shr_u(i32x4.add(i32x4.add(even, half), v128.and(i32x4.shr_u(even, 16), one)), 16);
      const oddBits = v128.and(i32x4.add(i32x4.add(odd, half), v128.and(i32x4.shr_u(odd, 16), one)), high);
      v128.store(out + offset, v128.or(evenBits, oddBits));
    } else {
      v128.store(out + (<usize>i << 2), v128.shuffle<u32>(even, odd, 0, 4, 1, 5));
      v128.store(out + (<usize>i << 2) + 16, v128.shuffle<u32>(even, odd, 2, 6, 3, 7));
    }
  }
  if (v128.any_true(i32x4.ge_u(widest, i32x4.splat(0x7f800000)))) store<i32>(status, 1);
  return i;
}

// The packed loop adds every input's product, so it only stands in for the generic loop (which skips zero
// weights, keeping −0 sums −0) when no weight rounds to zero.
function allNonZero(weights: usize, count: i32): bool {
  for (let j = 0; j < count; j++) if (weightAt(weights, j) == 0) return false;
  return true;
}

export function linearF32(out: usize, inputs: usize, weights: usize, count: i32, n: i32, flags: i32, status: usize): void {
  const inBf16 = (flags & 1) != 0; // LINEAR_IN_BF16 (merge-f64.ts)
  const outBf16 = (flags & 2) != 0; // LINEAR_OUT_BF16
  let bad = i32x4.splat(0);
  let i = 0;
  if (inBf16 && count >= 1 && count <= 4 && allNonZero(weights, count)) {
    i = linearBf16Packed(out, inputs, weights, count, n, outBf16, status);
  }
  for (; i + 4 <= n; i += 4) {
    let acc = f32x4.splat(-0.0);
    for (let j = 0; j < count; j++) {
      const x = loadInput4(pointerAt(inputs, j), i, inBf16);
      bad = v128.or(bad, exponentAllOnes(x));
      const w = weightAt(weights, j);
      if (w == 0) continue;
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(w), x));
    }
    if (outBf16) {
      const encoded = f32x4ToBf16Bits(acc);
      v128.store64_lane(out + (<usize>i << 1), i16x8.narrow_i32x4_u(encoded, encoded), 0);
    } else {
      v128.store(out + (<usize>i << 2), acc);
    }
  }
  for (; i < n; i++) {
    let acc: f32 = -0.0;
    for (let j = 0; j < count; j++) {
      const bits = loadInput1(pointerAt(inputs, j), i, inBf16);
      if ((bits & 0x7f800000) == 0x7f800000) store<i32>(status, 1);
      const w = weightAt(weights, j);
      if (w != 0) acc += w * reinterpret<f32>(bits);
    }
    if (outBf16) store<u16>(out + (<usize>i << 1), bf16BitsOf(reinterpret<u32>(acc)));
    else store<f32>(out + (<usize>i << 2), acc);
  }
  if (v128.any_true(bad)) store<i32>(status, 1);
}
