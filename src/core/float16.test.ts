import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bf16BitsToF32,
  bf16ToF32Array,
  bf16ToF32InPlace,
  f16BitsToF32,
  f16ToF32Array,
  f16ToF32InPlace,
  f32ToBf16Array,
  f32ToBf16Bits,
  f32ToF16Array,
  f32ToF16Bits,
} from './float16.js';

// Independent float64 decoders straight from the bit-field definitions (formats.md §2).
function bf16Reference(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 7) & 0xff;
  const mantissa = h & 0x7f;
  if (exponent === 255) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * (mantissa / 128) * 2 ** -126;
  return sign * (1 + mantissa / 128) * 2 ** (exponent - 127);
}

function f16Reference(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;
const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

function fromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
}

function bitsOf(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

test('bf16 decode matches the float64 reference on all 65,536 patterns (scalar and array)', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const decoded = new Float32Array(65536);
  bf16ToF32Array(all, decoded);
  for (let h = 0; h < 65536; h++) {
    const expected = bf16Reference(h);
    assert.ok(Object.is(bf16BitsToF32(h), expected), `bf16 0x${h.toString(16)}`);
    assert.ok(Object.is(decoded[h], expected), `bf16 array 0x${h.toString(16)}`);
  }
});

test('f16 decode matches the float64 reference on all 65,536 patterns (scalar, array, lookup table)', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const decoded = new Float32Array(65536);
  f16ToF32Array(all, decoded);
  for (let h = 0; h < 65536; h++) {
    const expected = f16Reference(h);
    assert.ok(Object.is(f16BitsToF32(h), expected), `f16 0x${h.toString(16)}`);
    assert.ok(Object.is(decoded[h], expected), `f16 array 0x${h.toString(16)}`);
  }
});

test('encode(decode(h)) = h for every non-NaN pattern; NaN stays NaN with its sign', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const widened = new Float32Array(65536);
  const bf16Back = new Uint16Array(65536);
  const f16Back = new Uint16Array(65536);
  bf16ToF32Array(all, widened);
  f32ToBf16Array(widened, bf16Back);
  for (let h = 0; h < 65536; h++) {
    if (isBf16NaN(h)) {
      assert.ok(isBf16NaN(bf16Back[h]!) && (bf16Back[h]! & 0x8000) === (h & 0x8000), `bf16 NaN 0x${h.toString(16)}`);
      assert.equal(bf16Back[h]! & 0x40, 0x40, 'quiet bit set');
    } else {
      assert.equal(bf16Back[h], h);
      assert.equal(f32ToBf16Bits(bf16BitsToF32(h)), h);
    }
  }
  f16ToF32Array(all, widened);
  f32ToF16Array(widened, f16Back);
  for (let h = 0; h < 65536; h++) {
    if (isF16NaN(h)) {
      assert.equal(f16Back[h], (h & 0x8000) | 0x7e00, `f16 NaN 0x${h.toString(16)}`);
    } else {
      assert.equal(f16Back[h], h);
      assert.equal(f32ToF16Bits(f16BitsToF32(h)), h);
    }
  }
});

test('spec test vectors (formats.md §2)', () => {
  assert.equal(f32ToBf16Bits(1.0), 0x3f80);
  assert.equal(f32ToBf16Bits(fromBits(0x3f808000)), 0x3f80);
  assert.equal(f32ToBf16Bits(fromBits(0x3f818000)), 0x3f82);
  assert.equal(f32ToBf16Bits(-0.0), 0x8000);
  assert.equal(f32ToBf16Bits(fromBits(0x7f7fffff)), 0x7f80);
  assert.equal(f32ToF16Bits(1.0), 0x3c00);
  assert.equal(f32ToF16Bits(-2), 0xc000);
  assert.equal(f32ToF16Bits(65504), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00);
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
  assert.equal(f32ToF16Bits(0.1), 0x2e66);
});

test('f32 -> bf16: ties to even, overflow to Inf, subnormals, NaN quiet with sign and payload', () => {
  // every bf16 midpoint (h<<16 | 0x8000) and its f32 neighbours, for both signs
  for (let h = 0; h < 0x7f80; h++) {
    for (const sign of [0, 0x8000]) {
      const mid = (((h | sign) << 16) | 0x8000) >>> 0;
      const even = (h & 1) === 0 ? h : h + 1;
      assert.equal(f32ToBf16Bits(fromBits(mid)), even | sign, `tie above 0x${h.toString(16)}`);
      assert.equal(f32ToBf16Bits(fromBits(mid - 1)), h | sign);
      assert.equal(f32ToBf16Bits(fromBits(mid + 1)), (h + 1) | sign);
    }
  }
  assert.equal(f32ToBf16Bits(Infinity), 0x7f80);
  assert.equal(f32ToBf16Bits(-Infinity), 0xff80);
  assert.equal(f32ToBf16Bits(fromBits(0x00000001)), 0x0000);
  assert.equal(f32ToBf16Bits(fromBits(0x007fffff)), 0x0080);
  // payload-exact NaN cases go through the array path, which never turns f32 bits into JS numbers
  const nanBits = new Uint32Array([0x7f800001, 0xff800001, 0x7fc00000, 0xffffffff, 0x7fffffff]);
  const out = new Uint16Array(nanBits.length);
  f32ToBf16Array(new Float32Array(nanBits.buffer), out);
  assert.deepEqual([...out], [0x7fc0, 0xffc0, 0x7fc0, 0xffff, 0x7fff]);
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  assert.equal(f32ToBf16Bits(-NaN) & 0x7fc0, 0x7fc0);
});

test('f32 -> f16: ties to even through normal and subnormal ranges, Inf boundary, underflow to zero', () => {
  const value = (h: number) => (h === 0x7c00 ? 65536 : f16Reference(h)); // 65536 stands in for overflow
  for (let h = 0; h < 0x7c00; h++) {
    for (const sign of [0, 0x8000]) {
      const s = sign ? -1 : 1;
      const midBits = bitsOf(s * ((value(h) + value(h + 1)) / 2));
      assert.equal(f32ToF16Bits(fromBits(midBits)), ((h & 1) === 0 ? h : h + 1) | sign, `tie above 0x${h.toString(16)}`);
      assert.equal(f32ToF16Bits(fromBits(midBits - 1)), h | sign);
      assert.equal(f32ToF16Bits(fromBits(midBits + 1)), (h + 1) | sign);
    }
  }
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000);
  assert.equal(f32ToF16Bits(-(2 ** -25)), 0x8000);
  assert.equal(f32ToF16Bits(fromBits(bitsOf(2 ** -25) + 1)), 0x0001);
  assert.equal(f32ToF16Bits(2 ** -14 - 2 ** -25), 0x0400); // largest subnormal/smallest normal tie -> even
  assert.equal(f32ToF16Bits(1e-30), 0x0000);
  assert.equal(f32ToF16Bits(1e30), 0x7c00);
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  assert.equal(f32ToF16Bits(NaN), 0x7e00);
  const negativeNaN = new Uint16Array(1);
  f32ToF16Array(new Float32Array(new Uint32Array([0xffc00001]).buffer), negativeNaN);
  assert.equal(negativeNaN[0], 0xfe00);
});

// Nearest-even rounding by search over the sorted positive patterns, in float64: an independent encoder.
function nearestEven(x: number, decode: (h: number) => number, top: number, overflowValue: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= overflowValue) return sign | top;
  let lo = 0;
  let hi = top; // value(top) treated as overflowValue
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (decode(mid) <= a) lo = mid;
    else hi = mid;
  }
  const above = hi === top ? overflowValue : decode(hi);
  const below = a - decode(lo);
  const gap = above - a;
  if (below < gap || (below === gap && (lo & 1) === 0)) return sign | lo;
  return sign | hi;
}

test('random float32 values encode like an independent nearest-even search (bf16 and f16)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
      const x = fromBits(bits);
      if (Number.isNaN(x)) return;
      assert.equal(f32ToBf16Bits(x), nearestEven(x, bf16Reference, 0x7f80, 2 ** 128));
      assert.equal(f32ToF16Bits(x), nearestEven(x, f16Reference, 0x7c00, 65536));
    }),
    { numRuns: 20000, seed: 20240611 },
  );
});

test('in-place widening from the upper half of the buffer equals the array conversions', () => {
  fc.assert(
    fc.property(fc.uint16Array({ maxLength: 300 }), fc.integer({ min: 0, max: 3 }), (halves, pad) => {
      const n = halves.length;
      for (const [inPlace, reference] of [
        [bf16ToF32InPlace, bf16ToF32Array],
        [f16ToF32InPlace, f16ToF32Array],
      ] as const) {
        const buffer = new ArrayBuffer(4 * (n + pad));
        const values = new Float32Array(buffer, 4 * pad, n);
        new Uint16Array(buffer, 4 * pad + 2 * n, n).set(halves);
        inPlace(values);
        const expected = new Float32Array(n);
        reference(halves, expected);
        assert.deepEqual(new Uint32Array(buffer, 4 * pad, n), new Uint32Array(expected.buffer));
      }
    }),
    { numRuns: 300, seed: 7 },
  );
});
