/**
 * Stored tensor bytes <-> float32 values for every readable safetensors dtype (formats.md §1.4, §2).
 * Data are little-endian; like Node itself on every supported platform, this assumes a little-endian host so
 * that typed-array views read the bytes directly.
 *
 * 8-bit floats follow the OCP / ONNX definitions: E4M3 is the "FN" variant (bias 7, no Inf, S.1111.111 NaN),
 * E5M2 is IEEE-like (bias 15), the FNUZ variants have bias 8 / 16, no Inf, no -0 and 0x80 as the only NaN,
 * and E8M0 is a bare power of two 2^(b-127) with 0xFF as NaN.
 */
import { CheckpointError } from '../core/errors.js';
import { DTYPE_BITS, type DType } from '../core/dtype.js';
import { bf16ToF32Array, f16ToF32Array, f32ToBf16Array, f32ToF16Array } from '../core/float16.js';

export interface ConvertContext {
  file?: string;
  tensor?: string;
}

export type WritableFloatDType = 'F32' | 'F16' | 'BF16' | 'F64';

/** Values as float32 in a fresh array the caller owns (never a view of `bytes`). */
export function bytesToFloat32(bytes: Uint8Array, dtype: DType, context: ConvertContext = {}): Float32Array {
  const elementBytes = DTYPE_BITS[dtype] / 8;
  if (dtype === 'F6_E2M3' || dtype === 'F6_E3M2' || dtype === 'F4' || dtype === 'C64') {
    throw new CheckpointError(`dtype ${dtype} cannot be converted to float32`, {
      ...context,
      code: 'DTYPE_UNSUPPORTED',
      details: { dtype },
      hint: 'modelevo reads sub-byte and complex tensors only as raw bytes; convert the model to F32, F16 or BF16 first',
    });
  }
  if (bytes.length % elementBytes !== 0) {
    throw new CheckpointError(
      `${bytes.length} bytes is not a whole number of ${dtype} elements (${elementBytes} bytes each)`,
      { ...context, details: { dtype, byteLength: bytes.length }, hint: 'the tensor data is truncated or its dtype is wrong' },
    );
  }
  const count = bytes.length / elementBytes;
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      new Uint8Array(out.buffer).set(bytes);
      return out;
    case 'BF16':
    case 'F16':
      (dtype === 'BF16' ? bf16ToF32Array : f16ToF32Array)(aligned(bytes, 2, Uint16Array), out);
      return out;
    case 'U8':
      out.set(bytes);
      return out;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return out;
    case 'F64':
    case 'I8':
    case 'I16':
    case 'U16':
    case 'I32':
    case 'U32':
    case 'I64':
    case 'U64':
      copyElements(aligned(bytes, elementBytes, ELEMENT_VIEWS[dtype]), out);
      return out;
    case 'F8_E4M3':
    case 'F8_E5M2':
    case 'F8_E8M0':
    case 'F8_E4M3FNUZ':
    case 'F8_E5M2FNUZ': {
      const table = fp8Table(dtype);
      for (let i = 0; i < count; i++) out[i] = table[bytes[i]!]!;
      return out;
    }
  }
}

/** float32 values encoded as little-endian `dtype` bytes (16-bit formats round to nearest, ties to even). */
export function float32ToBytes(values: Float32Array, dtype: WritableFloatDType): Uint8Array {
  switch (dtype) {
    case 'F32':
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case 'BF16':
    case 'F16': {
      const out = new Uint16Array(values.length);
      (dtype === 'BF16' ? f32ToBf16Array : f32ToF16Array)(values, out);
      return new Uint8Array(out.buffer);
    }
    case 'F64':
      return new Uint8Array(Float64Array.from(values).buffer);
    default:
      throw new CheckpointError(`cannot encode float32 values as ${String(dtype)}`, {
        code: 'DTYPE_UNSUPPORTED',
        details: { dtype },
        hint: 'write F32, F16, BF16 or F64',
      });
  }
}

type TypedArrayOf<T> = new (buffer: ArrayBuffer, byteOffset: number, length: number) => T;

/** A typed view of `bytes`, copying first only when the offset is not a multiple of the element size. */
function aligned<T>(bytes: Uint8Array, elementBytes: number, Kind: TypedArrayOf<T>): T {
  const source = bytes.byteOffset % elementBytes === 0 ? bytes : bytes.slice();
  return new Kind(source.buffer as ArrayBuffer, source.byteOffset, source.length / elementBytes);
}

type ElementViewDType = 'F64' | 'I8' | 'I16' | 'U16' | 'I32' | 'U32' | 'I64' | 'U64';

/** Dtypes read element by element through a typed-array view (64-bit integers pass through Number first). */
const ELEMENT_VIEWS: Record<ElementViewDType, TypedArrayOf<ArrayLike<number | bigint>>> = {
  F64: Float64Array,
  I8: Int8Array,
  I16: Int16Array,
  U16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

function copyElements(src: ArrayLike<number | bigint>, dst: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = Number(src[i]!);
}

type Fp8DType = 'F8_E4M3' | 'F8_E5M2' | 'F8_E8M0' | 'F8_E4M3FNUZ' | 'F8_E5M2FNUZ';

const fp8Tables = new Map<Fp8DType, Float32Array>();

function fp8Table(dtype: Fp8DType): Float32Array {
  let table = fp8Tables.get(dtype);
  if (table === undefined) {
    table = new Float32Array(256);
    for (let b = 0; b < 256; b++) table[b] = decodeFp8(b, dtype);
    fp8Tables.set(dtype, table);
  }
  return table;
}

/** Value of one 8-bit float pattern; exported for tests. */
export function decodeFp8(byte: number, dtype: Fp8DType): number {
  if (dtype === 'F8_E8M0') return byte === 0xff ? NaN : 2 ** (byte - 127);
  const fnuz = dtype === 'F8_E4M3FNUZ' || dtype === 'F8_E5M2FNUZ';
  if (fnuz && byte === 0x80) return NaN;
  const mantissaBits = dtype === 'F8_E5M2' || dtype === 'F8_E5M2FNUZ' ? 2 : 3;
  const exponentMax = (1 << (7 - mantissaBits)) - 1;
  const bias = (exponentMax >> 1) + (fnuz ? 1 : 0);
  const sign = byte & 0x80 ? -1 : 1;
  const exponent = (byte & 0x7f) >> mantissaBits;
  const mantissa = byte & ((1 << mantissaBits) - 1);
  if (dtype === 'F8_E5M2' && exponent === exponentMax) return mantissa === 0 ? sign * Infinity : NaN;
  if (dtype === 'F8_E4M3' && exponent === exponentMax && mantissa === (1 << mantissaBits) - 1) return NaN;
  const scale = 2 ** mantissaBits;
  if (exponent === 0) return sign * (mantissa / scale) * 2 ** (1 - bias);
  return sign * (1 + mantissa / scale) * 2 ** (exponent - bias);
}
