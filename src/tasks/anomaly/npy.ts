/**
 * NumPy `.npy` reader (format versions 1.0, 2.0 and 3.0; NEP 1): little-endian float64 or float32, C order,
 * any shape. Values come back as float64. Anything else fails with a typed error naming the file and field.
 */
import { readFileSync } from 'node:fs';
import { ModelevoError } from '../../core/errors.js';

export interface NpyArray {
  readonly shape: readonly number[];
  readonly data: Float64Array;
  /** stored dtype descriptor, e.g. `<f8` */
  readonly descr: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function npyError(file: string, message: string, hint = 'save the array with numpy.save(path, array.astype("<f8"))'): ModelevoError {
  return new ModelevoError('VALUE_INVALID', `${file}: ${message}`, { hint, details: { file } });
}

export function readNpy(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new ModelevoError('CHECKPOINT_NOT_FOUND', `cannot read ${path}: ${(cause as Error).message}`, { hint: 'check the path', cause });
  }
  return parseNpy(bytes, path);
}

export function parseNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw npyError(file, 'not a .npy file (magic \\x93NUMPY missing)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw npyError(file, 'truncated header length');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw npyError(file, `unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  if (headerStart + headerLength > bytes.length) throw npyError(file, `header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes)`);
  const decoder = new TextDecoder(major === 3 ? 'utf-8' : 'latin1');
  const header = decoder.decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw npyError(file, `malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw npyError(file, 'Fortran-ordered arrays are not supported (expected C order)', 'save with numpy.save(path, numpy.ascontiguousarray(array))');
  const itemSize = descr === '<f8' ? 8 : descr === '<f4' ? 4 : undefined;
  if (itemSize === undefined) throw npyError(file, `dtype '${descr}' is not supported (expected '<f8' or '<f4')`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw npyError(file, `invalid shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * itemSize) {
    throw npyError(file, `expected ${count * itemSize} data bytes for shape [${shape.join(', ')}] ${descr}, found ${bytes.length - dataStart}`);
  }
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = itemSize === 8 ? view.getFloat64(dataStart + 8 * i, true) : view.getFloat32(dataStart + 4 * i, true);
  return { shape, data, descr };
}

/** Encodes a C-order float array as .npy version 1.0 (used for fixtures and tests). */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], descr: '<f8' | '<f4' = '<f8', version: 1 | 2 | 3 = 1): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, ' ') + '\n';
  const itemSize = descr === '<f8' ? 8 : 4;
  const out = new Uint8Array(total + data.length * itemSize);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  for (let i = 0; i < data.length; i++) {
    if (itemSize === 8) view.setFloat64(total + 8 * i, data[i]!, true);
    else view.setFloat32(total + 4 * i, data[i]!, true);
  }
  return out;
}
