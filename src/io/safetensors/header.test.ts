// One hand-made corrupt file per validation rule of formats.md §1.2, through the pure parser and through
// SafetensorsFile.open on a real file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CheckpointError, type SafetensorsReason } from '../../core/errors.js';
import { parseSafetensorsHeader, readHeaderLength } from './header.js';
import { SafetensorsFile } from './reader.js';
import { handFile, type HandTensor } from '../../../test/support/hand-safetensors.js';

const NAME = 'corrupt.safetensors';

function parseBytes(file: Uint8Array, name = NAME) {
  const n = readHeaderLength(file.subarray(0, Math.min(8, file.length)), file.length, name);
  return parseSafetensorsHeader(file.subarray(8, 8 + n), file.length, name);
}

function assertReason(run: () => unknown, reason: SafetensorsReason, name = NAME, tensor?: string): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, 'CHECKPOINT_INVALID');
    assert.ok(e.message.includes(name), `message names the file: ${e.message}`);
    assert.ok(e.message.startsWith(`${reason}: `));
    assert.ok(e.hint && e.hint.length > 0);
    if (tensor !== undefined) assert.equal(e.tensor, tensor);
    return true;
  });
}

const good: HandTensor[] = [
  { name: 'a', dtype: 'F32', shape: [2, 3] },
  { name: 'b', dtype: 'BF16', shape: [4] },
  { name: 'scalar', dtype: 'F64', shape: [] },
  { name: 'empty', dtype: 'F16', shape: [0, 7] },
];

const cases: { title: string; file: Uint8Array; reason: SafetensorsReason; tensor?: string }[] = [
  { title: '7-byte file', file: new Uint8Array(7), reason: 'HeaderTooSmall' },
  { title: 'empty file', file: new Uint8Array(0), reason: 'HeaderTooSmall' },
  { title: 'header claims 100,000,001 bytes', file: handFile(good, { claimedLength: 100_000_001n }), reason: 'HeaderTooLarge' },
  { title: 'header claims 2^64 - 1 bytes', file: handFile(good, { claimedLength: 2n ** 64n - 1n }), reason: 'HeaderTooLarge' },
  { title: 'header runs past the end', file: handFile([], { claimedLength: 5000n }), reason: 'InvalidHeaderLength' },
  { title: 'non-UTF-8 header', file: handFile([], { headerText: '{"x":"\udc00"}' }).map((b, i) => (i === 14 ? 0xff : b)), reason: 'InvalidHeader' },
  { title: 'header starting with a space', file: handFile([], { headerText: ' {}' }), reason: 'InvalidHeaderStart' },
  { title: 'empty header', file: handFile([], { headerText: '' }), reason: 'InvalidHeaderStart' },
  { title: 'header that is not JSON', file: handFile([], { headerText: '{"a": ' }), reason: 'InvalidHeaderDeserialization' },
  { title: 'duplicate tensor names', file: handFile(good.slice(0, 1), { headerText: '{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"\\u0061":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}}' }), reason: 'InvalidHeader', tensor: 'a' },
  { title: 'unknown dtype', file: handFile([{ name: 'w', dtype: 'F12', shape: [2] }]), reason: 'InvalidHeaderDeserialization', tensor: 'w' },
  { title: 'negative shape entry', file: handFile([{ name: 'w', dtype: 'U8', shape: [-1], data: new Uint8Array(0) }]), reason: 'InvalidHeaderDeserialization', tensor: 'w' },
  { title: 'fractional shape entry', file: handFile([{ name: 'w', dtype: 'U8', shape: [1.5], data: new Uint8Array(1) }]), reason: 'InvalidHeaderDeserialization', tensor: 'w' },
  { title: 'three offsets', file: handFile([], { headerText: '{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0,0]}}' }), reason: 'InvalidHeaderDeserialization', tensor: 'w' },
  { title: 'metadata with a number value', file: handFile(good, { metadata: { format: 'pt', n: 3 } }), reason: 'InvalidHeaderDeserialization' },
  { title: 'metadata that is an array', file: handFile(good, { metadata: ['pt'] as unknown as Record<string, unknown> }), reason: 'InvalidHeaderDeserialization' },
  { title: 'header that is a JSON array', file: handFile([], { headerText: '[]' }), reason: 'InvalidHeaderStart' },
  { title: 'first tensor not at 0', file: handFile([{ name: 'w', dtype: 'U8', shape: [2], offsets: [1, 3] }]), reason: 'InvalidOffset', tensor: 'w' },
  { title: 'a hole between tensors', file: handFile([{ name: 'x', dtype: 'U8', shape: [2] }, { name: 'y', dtype: 'U8', shape: [2], offsets: [3, 5] }]), reason: 'InvalidOffset', tensor: 'y' },
  { title: 'overlapping tensors', file: handFile([{ name: 'x', dtype: 'U8', shape: [4] }, { name: 'y', dtype: 'U8', shape: [2], offsets: [2, 4] }]), reason: 'InvalidOffset', tensor: 'y' },
  { title: 'end before begin', file: handFile([{ name: 'x', dtype: 'U8', shape: [0], offsets: [0, 0] }, { name: 'y', dtype: 'U8', shape: [0], offsets: [2, 1], data: new Uint8Array(0) }]), reason: 'InvalidOffset', tensor: 'y' },
  { title: 'byte count disagrees with the shape', file: handFile([{ name: 'w', dtype: 'F32', shape: [3], data: new Uint8Array(8) }]), reason: 'TensorInvalidInfo', tensor: 'w' },
  { title: 'odd number of F4 elements', file: handFile([{ name: 'w', dtype: 'F4', shape: [3], data: new Uint8Array(2) }]), reason: 'MisalignedSlice', tensor: 'w' },
  { title: 'element count above 2^53', file: handFile([{ name: 'w', dtype: 'U8', shape: [2 ** 30, 2 ** 30, 2 ** 30], data: new Uint8Array(0) }]), reason: 'ValidationOverflow', tensor: 'w' },
  { title: 'trailing data after the last tensor', file: handFile(good, { trailing: 3 }), reason: 'MetadataIncompleteBuffer' },
  { title: 'truncated data', file: handFile(good).subarray(0, handFile(good).length - 1), reason: 'MetadataIncompleteBuffer' },
];

for (const c of cases) {
  test(`rejects ${c.title} with ${c.reason}`, () => {
    assertReason(() => parseBytes(c.file), c.reason, NAME, c.tensor);
  });
}

test('the same corrupt files are rejected by SafetensorsFile.open with the same reasons, naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-st-rules-'));
  try {
    for (const [i, c] of cases.entries()) {
      const path = join(dir, `case-${i}.safetensors`);
      writeFileSync(path, c.file);
      assertReason(() => SafetensorsFile.open(path), c.reason, path, c.tensor);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a valid hand-made file parses: trailing spaces, null metadata, scalar and empty tensors, data order', () => {
  const parsed = parseBytes(handFile(good, { padding: 5, metadata: null }));
  assert.equal(parsed.metadata, undefined);
  assert.deepEqual([...parsed.entries.keys()], ['a', 'b', 'scalar', 'empty']);
  assert.deepEqual(parsed.entries.get('scalar'), { dtype: 'F64', shape: [], begin: 32, end: 40 });
  assert.deepEqual(parsed.entries.get('empty'), { dtype: 'F16', shape: [0, 7], begin: 40, end: 40 });
  assert.equal(parsed.dataLength, 40);
  const withMetadata = parseBytes(handFile(good, { metadata: { format: 'pt', note: 'x' } }));
  assert.deepEqual(withMetadata.metadata, { format: 'pt', note: 'x' });
  // header order need not be data order
  const reversed = parseBytes(handFile([{ name: 'late', dtype: 'U8', shape: [1], offsets: [2, 3] }, { name: 'early', dtype: 'U16', shape: [1], offsets: [0, 2] }]));
  assert.deepEqual([...reversed.entries.keys()], ['early', 'late']);
});

test('a claimed 99 MB header in a tiny file is rejected before any allocation of that size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-st-alloc-'));
  try {
    const path = join(dir, 'liar.safetensors');
    writeFileSync(path, handFile([], { claimedLength: 99_000_000n }));
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let i = 0; i < 50; i++) {
      assertReason(() => SafetensorsFile.open(path), 'InvalidHeaderLength', path);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    assert.ok(peak < 50_000_000, `array buffers grew by ${peak} bytes`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing files are CHECKPOINT_NOT_FOUND', () => {
  assert.throws(
    () => SafetensorsFile.open('/nonexistent/model.safetensors'),
    (e: unknown) => e instanceof CheckpointError && e.code === 'CHECKPOINT_NOT_FOUND' && e.message.includes('/nonexistent/model.safetensors'),
  );
});
