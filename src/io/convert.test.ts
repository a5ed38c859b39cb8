import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CheckpointError } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import { bytesToFloat32, decodeFp8, float32ToBytes } from './convert.js';

const ELEMENT_SIZE: Partial<Record<DType, number>> = {
  F64: 8, F32: 4, BF16: 2, F16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Little-endian DataView decode in float64, independent of convert.ts. */
function referenceDecode(bytes: Uint8Array, dtype: DType): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = ELEMENT_SIZE[dtype]!;
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    switch (dtype) {
      case 'F64': out.push(Math.fround(view.getFloat64(at, true))); break;
      case 'F32': out.push(view.getFloat32(at, true)); break;
      case 'BF16': {
        const scratch = new DataView(new ArrayBuffer(4));
        scratch.setUint32(0, view.getUint16(at, true) << 16);
        out.push(scratch.getFloat32(0));
        break;
      }
      case 'F16': {
        const h = view.getUint16(at, true);
        const e = (h >> 10) & 31;
        const m = h & 1023;
        const s = h & 0x8000 ? -1 : 1;
        out.push(e === 31 ? (m ? NaN : s * Infinity) : e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15));
        break;
      }
      case 'I64': out.push(Math.fround(Number(view.getBigInt64(at, true)))); break;
      case 'U64': out.push(Math.fround(Number(view.getBigUint64(at, true)))); break;
      case 'I32': out.push(Math.fround(view.getInt32(at, true))); break;
      case 'U32': out.push(Math.fround(view.getUint32(at, true))); break;
      case 'I16': out.push(view.getInt16(at, true)); break;
      case 'U16': out.push(view.getUint16(at, true)); break;
      case 'I8': out.push(view.getInt8(at)); break;
      case 'U8': out.push(view.getUint8(at)); break;
      case 'BOOL': out.push(view.getUint8(at) === 0 ? 0 : 1); break;
      default: throw new Error(`no reference for ${dtype}`);
    }
  }
  return out;
}

const DECODABLE: DType[] = ['F64', 'F32', 'BF16', 'F16', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL'];

function sameValues(actual: Float32Array, expected: number[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Object.is(actual[i], expected[i]), `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

test('bytesToFloat32 matches a DataView reference for every numeric dtype, at aligned and odd offsets', () => {
  fc.assert(
    fc.property(fc.constantFrom(...DECODABLE), fc.uint8Array({ maxLength: 96 }), fc.integer({ min: 0, max: 7 }), (dtype, raw, shift) => {
      const size = ELEMENT_SIZE[dtype]!;
      const usable = raw.length - (raw.length % size);
      const backing = new Uint8Array(usable + shift);
      backing.set(raw.subarray(0, usable), shift);
      const bytes = backing.subarray(shift);
      const expected = referenceDecode(bytes, dtype);
      const actual = bytesToFloat32(bytes, dtype);
      if (dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16') {
        // NaN payloads are not comparable through JS numbers; compare NaN-ness there
        for (let i = 0; i < expected.length; i++) {
          if (Number.isNaN(expected[i])) assert.ok(Number.isNaN(actual[i]));
          else assert.ok(Object.is(actual[i], expected[i]), `${dtype} index ${i}`);
        }
      } else {
        sameValues(actual, expected);
      }
      assert.notEqual(actual.buffer, bytes.buffer, 'result never aliases the input');
    }),
    { numRuns: 2000, seed: 11 },
  );
});

test('8-bit floats: definitions of E4M3(FN), E5M2, E8M0 and the FNUZ variants', () => {
  const cases: [Parameters<typeof decodeFp8>[1], number, number][] = [
    ['F8_E4M3', 0x7e, 448], ['F8_E4M3', 0x38, 1], ['F8_E4M3', 0x01, 2 ** -9], ['F8_E4M3', 0x08, 2 ** -6],
    ['F8_E4M3', 0xfe, -448], ['F8_E4M3', 0x80, -0], ['F8_E4M3', 0x7f, NaN], ['F8_E4M3', 0x78, 256],
    ['F8_E5M2', 0x7b, 57344], ['F8_E5M2', 0x7c, Infinity], ['F8_E5M2', 0xfc, -Infinity], ['F8_E5M2', 0x7d, NaN],
    ['F8_E5M2', 0x01, 2 ** -16], ['F8_E5M2', 0x3c, 1],
    ['F8_E4M3FNUZ', 0x7f, 240], ['F8_E4M3FNUZ', 0x80, NaN], ['F8_E4M3FNUZ', 0x01, 2 ** -10], ['F8_E4M3FNUZ', 0x40, 1],
    ['F8_E5M2FNUZ', 0x7f, 57344], ['F8_E5M2FNUZ', 0x80, NaN], ['F8_E5M2FNUZ', 0x01, 2 ** -17], ['F8_E5M2FNUZ', 0x40, 1],
    ['F8_E8M0', 0x7f, 1], ['F8_E8M0', 0x00, 2 ** -127], ['F8_E8M0', 0xfe, 2 ** 127], ['F8_E8M0', 0xff, NaN],
  ];
  for (const [dtype, byte, expected] of cases) {
    assert.ok(Object.is(decodeFp8(byte, dtype), expected), `${dtype} 0x${byte.toString(16)} = ${expected}`);
    assert.ok(Object.is(bytesToFloat32(new Uint8Array([byte]), dtype)[0], Math.fround(expected)));
  }
});

test('sub-byte and complex dtypes are refused with DTYPE_UNSUPPORTED naming the tensor', () => {
  for (const dtype of ['F4', 'F6_E2M3', 'F6_E3M2', 'C64'] as const) {
    assert.throws(
      () => bytesToFloat32(new Uint8Array(8), dtype, { file: 'm.safetensors', tensor: 'w' }),
      (e: unknown) => e instanceof CheckpointError && e.code === 'DTYPE_UNSUPPORTED' && /m\.safetensors/.test(e.message) && e.tensor === 'w',
    );
  }
  assert.throws(() => bytesToFloat32(new Uint8Array(3), 'F16'), (e: unknown) => e instanceof CheckpointError && /3 bytes/.test(e.message));
});

test('float32ToBytes round trips through bytesToFloat32 (exact for F32/F64, nearest-even for 16-bit)', () => {
  fc.assert(
    fc.property(fc.float32Array({ maxLength: 64, noDefaultInfinity: false }), (values) => {
      const subview = new Float32Array(new Float32Array([0, ...values]).buffer, 4, values.length);
      for (const dtype of ['F32', 'F64'] as const) {
        const back = bytesToFloat32(float32ToBytes(subview, dtype), dtype);
        for (let i = 0; i < values.length; i++) {
          assert.ok(Number.isNaN(values[i]!) ? Number.isNaN(back[i]!) : Object.is(back[i], values[i]));
        }
      }
      const bf16 = new DataView(float32ToBytes(subview, 'BF16').buffer);
      const f16 = new DataView(float32ToBytes(subview, 'F16').buffer);
      for (let i = 0; i < values.length; i++) {
        const x = values[i]!;
        const bits = new DataView(new Float32Array([x]).buffer).getUint32(0, true);
        const h = bf16.getUint16(2 * i, true);
        if (Number.isNaN(x)) assert.equal(h & 0x7fc0, 0x7fc0);
        else assert.equal(h, (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
        const g = f16.getUint16(2 * i, true);
        if (Number.isNaN(x)) assert.equal(g & 0x7fff, 0x7e00);
        else if (Math.abs(x) >= 65520) assert.equal(g & 0x7fff, 0x7c00);
        else assert.ok(Math.abs(referenceDecode(new Uint8Array([g & 255, g >> 8]), 'F16')[0]! - x) <= 2 ** -25 + Math.abs(x) * 2 ** -11);
      }
    }),
    { numRuns: 500, seed: 5 },
  );
});
