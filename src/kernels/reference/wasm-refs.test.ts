import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bf16BitsToFloat32Ref,
  deltaStatsRef,
  f16BitsToFloat32BitsRef,
  f16BitsToFloat32Ref,
  float32BitsToBf16BitsRef,
  float32BitsToF16BitsRef,
  float32ToBf16BitsRef,
  float32ToF16BitsRef,
  tiesMixRef,
  weightedSumRef,
} from './wasm-refs.js';

const bitsOf = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const floatOf = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]!;

test('f16 decoding matches the format definition on landmark patterns', () => {
  assert.equal(f16BitsToFloat32Ref(0x3c00), 1);
  assert.equal(f16BitsToFloat32Ref(0xc000), -2);
  assert.equal(f16BitsToFloat32Ref(0x7bff), 65504);
  assert.equal(f16BitsToFloat32Ref(0x0001), 2 ** -24);
  assert.equal(f16BitsToFloat32Ref(0x03ff), 1023 * 2 ** -24);
  assert.equal(f16BitsToFloat32Ref(0x0400), 2 ** -14);
  assert.equal(f16BitsToFloat32Ref(0x7c00), Infinity);
  assert.equal(f16BitsToFloat32Ref(0xfc00), -Infinity);
  assert.ok(Object.is(f16BitsToFloat32Ref(0x8000), -0));
  assert.equal(bitsOf(f16BitsToFloat32Ref(0xfe01)), 0xffc02000);
  assert.equal(f16BitsToFloat32BitsRef(0x7c01), 0x7fc02000); // signalling NaN: payload kept, made quiet
  assert.equal(float32BitsToF16BitsRef(0xff802000), 0xfe00); // canonical quiet NaN with the sign
  assert.equal(float32BitsToBf16BitsRef(0xff810000), 0xffc1);
});

test('f16 and bf16 encode(decode(bits)) is the identity on every non-NaN pattern; NaNs come back quiet', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const isF16NaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
    assert.equal(float32ToF16BitsRef(f16BitsToFloat32Ref(bits)), isF16NaN ? (bits & 0x8000) | 0x7e00 : bits);
    const isBf16NaN = (bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0;
    assert.equal(float32ToBf16BitsRef(bf16BitsToFloat32Ref(bits)), isBf16NaN ? bits | 0x40 : bits);
  }
});

test('f32 → bf16 rounds to nearest, ties to even, and overflows to infinity', () => {
  assert.equal(float32ToBf16BitsRef(floatOf(0x3f808000)), 0x3f80); // tie, even stays
  assert.equal(float32ToBf16BitsRef(floatOf(0x3f818000)), 0x3f82); // tie, odd rounds up
  assert.equal(float32ToBf16BitsRef(floatOf(0x3f808001)), 0x3f81);
  assert.equal(float32ToBf16BitsRef(floatOf(0x7f7fffff)), 0x7f80);
  assert.equal(float32ToBf16BitsRef(floatOf(0x00008000)), 0x0000); // subnormal tie to even (0)
  assert.equal(float32ToBf16BitsRef(floatOf(0x00018000)), 0x0002);
  assert.equal(float32ToBf16BitsRef(floatOf(0xff800001)), 0xffc0); // signalling NaN → quiet, sign kept
});

test('f32 → f16 rounds to nearest even at the overflow and subnormal edges', () => {
  assert.equal(float32ToF16BitsRef(65504), 0x7bff);
  assert.equal(float32ToF16BitsRef(65519.996), 0x7bff);
  assert.equal(float32ToF16BitsRef(65520), 0x7c00);
  assert.equal(float32ToF16BitsRef(-1e10), 0xfc00);
  assert.equal(float32ToF16BitsRef(2 ** -25), 0x0000); // halfway to the smallest subnormal: even is 0
  assert.equal(float32ToF16BitsRef(Math.fround(2 ** -25 * 1.0000001)), 0x0001);
  assert.equal(float32ToF16BitsRef(3 * 2 ** -25), 0x0002); // 1.5 ulp ties to 2
  assert.equal(float32ToF16BitsRef(5 * 2 ** -25), 0x0002); // 2.5 ulp ties to 2
  assert.equal(float32ToF16BitsRef(Math.fround(2 ** -14 - 2 ** -26)), 0x0400); // rounds up into the normals
  assert.equal(float32ToF16BitsRef(1 + 2 ** -11), 0x3c00); // tie, even stays
  assert.equal(float32ToF16BitsRef(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(float32ToF16BitsRef(floatOf(0x7f800001)), 0x7e00);
  assert.equal(float32ToF16BitsRef(floatOf(0xffffe000)), 0xfe00);
});

test('weighted sum rounds each step to float32 in model order', () => {
  const out = new Float32Array(2);
  weightedSumRef(out, [new Float32Array([1, 1e8]), new Float32Array([2, 1])], [0.5, 1]);
  assert.deepEqual([...out], [2.5, Math.fround(Math.fround(0.5 * 1e8) + 1)]);
  weightedSumRef(out, [], []);
  assert.deepEqual([...out], [0, 0]);
});

test('delta stats are the float64 sums of the deltas', () => {
  const s = deltaStatsRef(new Float32Array([1, 2, 3]), new Float32Array([2, 0, 5]), new Float32Array([1, 1, 1]));
  assert.deepEqual(s, { n: 3, sumX: 3, sumY: 4, sumXX: 5, sumYY: 18, sumXY: 7 });
});

test('TIES mix follows merge-methods.md §3.6 on a hand-worked element', () => {
  // base 0; deltas 0.5, −0.25, 0.125 with weights 1, 2, 1 → D = 0.5, −0.5, 0.125; Σ = 0.125 ≥ 0 → σ = +1;
  // agreeing: models 0 and 2 → Δ = 0.625, div = 2 → normalized 0.3125; λ = 2 → out = 0.625.
  const models = [0.5, -0.25, 0.125].map((v) => new Float32Array([v]));
  const out = new Float32Array(1);
  const options = { thresholds: [0, 0, 0], weights: [1, 2, 1], lambda: 2, consensus: true, normalize: true };
  tiesMixRef(out, new Float32Array([0]), models, options);
  assert.equal(out[0], 0.625);
  // Trimming model 2 (|0.125| < 0.2): Σ = 0 → σ = +1 (ties go to +1), Δ = 0.5, div = 1 → out = 1.
  tiesMixRef(out, new Float32Array([0]), models, { ...options, thresholds: [0, 0, 0.2] });
  assert.equal(out[0], 1);
  // No consensus, no normalize: Δ = Σ D = 0.125, λ = 2 → 0.25.
  tiesMixRef(out, new Float32Array([0]), models, { ...options, consensus: false, normalize: false });
  assert.equal(out[0], 0.25);
  // Everything trimmed: Δ = 0, div = 0 → 1, out = base.
  tiesMixRef(out, new Float32Array([3]), models, { ...options, thresholds: [9, 9, 9] });
  assert.equal(out[0], 3);
});
