// Fuzzing the safetensors validation (formats.md §1.2): valid hand-made files broken by one mutation each.
// Every outcome must be a clean parse that satisfies the layout invariants or a typed CheckpointError with a
// `reason` and the file name; anything else (TypeError, RangeError, hang) fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { CheckpointError, type SafetensorsReason } from '../../core/errors.js';
import { DTYPE_BITS, type DType } from '../../core/dtype.js';
import { parseSafetensorsHeader, readHeaderLength, type ParsedHeader } from './header.js';
import { SafetensorsFile } from './reader.js';
import { byteLengthOf, handFile, type HandTensor } from '../../../test/support/hand-safetensors.js';

const READABLE: DType[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2'];

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

type Mutation =
  | { kind: 'length'; value: bigint }
  | { kind: 'huge'; value: bigint }
  | { kind: 'offsets'; index: number; begin: number; end: number }
  | { kind: 'shape'; index: number; dim: number }
  | { kind: 'dtype'; index: number; dtype: string }
  | { kind: 'utf8'; at: number; bytes: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; flips: [number, number][] }
  | { kind: 'trailing'; count: number }
  | { kind: 'duplicate'; index: number };

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
);

interface FuzzCase {
  tensors: { name: string; dtype: DType; shape: number[] }[];
  metadata: boolean;
  padding: number;
  mutation: Mutation;
}

const caseArb: fc.Arbitrary<FuzzCase> = fc.record({
  tensors: tensorSetArb,
  metadata: fc.boolean(),
  padding: fc.integer({ min: 0, max: 7 }),
  mutation: mutationArb,
});

interface Mutated {
  bytes: Uint8Array;
  /** the reason this mutation must produce, when it is determined */
  expected?: SafetensorsReason;
}

function build(c: FuzzCase): Mutated {
  const tensors: HandTensor[] = c.tensors.map((t) => ({ ...t, shape: [...t.shape] }));
  const options = { metadata: c.metadata ? { format: 'pt' } : undefined, padding: c.padding };
  const m = c.mutation;
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
  }
}

function offsetsOf(tensors: readonly HandTensor[], index: number): [number, number] {
  let begin = 0;
  for (let i = 0; i < index; i++) begin += byteLengthOf(tensors[i]!.dtype, tensors[i]!.shape);
  return [begin, begin + byteLengthOf(tensors[index]!.dtype, tensors[index]!.shape)];
}

function parseInMemory(bytes: Uint8Array, file: string): ParsedHeader {
  const n = readHeaderLength(bytes.subarray(0, Math.min(8, bytes.length)), bytes.length, file);
  return parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, file);
}

function checkOutcome(run: () => ParsedHeader, fileSize: number, file: string, expected: SafetensorsReason | undefined): ParsedHeader | undefined {
  let parsed: ParsedHeader;
  try {
    parsed = run();
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw new Error(`untyped failure: ${String(error)}`, { cause: error });
    assert.ok(error.reason !== undefined, `reason missing: ${error.message}`);
    assert.ok(error.message.includes(file), `message must name the file: ${error.message}`);
    if (expected !== undefined) assert.equal(error.reason, expected, error.message);
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

test('10,000 mutated headers through the pure parser: typed errors or valid layouts, never a crash', { timeout: 60_000 }, () => {
  const counts = new Map<string, number>();
  fc.assert(
    fc.property(caseArb, (c) => {
      const { bytes, expected } = build(c);
      const parsed = checkOutcome(() => parseInMemory(bytes, 'fuzz.safetensors'), bytes.length, 'fuzz.safetensors', expected);
      const key = `${c.mutation.kind}:${parsed ? 'accepted' : 'rejected'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }),
    { numRuns: 10_000, seed: 424242 },
  );
  // the mutations that must always fail did, and the generator reached every kind
  for (const kind of ['huge', 'dtype', 'utf8', 'truncate', 'trailing', 'duplicate']) assert.equal(counts.get(`${kind}:accepted`), undefined);
  for (const kind of ['length', 'huge', 'offsets', 'shape', 'dtype', 'utf8', 'truncate', 'flip', 'trailing', 'duplicate']) {
    assert.ok((counts.get(`${kind}:rejected`) ?? 0) > 50, `${kind} rejected ${counts.get(`${kind}:rejected`)} times`);
  }
});

test('2,000 mutated files on disk through SafetensorsFile.open and full reads', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-st-fuzz-'));
  const path = join(dir, 'case.safetensors');
  let accepted = 0;
  try {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { bytes, expected } = build(c);
        writeFileSync(path, bytes);
        let file: SafetensorsFile | undefined;
        checkOutcome(
          () => {
            file = SafetensorsFile.open(path);
            return { metadata: file.metadata, entries: new Map(file.names().map((n) => [n, file!.entry(n)])), dataLength: file.fileSize - file.dataStart };
          },
          bytes.length,
          path,
          expected,
        );
        if (file === undefined) return;
        try {
          accepted++;
          let total = 0;
          for (const name of file.names()) {
            const entry = file.entry(name);
            const data = file.readBytes(name);
            total += data.length;
            assert.deepEqual(data, bytes.subarray(file.dataStart + entry.begin, file.dataStart + entry.end));
            const values = file.readFloat32(name);
            assert.equal(values.length, entry.shape.reduce((a, b) => a * b, 1));
          }
          // reads never exceed what the file holds
          assert.ok(total <= bytes.length - file.dataStart);
        } finally {
          file.close();
        }
      }),
      { numRuns: 2_000, seed: 1717 },
    );
    assert.ok(accepted > 20, `only ${accepted} files were valid after mutation`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
