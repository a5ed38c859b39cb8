/**
 * The safetensors reader fuzz cases (formats.md §1.2), shared by the CI property test
 * (src/io/safetensors/fuzz.prop.test.ts, 10,000 seeded cases) and `npm run fuzz` (1,000,000 cases): valid
 * hand-made files broken by one mutation each. Each outcome must be a clean parse that satisfies the layout
 * invariants or a typed CheckpointError with a `reason` and the file name; a mutation whose verdict the
 * format fixes also states the reason it must produce (or that the file must be accepted).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CheckpointError, type SafetensorsReason } from '../../src/core/errors.js';
import { DTYPE_BITS, type DType } from '../../src/core/dtype.js';
import { parseSafetensorsHeader, readHeaderLength, type ParsedHeader } from '../../src/io/safetensors/header.js';
import { byteLengthOf, handFile, type HandTensor } from './hand-safetensors.js';

export const READABLE: DType[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2'];

const tensorSetArb = fc
  .uniqueArray(
    fc.record({
      name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9._]{0,12}$/), fc.string({ minLength: 1, maxLength: 6 })),
      dtype: fc.constantFrom(...READABLE),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    }),
    { selector: (t) => t.name, maxLength: 5 },
  )
  .filter((ts) => ts.every((t) => t.name !== '__metadata__'));

export type Mutation =
  | { kind: 'length'; value: bigint }
  | { kind: 'huge'; value: bigint }
  | { kind: 'offsets'; index: number; begin: number; end: number }
  | { kind: 'shape'; index: number; dim: number }
  | { kind: 'dtype'; index: number; dtype: string }
  | { kind: 'utf8'; at: number; bytes: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; flips: [number, number][] }
  | { kind: 'trailing'; count: number }
  | { kind: 'duplicate'; index: number }
  | { kind: 'deep'; index: number; depth: number; inShape: boolean }
  | { kind: 'float-int'; index: number; field: number; spelling: number }
  | { kind: 'inner-duplicate'; index: number; field: number }
  | { kind: 'metadata-type'; value: string }
  | { kind: 'nan'; fill: number };

export const MUTATION_KINDS = ['length', 'huge', 'offsets', 'shape', 'dtype', 'utf8', 'truncate', 'flip', 'trailing', 'duplicate', 'deep', 'float-int', 'inner-duplicate', 'metadata-type', 'nan'] as const;
/** kinds every case of which must be rejected */
export const MUST_FAIL = ['huge', 'dtype', 'utf8', 'truncate', 'trailing', 'duplicate', 'float-int', 'inner-duplicate', 'metadata-type'] as const;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 400n })) }),
  fc.record({ kind: fc.constant('huge' as const), value: fc.bigInt({ min: 100_000_001n, max: 2n ** 64n - 1n }) }),
  fc.record({ kind: fc.constant('offsets' as const), index: fc.nat(), begin: fc.integer({ min: 0, max: 300 }), end: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant('shape' as const), index: fc.nat(), dim: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant('dtype' as const), index: fc.nat(), dtype: fc.constantFrom<string>('F12', 'f32', 'INT8', '', 'Q4_0', 'BF16 ') }),
  fc.record({ kind: fc.constant('utf8' as const), at: fc.nat(), bytes: fc.constantFrom<number[]>([0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('trailing' as const), count: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), index: fc.nat() }),
  fc.record({
    kind: fc.constant('deep' as const),
    index: fc.nat(),
    depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 120, max: 135 }), fc.integer({ min: 1_000, max: 20_000 })),
    inShape: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('float-int' as const), index: fc.nat(), field: fc.nat(), spelling: fc.nat() }),
  fc.record({ kind: fc.constant('inner-duplicate' as const), index: fc.nat(), field: fc.nat() }),
  fc.record({ kind: fc.constant('metadata-type' as const), value: fc.constantFrom('1', '"pt"', '["format","pt"]', 'true', '{"format":1}', '{"format":null}', '{"a":["x"]}', '{"a":{"b":"c"}}', '{"format":"pt","format":"pt"}') }),
  fc.record({ kind: fc.constant('nan' as const), fill: fc.constantFrom(0xff, 0x7f) }),
);

export interface FuzzCase {
  tensors: { name: string; dtype: DType; shape: number[] }[];
  metadata: boolean;
  padding: number;
  mutation: Mutation;
}

export const caseArb: fc.Arbitrary<FuzzCase> = fc.record({
  tensors: tensorSetArb,
  metadata: fc.boolean(),
  padding: fc.integer({ min: 0, max: 7 }),
  mutation: mutationArb,
});

interface Mutated {
  bytes: Uint8Array;
  /** the reason this mutation must produce, when it is determined */
  expected?: SafetensorsReason;
  /** the format accepts this file (e.g. data full of NaN: values are not a format error) */
  accept?: boolean;
}

/** The header written field by field, so single fields can be re-spelled (raw JSON fragments). */
interface RawEntry {
  name: string;
  fields: [string, string][];
}

function rawEntries(tensors: readonly HandTensor[]): RawEntry[] {
  return tensors.map((t, i) => ({
    name: t.name,
    fields: [
      ['dtype', JSON.stringify(t.dtype)],
      ['shape', JSON.stringify(t.shape)],
      ['data_offsets', JSON.stringify(offsetsOf(tensors, i))],
    ],
  }));
}

function rawHeader(entries: readonly RawEntry[], metadata: string | undefined): string {
  const parts = entries.map((e) => `${JSON.stringify(e.name)}:{${e.fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
  if (metadata !== undefined) parts.unshift(`"__metadata__":${metadata}`);
  return `{${parts.join(',')}}`;
}

/** ways to write the integer v that are not integer literals */
function floatSpellings(v: number): string[] {
  return [`${v}.0`, `${v}e0`, `${v}E+0`, `${v * 10}e-1`, v === 0 ? '-0' : `${v / 1000}e3`, `${v}.00`];
}

export function build(c: FuzzCase): Mutated {
  const tensors: HandTensor[] = c.tensors.map((t) => ({ ...t, shape: [...t.shape] }));
  const options = { metadata: c.metadata ? { format: 'pt' } : undefined, padding: c.padding };
  const m = c.mutation;
  const metadataText = c.metadata ? '{"format":"pt"}' : undefined;
  const pick = (index: number) => tensors[index % Math.max(1, tensors.length)];
  switch (m.kind) {
    case 'length':
      return { bytes: handFile(tensors, { ...options, claimedLength: m.value }) };
    case 'huge':
      return { bytes: handFile(tensors, { ...options, claimedLength: m.value }), expected: 'HeaderTooLarge' };
    case 'offsets': {
      const t = pick(m.index);
      if (t) t.offsets = [m.begin, m.end];
      return { bytes: handFile(tensors, options) };
    }
    case 'shape': {
      const t = pick(m.index);
      if (t) {
        t.data = new Uint8Array(byteLengthOf(t.dtype, t.shape));
        t.shape = t.shape.length === 0 ? [m.dim] : [...t.shape.slice(1), m.dim];
      }
      return { bytes: handFile(tensors, options) };
    }
    case 'dtype': {
      const t = pick(m.index);
      if (!t) return { bytes: handFile([{ name: 'w', dtype: m.dtype, shape: [1], data: new Uint8Array(1) }], options), expected: 'InvalidHeaderDeserialization' };
      t.data = new Uint8Array(byteLengthOf(t.dtype, t.shape));
      t.dtype = m.dtype;
      return { bytes: handFile(tensors, options), expected: 'InvalidHeaderDeserialization' };
    }
    case 'utf8': {
      const valid = handFile(tensors, options);
      const n = Number(new DataView(valid.buffer).getBigUint64(0, true));
      const at = 9 + (m.at % Math.max(1, n - 1)); // after the '{'
      const out = new Uint8Array(valid.length + m.bytes.length);
      out.set(valid.subarray(0, at));
      out.set(m.bytes, at);
      out.set(valid.subarray(at), at + m.bytes.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(n + m.bytes.length), true);
      return { bytes: out, expected: 'InvalidHeader' };
    }
    case 'truncate': {
      const valid = handFile(tensors, options);
      const n = Number(new DataView(valid.buffer).getBigUint64(0, true));
      const at = m.at % valid.length;
      const expected = at < 8 ? 'HeaderTooSmall' : at < 8 + n ? 'InvalidHeaderLength' : 'MetadataIncompleteBuffer';
      return { bytes: valid.slice(0, at), expected };
    }
    case 'flip': {
      const bytes = handFile(tensors, options);
      for (const [at, mask] of m.flips) bytes[at % bytes.length]! ^= mask;
      return { bytes };
    }
    case 'trailing':
      return { bytes: handFile(tensors, { ...options, trailing: m.count }), expected: 'MetadataIncompleteBuffer' };
    case 'duplicate': {
      if (tensors.length === 0) tensors.push({ name: 'w', dtype: 'U8', shape: [0] });
      const t = pick(m.index)!;
      const entry = JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [0, 0] });
      const rest = JSON.stringify(Object.fromEntries(tensors.map((x, i) => [x.name, { dtype: x.dtype, shape: x.shape, data_offsets: offsetsOf(tensors, i) }])));
      const headerText = `{${JSON.stringify(t.name)}:${entry},${rest.slice(1)}`.replace(/,}$/, '}');
      return { bytes: handFile(tensors, { ...options, headerText }), expected: 'InvalidHeader' };
    }
    case 'deep': {
      // an array nested `depth` levels in the shape (never valid) or in an unknown field (ignored by the
      // format, so valid while the whole header nests at most 128 levels: object, entry, then the arrays)
      if (tensors.length === 0) tensors.push({ name: 'w', dtype: 'U8', shape: [1] });
      const entries = rawEntries(tensors);
      const e = entries[m.index % entries.length]!;
      const depth = m.inShape ? Math.max(2, m.depth) : m.depth; // `[]` alone is a valid (scalar) shape
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      if (m.inShape) e.fields[1] = ['shape', nested];
      else e.fields.push(['extra', nested]);
      const headerText = rawHeader(entries, metadataText);
      const tooDeep = 2 + depth > 128;
      const expected = m.inShape || tooDeep ? 'InvalidHeaderDeserialization' : undefined;
      return { bytes: handFile(tensors, { ...options, headerText }), ...(expected ? { expected } : { accept: true }) };
    }
    case 'float-int': {
      if (tensors.length === 0) tensors.push({ name: 'w', dtype: 'U8', shape: [3] });
      const entries = rawEntries(tensors);
      const index = m.index % entries.length;
      const t = tensors[index]!;
      const integers = [...t.shape.map((d, i) => ({ field: 1, at: i, value: d })), ...offsetsOf(tensors, index).map((o, i) => ({ field: 2, at: i, value: o }))];
      const target = integers[m.field % integers.length]!;
      const spellings = floatSpellings(target.value);
      const values = target.field === 1 ? t.shape.map(String) : offsetsOf(tensors, index).map(String);
      values[target.at] = spellings[m.spelling % spellings.length]!;
      entries[index]!.fields[target.field]![1] = `[${values.join(',')}]`;
      return { bytes: handFile(tensors, { ...options, headerText: rawHeader(entries, metadataText) }), expected: 'InvalidHeaderDeserialization' };
    }
    case 'inner-duplicate': {
      if (tensors.length === 0) tensors.push({ name: 'w', dtype: 'U8', shape: [2] });
      const entries = rawEntries(tensors);
      const e = entries[m.index % entries.length]!;
      e.fields.push(e.fields[m.field % e.fields.length]!); // the same field again, same value
      return { bytes: handFile(tensors, { ...options, headerText: rawHeader(entries, metadataText) }), expected: 'InvalidHeader' };
    }
    case 'metadata-type': {
      const expected = m.value.includes('"format":"pt","format"') ? 'InvalidHeader' : 'InvalidHeaderDeserialization';
      return { bytes: handFile(tensors, { ...options, headerText: rawHeader(rawEntries(tensors), m.value) }), expected };
    }
    case 'nan': {
      // 0xFF.. and 0x7F.. bytes are NaN (or huge) in every float dtype: a value, not a format error
      for (const t of tensors) t.data = new Uint8Array(byteLengthOf(t.dtype, t.shape)).fill(m.fill);
      return { bytes: handFile(tensors, options), accept: true };
    }
  }
}

function offsetsOf(tensors: readonly HandTensor[], index: number): [number, number] {
  let begin = 0;
  for (let i = 0; i < index; i++) begin += byteLengthOf(tensors[i]!.dtype, tensors[i]!.shape);
  return [begin, begin + byteLengthOf(tensors[index]!.dtype, tensors[index]!.shape)];
}

export function parseInMemory(bytes: Uint8Array, file: string): ParsedHeader {
  const n = readHeaderLength(bytes.subarray(0, Math.min(8, bytes.length)), bytes.length, file);
  return parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, file);
}

export function checkOutcome(run: () => ParsedHeader, fileSize: number, file: string, expected: SafetensorsReason | undefined, accept = false): ParsedHeader | undefined {
  let parsed: ParsedHeader;
  try {
    parsed = run();
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw new Error(`untyped failure: ${String(error)}`, { cause: error });
    assert.ok(error.reason !== undefined, `reason missing: ${error.message}`);
    assert.ok(error.message.includes(file), `message must name the file: ${error.message}`);
    if (expected !== undefined) assert.equal(error.reason, expected, error.message);
    assert.ok(!accept, `the format accepts this file, but it was rejected: ${error.message}`);
    return undefined;
  }
  assert.equal(expected, undefined, `expected ${expected}, but the file was accepted`);
  // accepted files satisfy the layout rules: tiling from 0, exact byte counts, nothing past the end
  let position = 0;
  for (const entry of parsed.entries.values()) {
    assert.equal(entry.begin, position);
    const bits = entry.shape.reduce((a, b) => a * b, 1) * DTYPE_BITS[entry.dtype];
    assert.equal(entry.end - entry.begin, bits / 8);
    position = entry.end;
  }
  assert.ok(position <= fileSize);
  return parsed;
}

