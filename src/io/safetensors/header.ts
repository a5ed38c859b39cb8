/**
 * safetensors header parsing and validation (formats.md §1.1–§1.2), as pure functions over bytes so the
 * fuzz test can drive them without files. Error reasons keep the names of the reference implementation
 * (huggingface/safetensors `SafeTensorError`). Stricter than the format on purpose (documented, and kept as
 * such in the differential corpus test/safetensors-corpus): a key repeated in any object is refused, including
 * `__metadata__` keys; a header starting with whitespace is refused (rule 3, first byte `{`).
 */
import { CheckpointError, type SafetensorsReason } from '../../core/errors.js';
import { DTYPE_BITS, isDType, type DType } from '../../core/dtype.js';
import { JsonSyntaxError, parseStrictJson, type JsonNode } from './strict-json.js';

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
  let root: JsonNode;
  try {
    root = parseStrictJson(text);
  } catch (cause) {
    if (!(cause instanceof JsonSyntaxError)) throw cause;
    const reason = cause.kind === 'duplicate' ? 'InvalidHeader' : 'InvalidHeaderDeserialization';
    const what = cause.kind === 'syntax' ? `header is not valid JSON: ${cause.message}` : cause.message;
    failAt(reason, what, text, cause.at, file, cause.duplicate?.depth === 1 ? cause.duplicate.key : undefined);
  }
  if (root.kind !== 'object') {
    fail('InvalidHeaderDeserialization', 'header must be a JSON object', file, CORRUPT_HINT);
  }

  let metadata: Record<string, string> | undefined;
  const unordered: [string, SafetensorsEntry][] = [];
  for (const { key, value } of root.entries) {
    if (key === METADATA_KEY) metadata = parseMetadata(value, text, file);
    else unordered.push([key, parseEntry(key, value, text, file)]);
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

/** `8 + byte length of text[0, at)`: where in the file a header character sits. */
function byteOffsetOf(text: string, at: number): number {
  return 8 + Buffer.byteLength(text.slice(0, at), 'utf8');
}

function failAt(reason: SafetensorsReason, message: string, text: string, at: number, file: string, tensor?: string): never {
  const offset = byteOffsetOf(text, at);
  throw new CheckpointError(`${message} at byte ${offset}`, { reason, file, tensor, hint: CORRUPT_HINT, details: { reason, offset } });
}

function parseEntry(name: string, value: JsonNode, text: string, file: string): SafetensorsEntry {
  const bad = (what: string, at: number = value.at): never => failAt('InvalidHeaderDeserialization', `tensor entry ${what}`, text, at, file, name);
  if (value.kind !== 'object') return bad('must be an object with dtype, shape and data_offsets');
  // unknown fields are ignored, as the reference implementation does; repeated ones were refused by the parser
  const field = (key: string): JsonNode => value.entries.find((e) => e.key === key)?.value ?? bad(`has no '${key}' field`);
  const dtype = field('dtype');
  if (dtype.kind !== 'string' || !isDType(dtype.value)) return bad(`has unknown dtype ${sourceOf(text, dtype)}`, dtype.at);
  const shape = field('shape');
  if (shape.kind !== 'array') return bad(`shape must be an array of non-negative integers, got ${sourceOf(text, shape)}`, shape.at);
  const dims = shape.items.map((d) => integerOf(d) ?? bad(`shape must hold non-negative integers, got ${sourceOf(text, d)}`, d.at));
  const offsets = field('data_offsets');
  if (offsets.kind !== 'array' || offsets.items.length !== 2) {
    return bad(`data_offsets must be two non-negative integers, got ${sourceOf(text, offsets)}`, offsets.at);
  }
  const [begin, end] = offsets.items.map(
    (o) => integerOf(o) ?? bad(`data_offsets must be two non-negative integers, got ${sourceOf(text, o)}`, o.at),
  ) as [number, number];
  return { dtype: dtype.value as DType, shape: dims, begin, end };
}

function parseMetadata(value: JsonNode, text: string, file: string): Record<string, string> | undefined {
  if (value.kind === 'literal' && value.value === null) return undefined;
  const bad = (at: number): never => failAt('InvalidHeaderDeserialization', `${METADATA_KEY} must map strings to strings`, text, at, file);
  if (value.kind !== 'object') return bad(value.at);
  const out: Record<string, string> = {};
  for (const { key, value: v } of value.entries) {
    if (v.kind !== 'string') return bad(v.at);
    Object.defineProperty(out, key, { value: v.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * A JSON number spelled as a non-negative integer (`8`, not `8.0`, `8e0` or `-0`) that fits 2^53, else
 * undefined: safetensors reads these fields as unsigned integers, which refuse any other spelling.
 */
function integerOf(node: JsonNode): number | undefined {
  if (node.kind !== 'number' || !/^(?:0|[1-9][0-9]*)$/.test(node.raw)) return undefined;
  const value = Number(node.raw);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** a short excerpt of the source of a value, for messages */
function sourceOf(text: string, node: JsonNode): string {
  if (node.kind === 'number') return node.raw;
  if (node.kind === 'string') return JSON.stringify(node.value);
  if (node.kind === 'literal') return String(node.value);
  const excerpt = text.slice(node.at, node.at + 40);
  return excerpt.length === 40 ? `${excerpt}…` : excerpt;
}

function describeByte(byte: number | undefined): string {
  return byte === undefined ? '<none>' : `0x${byte.toString(16).padStart(2, '0').toUpperCase()}`;
}
