/**
 * A deliberately naive safetensors reader/writer for tests (formats.md §1.1): whole-file reads, no validation
 * beyond what the tests need. It is independent of src/io/safetensors so tests can cross-check that code.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface PlainTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** One header entry; `begin`/`end` are the data_offsets, relative to `dataStart`. */
export interface PlainEntry {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** The header of whole-file bytes: where the data starts and every tensor entry (no `__metadata__`), in header order. */
export function parsePlainHeader(file: Buffer): { dataStart: number; entries: Map<string, PlainEntry> } {
  const headerLength = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const entries = new Map<string, PlainEntry>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
    entries.set(name, { dtype, shape, begin: offsets[0], end: offsets[1] });
  }
  return { dataStart: 8 + headerLength, entries };
}

export function readPlainSafetensors(path: string): Map<string, PlainTensor> {
  const file = readFileSync(path);
  const { dataStart, entries } = parsePlainHeader(file);
  const out = new Map<string, PlainTensor>();
  for (const [name, { dtype, shape, begin, end }] of entries) {
    out.set(name, { dtype, shape, data: new Uint8Array(file.subarray(dataStart + begin, dataStart + end)) });
  }
  return out;
}

/** Writes tensors in the given order (no sorting), header padded to 8 bytes, `{"format":"pt"}` metadata. */
export function writePlainSafetensors(path: string, tensors: Iterable<[string, PlainTensor]>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    chunks.push(t.data);
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([length, Buffer.from(json, 'utf8'), ...chunks]));
}

export function f32Tensor(shape: number[], values: ArrayLike<number>): PlainTensor {
  const array = Float32Array.from(values);
  return { dtype: 'F32', shape, data: new Uint8Array(array.buffer) };
}

export function asFloat32(t: PlainTensor): Float32Array {
  if (t.dtype !== 'F32') throw new Error(`asFloat32: expected F32, got ${t.dtype}`);
  const copy = t.data.slice();
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}
