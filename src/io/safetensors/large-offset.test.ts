// Reading a tensor whose data lie beyond 4 GB (formats.md §1.3: positional reads, offsets up to 2^53), on a
// sparse file: only the header and the last tensor occupy disk blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { SafetensorsFile } from './reader.js';

const GAP_BYTES = 4_400_000_000; // a U8 tensor of zeros pushes the next one past 2^32

test('a BF16 and an F32 tensor stored after 4.4 GB of zeros read back exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-st-4gb-'));
  const path = join(dir, 'sparse.safetensors');
  try {
    const bf16 = new Uint16Array([0x3f80, 0xc000, 0x7f80, 0x0001, 0x4049]);
    const f32 = new Float32Array([Math.PI, -1e-40, 3.4e38]);
    const header = {
      gap: { dtype: 'U8', shape: [GAP_BYTES], data_offsets: [0, GAP_BYTES] },
      far_bf16: { dtype: 'BF16', shape: [5], data_offsets: [GAP_BYTES, GAP_BYTES + 10] },
      far_f32: { dtype: 'F32', shape: [3], data_offsets: [GAP_BYTES + 10, GAP_BYTES + 22] },
    };
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    const dataStart = 8 + json.length;
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, prefix, 0, 8, 0);
      writeSync(fd, json, 0, json.length, 8);
      writeSync(fd, new Uint8Array(bf16.buffer), 0, 10, dataStart + GAP_BYTES);
      writeSync(fd, new Uint8Array(f32.buffer), 0, 12, dataStart + GAP_BYTES + 10);
      ftruncateSync(fd, dataStart + GAP_BYTES + 22);
    } finally {
      closeSync(fd);
    }

    const file = SafetensorsFile.open(path);
    try {
      assert.equal(file.fileSize, dataStart + GAP_BYTES + 22);
      assert.ok(file.dataStart + file.entry('far_bf16').begin > 2 ** 32);
      assert.deepEqual(new Uint16Array(file.readBytes('far_bf16').buffer), bf16);
      assert.deepEqual([...file.readFloat32('far_bf16')], [1, -2, Infinity, 2 ** -133, 3.140625]);
      assert.deepEqual(file.readFloat32('far_f32'), f32);
      const target = new Uint8Array(12);
      file.readInto('far_f32', target);
      assert.deepEqual(new Float32Array(target.buffer), f32);
    } finally {
      file.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
