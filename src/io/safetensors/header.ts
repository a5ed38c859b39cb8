/**
 * safetensors header parsing and validation (formats.md §1.1–§1.2), as pure functions over bytes so the
 * fuzz test can drive them without files. Error reasons keep the names of the reference implementation
 * (huggingface/safetensors `SafeTensorError`).
 */
import { CheckpointError, type SafetensorsReason } from '../../core/errors.js';
import { DTYPE_BITS, isDType, type DType } from '../../core/dtype.js';
import { findDuplicateTopLevelKey } from './json-keys.js';

/** The reference implementation's cap on the header size. */
export const MAX_HEADER_BYTES = 100_000_000;
export const METADATA_KEY = '__metadata__';

export interface SafetensorsEntry {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** byte offsets relative to the data start; `end` is exclusive */
  readonly begin: number;
  readonly end: number;
}

export interface ParsedHeader {
  readonly metadata: Record<string, string> | undefined;
  /** tensors in data order (ascending offset) */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** bytes of tensor data the header describes (the last END) */
  readonly dataLength: number;
}

function fail(reason: SafetensorsReason, message: string, file: string, hint: string, tensor?: string): never {
  throw new CheckpointError(message, { reason, file, tensor, hint, details: { reason } });
}

const CORRUPT_HINT = 'the file is not a valid safetensors file; re-download or re-export it';

/**
 * Header length N from the first 8 bytes, checked against the file size before anything is allocated
 * (rules 1–2).
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.length < 8) {
    fail('HeaderTooSmall', `file is ${fileSize} bytes, shorter than the 8-byte header length`, file, CORRUPT_HINT);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const claimed = view.getBigUint64(0, true);
  if (claimed > BigInt(MAX_HEADER_BYTES)) {
    fail('HeaderTooLarge', `header length ${claimed} exceeds the ${MAX_HEADER_BYTES}-byte limit`, file, CORRUPT_HINT);
  }
  const headerLength = Number(claimed);
  if (8 + headerLength > fileSize) {
    fail(
      'InvalidHeaderLength',
      `header length ${headerLength} runs past the end of the ${fileSize}-byte file`,
      file,
      'the file is truncated or not a safetensors file',
    );
  }
  return headerLength;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Validates the N header bytes (rules 3–7) of a file of `fileSize` bytes whose data start at 8 + N.
 * Pure: reads nothing but its arguments.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): ParsedHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    fail('InvalidHeader', 'header is not valid UTF-8', file, CORRUPT_HINT);
  }
  if (headerBytes[0] !== 0x7b) {
    fail('InvalidHeaderStart', `header must start with '{' (0x7B), found byte ${describeByte(headerBytes[0])}`, file, CORRUPT_HINT);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    fail('InvalidHeaderDeserialization', `header is not valid JSON: ${(cause as Error).message}`, file, CORRUPT_HINT);
  }
  if (!isPlainObject(json)) {
    fail('InvalidHeaderDeserialization', 'header must be a JSON object', file, CORRUPT_HINT);
  }
  const duplicate = findDuplicateTopLevelKey(text);
  if (duplicate !== undefined) {
    fail('InvalidHeader', `key '${duplicate}' appears more than once in the header`, file, CORRUPT_HINT, duplicate);
  }

  let metadata: Record<string, string> | undefined;
  const unordered: [string, SafetensorsEntry][] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, file);
    else unordered.push([name, parseEntry(name, value, file)]);
  }
  // stable sort: zero-length tensors sharing an offset keep their header order
  const sorted = unordered
    .map((pair, index) => ({ pair, index }))
    .sort((a, b) => a.pair[1].begin - b.pair[1].begin || a.pair[1].end - b.pair[1].end || a.index - b.index)
    .map(({ pair }) => pair);

  let position = 0;
  for (const [name, entry] of sorted) {
    if (entry.begin !== position || entry.end < entry.begin) {
      fail(
        'InvalidOffset',
        `data_offsets [${entry.begin}, ${entry.end}] do not continue the data buffer at byte ${position} (holes and overlaps are not allowed)`,
        file,
        CORRUPT_HINT,
        name,
      );
    }
    checkByteCount(name, entry, file);
    position = entry.end;
  }
  const dataStart = 8 + headerBytes.length;
  if (dataStart + position !== fileSize) {
    fail(
      'MetadataIncompleteBuffer',
      `header describes ${position} data bytes ending at byte ${dataStart + position}, but the file has ${fileSize} bytes`,
      file,
      'the file is truncated or has trailing data',
    );
  }
  return { metadata, entries: new Map(sorted), dataLength: position };
}

function checkByteCount(name: string, entry: SafetensorsEntry, file: string): void {
  let elements = 1;
  for (const d of entry.shape) {
    elements *= d;
    if (!Number.isSafeInteger(elements)) {
      fail('ValidationOverflow', `element count of shape [${entry.shape.join(', ')}] exceeds 2^53`, file, CORRUPT_HINT, name);
    }
  }
  const bits = elements * DTYPE_BITS[entry.dtype];
  if (!Number.isSafeInteger(bits)) {
    fail('ValidationOverflow', `bit count of shape [${entry.shape.join(', ')}] exceeds 2^53`, file, CORRUPT_HINT, name);
  }
  if (bits % 8 !== 0) {
    fail('MisalignedSlice', `${elements} ${entry.dtype} elements are ${bits} bits, not a whole number of bytes`, file, CORRUPT_HINT, name);
  }
  const expected = bits / 8;
  const actual = entry.end - entry.begin;
  if (expected !== actual) {
    fail(
      'TensorInvalidInfo',
      `${entry.dtype} [${entry.shape.join(', ')}] needs ${expected} bytes, data_offsets give ${actual}`,
      file,
      CORRUPT_HINT,
      name,
    );
  }
}

function parseEntry(name: string, value: unknown, file: string): SafetensorsEntry {
  const bad = (what: string): never =>
    fail('InvalidHeaderDeserialization', `tensor entry ${what}`, file, CORRUPT_HINT, name);
  if (!isPlainObject(value)) return bad('must be an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string' || !isDType(dtype)) return bad(`has unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    return bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    return bad(`data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  return { dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}

function parseMetadata(value: unknown, file: string): Record<string, string> | undefined {
  if (value === null) return undefined;
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    fail('InvalidHeaderDeserialization', `${METADATA_KEY} must map strings to strings`, file, CORRUPT_HINT);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeByte(byte: number | undefined): string {
  return byte === undefined ? '<none>' : `0x${byte.toString(16).padStart(2, '0').toUpperCase()}`;
}
