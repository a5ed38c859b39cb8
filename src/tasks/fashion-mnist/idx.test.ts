import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from './idx.js';
import { ModelevoError } from '../../core/errors.js';

test('parses a hand-written uint8 idx3 buffer: magic, big-endian dims, row-major values', () => {
  // 0x00 0x00 0x08 0x03 | dims 2, 1, 3 | 6 bytes
  const bytes = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3, 250, 251, 252]);
  const parsed = parseIdx(bytes);
  assert.equal(parsed.type, 'uint8');
  assert.deepEqual(parsed.dims, [2, 1, 3]);
  assert.deepEqual([...parsed.data], [1, 2, 3, 250, 251, 252]);
});

test('dims above 65535 are read as full 32-bit big-endian words', () => {
  const bytes = new Uint8Array(8 + 70000);
  bytes.set([0, 0, 8, 1, 0, 1, 0x11, 0x70], 0); // 0x00011170 = 70000
  bytes[8 + 69999] = 7;
  const parsed = parseIdx(bytes);
  assert.deepEqual(parsed.dims, [70000]);
  assert.equal(parsed.data[69999], 7);
});

test('multi-byte types decode big-endian, and gzip input is inflated', () => {
  const int32 = parseIdx(Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0x00, 0x00, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe]));
  assert.deepEqual([...int32.data], [258, -2]);
  const values = [1.5, -2.25, 3e-3];
  const encoded = encodeIdx('float32', [3], values);
  const fromGzip = parseIdx(gzipSync(encoded));
  assert.equal(fromGzip.type, 'float32');
  assert.deepEqual([...fromGzip.data], values.map((v) => Math.fround(v)));
  const doubles = parseIdx(encodeIdx('float64', [1, 2], [Math.PI, -1e300]));
  assert.deepEqual([...doubles.data], [Math.PI, -1e300]);
  const shorts = parseIdx(encodeIdx('int16', [2], [-300, 300]));
  assert.deepEqual([...shorts.data], [-300, 300]);
});

test('bad magic, unknown type and truncated bodies are CheckpointErrors naming the file', () => {
  const cases: [Uint8Array, RegExp][] = [
    [Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), /magic must start with 0x0000, got 0x0100/],
    [Uint8Array.from([0, 0, 7, 1, 0, 0, 0, 0]), /unknown IDX element type 0x7/],
    [Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 1, 2]), /need 11 bytes in total, got 10/],
    [Uint8Array.from([0, 0]), /needs 4 bytes, got 2/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(
      () => parseIdx(bytes, 'x-idx1-ubyte'),
      (e: unknown) => e instanceof ModelevoError && e.code === 'CHECKPOINT_INVALID' && pattern.test(e.message) && /x-idx1-ubyte/.test(e.message),
    );
  }
});
