/**
 * IDX file reader (the MNIST / Fashion-MNIST container, LeCun et al., yann.lecun.com/exdb/mnist): a 4-byte
 * magic `0x00 0x00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the values big-endian in
 * row-major order. gzip-compressed files (magic `1f 8b`, as Debian's `dataset-fashion-mnist` ships them) are
 * inflated with zlib first.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { CheckpointError } from '../../core/errors.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  data: IdxData;
}

const TYPE_CODES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

/** Parses an IDX buffer (gzip or plain). `source` names the file in error messages. */
export function parseIdx(buffer: Uint8Array, source = '<buffer>'): IdxArray {
  const bytes = buffer.length >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b ? new Uint8Array(gunzipSync(buffer)) : buffer;
  const fail = (message: string): never => {
    throw new CheckpointError(message, { file: source, hint: 'expected an IDX file such as train-images-idx3-ubyte(.gz)' });
  };
  if (bytes.length < 4) fail(`IDX header needs 4 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0) fail(`IDX magic must start with 0x0000, got 0x${view.getUint16(0).toString(16).padStart(4, '0')}`);
  const typeCode = view.getUint8(2);
  const spec = TYPE_CODES[typeCode];
  if (!spec) return fail(`unknown IDX element type 0x${typeCode.toString(16)}; valid: 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e`);
  const ndims = view.getUint8(3);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) fail(`IDX header with ${ndims} dims needs ${headerBytes} bytes, got ${bytes.length}`);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * spec.bytes;
  if (bytes.length !== expected) {
    fail(`IDX body size mismatch: dims [${dims.join(', ')}] of ${spec.type} need ${expected} bytes in total, got ${bytes.length}`);
  }
  return { type: spec.type, dims, data: decodeBigEndian(view, headerBytes, count, spec.type) };
}

function decodeBigEndian(view: DataView, offset: number, count: number, type: IdxType): IdxData {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i);
      return out;
    }
  }
}

export function readIdxFile(path: string): IdxArray {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (cause) {
    throw new CheckpointError(`cannot read IDX file: ${(cause as Error).message}`, {
      file: path,
      code: 'CHECKPOINT_NOT_FOUND',
      hint: 'install the data with `apt-get install dataset-fashion-mnist` or pass --data-dir',
      cause,
    });
  }
  return parseIdx(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), path);
}

/** Encodes an array as IDX (big-endian); used by tests to build synthetic files. */
export function encodeIdx(type: IdxType, dims: readonly number[], values: ArrayLike<number>): Uint8Array {
  const code = Number(Object.entries(TYPE_CODES).find(([, s]) => s.type === type)![0]);
  const bytesPer = TYPE_CODES[code]!.bytes;
  const out = new Uint8Array(4 + 4 * dims.length + values.length * bytesPer);
  const view = new DataView(out.buffer);
  view.setUint8(2, code);
  view.setUint8(3, dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const base = 4 + 4 * dims.length;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const at = base + i * bytesPer;
    if (type === 'uint8') view.setUint8(at, v);
    else if (type === 'int8') view.setInt8(at, v);
    else if (type === 'int16') view.setInt16(at, v);
    else if (type === 'int32') view.setInt32(at, v);
    else if (type === 'float32') view.setFloat32(at, v);
    else view.setFloat64(at, v);
  }
  return out;
}
