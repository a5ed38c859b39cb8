/**
 * bfloat16 and IEEE-754 binary16 <-> float32 conversions, bit-exact (formats.md §2).
 *
 * bf16 is the upper half of a float32; encoding rounds to nearest, ties to even, and turns NaN into a quiet
 * NaN with its sign. binary16 has 1 sign, 5 exponent (bias 15) and 10 mantissa bits; encoding rounds to
 * nearest-even through the normal and subnormal ranges. Scalar functions take float32 values (a float64
 * argument is first rounded to float32, as a Float32Array store would).
 */
import { invariant } from './errors.js';

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

function f32FromBits(bits: number): number {
  scratchU32[0] = bits;
  return scratchF32[0]!;
}

// ---------------------------------------------------------------------------------------------- bf16

export function bf16BitsToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16);
}

function bf16FromF32Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x0040) & 0xffff;
  // u + 0x8000 stays below 2^32 for every non-NaN u, so plain number arithmetic is exact here
  return (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
}

export function f32ToBf16Bits(x: number): number {
  return bf16FromF32Bits(f32Bits(x));
}

export function bf16ToF32Array(src: Uint16Array, dst: Float32Array): void {
  checkLengths(src.length, dst.length, 'bf16ToF32Array');
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
}

export function f32ToBf16Array(src: Float32Array, dst: Uint16Array): void {
  checkLengths(src.length, dst.length, 'f32ToBf16Array');
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = bf16FromF32Bits(bits[i]!);
}

/**
 * Widens `values.length` bf16 values stored in the upper half of `values.buffer` (bytes [2n, 4n) of the
 * view) into float32 in place. Going forward is safe: writing element i touches 16-bit slots at or before
 * source element i, which have all been read already. Lets a reader fill one buffer and convert with no copy.
 */
export function bf16ToF32InPlace(values: Float32Array): void {
  const n = values.length;
  const src = new Uint16Array(values.buffer, values.byteOffset + 2 * n, n);
  const out = new Uint32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) out[i] = src[i]! << 16;
}

// ---------------------------------------------------------------------------------------------- f16

export function f16BitsToF32(h: number): number {
  return f32FromBits(f32BitsOfF16(h));
}

/** float32 bits of a binary16 pattern; NaN payloads are kept, with the quiet bit set. */
function f32BitsOfF16(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 31) return (sign | 0x7f800000 | (mantissa === 0 ? 0 : 0x400000 | (mantissa << 13))) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // subnormal: m * 2^-24 is exact in float32 (a normal number there), so let the FPU place the leading bit
  return (sign | f32Bits(mantissa * 2 ** -24)) >>> 0;
}

/** binary16 bits of the float32 whose bits are `u` (unsigned 32-bit). */
function f16FromF32Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const magnitude = u & 0x7fffffff;
  if (magnitude > 0x7f800000) return sign | 0x7e00;
  // 65520 = 0x477FF000 is the tie between 65504 (largest finite) and 65536; it rounds to even, i.e. Inf
  if (magnitude >= 0x477ff000) return sign | 0x7c00;
  if (magnitude >= 0x38800000) {
    // normal: rebias the exponent (127 -> 15) and round 23 mantissa bits to 10; a carry bumps the exponent
    const truncated = (magnitude >>> 13) - (112 << 10);
    const rest = magnitude & 0x1fff;
    const roundUp = rest > 0x1000 || (rest === 0x1000 && (truncated & 1) === 1);
    return sign | (truncated + (roundUp ? 1 : 0));
  }
  // at or below 2^-25 (half the smallest subnormal) everything rounds to zero; exactly 2^-25 ties to even 0
  if (magnitude <= 0x33000000) return sign;
  // subnormal result in units of 2^-24: significand * 2^(e - 150 + 24) = significand >> (126 - e)
  const exponent = magnitude >>> 23;
  const significand = (magnitude & 0x7fffff) | 0x800000;
  const shift = 126 - exponent;
  const truncated = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  const roundUp = rest > half || (rest === half && (truncated & 1) === 1);
  return sign | (truncated + (roundUp ? 1 : 0));
}

export function f32ToF16Bits(x: number): number {
  return f16FromF32Bits(f32Bits(x));
}

let f16Table: Uint32Array | undefined;

/** float32 bits for every binary16 pattern: a lookup beats branchy decoding in plain JS (engines.md §4). */
function f16ToF32BitsTable(): Uint32Array {
  if (f16Table === undefined) {
    const table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = f32BitsOfF16(h);
    f16Table = table;
  }
  return f16Table;
}

export function f16ToF32Array(src: Uint16Array, dst: Float32Array): void {
  checkLengths(src.length, dst.length, 'f16ToF32Array');
  const table = f16ToF32BitsTable();
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
}

/** binary16 counterpart of bf16ToF32InPlace (same layout and the same forward-order argument). */
export function f16ToF32InPlace(values: Float32Array): void {
  const n = values.length;
  const table = f16ToF32BitsTable();
  const src = new Uint16Array(values.buffer, values.byteOffset + 2 * n, n);
  const out = new Uint32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
}

export function f32ToF16Array(src: Float32Array, dst: Uint16Array): void {
  checkLengths(src.length, dst.length, 'f32ToF16Array');
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = f16FromF32Bits(bits[i]!);
}

function checkLengths(srcLength: number, dstLength: number, fn: string): void {
  invariant(srcLength === dstLength, () => `${fn}: destination length ${dstLength} must equal source length ${srcLength}`);
}
