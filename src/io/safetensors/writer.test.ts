import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CheckpointError } from '../../core/errors.js';
import { DTYPE_BITS, DTYPES, type DType } from '../../core/dtype.js';
import { SafetensorsFile } from './reader.js';
import { SafetensorsWriter, writeSafetensors, type TensorSpec } from './writer.js';
import { readPlainSafetensors } from '../../../test/support/plain-safetensors.js';
import { withTempDir } from '../../../test/support/temp-dir.js';

const tensorArb = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
    seed: fc.nat(),
  })
  .map(({ dtype, shape, seed }) => {
    // sub-byte dtypes need a whole number of bytes: pad the innermost dimension to a multiple of 4
    const bits = DTYPE_BITS[dtype];
    const adjusted = bits % 8 === 0 || shape.length === 0 ? shape : [...shape.slice(0, -1), 4 * shape[shape.length - 1]!];
    const finalShape = bits % 8 !== 0 && adjusted.length === 0 ? [4] : adjusted;
    const bytes = (finalShape.reduce((a, b) => a * b, 1) * bits) / 8;
    const data = new Uint8Array(bytes).map((_, i) => (seed + i * 131) & 255);
    return { dtype, shape: finalShape, data };
  });

const tensorSetArb = fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), tensorArb), {
  selector: ([name]) => name,
  maxLength: 8,
});

test('round trip: any tensor set (all dtypes, scalars, zero dims, any write order) reads back byte-identical', () => {
  withTempDir('modelevo-st-writer-', (dir) => {
    fc.assert(
      fc.property(
        tensorSetArb.filter((set) => set.every(([name]) => name !== '__metadata__')),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
        fc.infiniteStream(fc.nat()),
        (set, metadata, randomness) => {
          const path = join(dir, 'set.safetensors');
          const specs: TensorSpec[] = set.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
          const writer = SafetensorsWriter.create(path, specs, metadata);
          const order = set.map((entry) => ({ entry, key: randomness.next().value as number })).sort((a, b) => a.key - b.key);
          for (const { entry: [name, t] } of order) writer.writeTensor(name, t.data);
          writer.commit();
          assert.deepEqual(readdirSync(dir), ['set.safetensors'], 'temporary file renamed away');

          const file = SafetensorsFile.open(path); // strict validation
          try {
            assert.equal(file.dataStart % 8, 0);
            const raw = readFileSync(path);
            assert.equal(raw.subarray(8, file.dataStart).toString('utf8').trimEnd().endsWith('}'), true);
            assert.ok(/^ *$/.test(raw.subarray(8, file.dataStart).toString('utf8').split('}').pop()!), 'padded with spaces');
            assert.equal(raw.subarray(8, 23).toString('utf8'), '{"__metadata__"', 'metadata serialised first');
            assert.deepEqual(file.metadata, { ...metadata, format: 'pt' });
            assert.equal(new Set(file.names()).size, set.length);
            const plain = readPlainSafetensors(path);
            for (const [name, t] of set) {
              const info = file.info(name);
              assert.equal(info.dtype, t.dtype);
              assert.deepEqual(info.shape, t.shape);
              assert.deepEqual(file.readBytes(name), t.data);
              assert.deepEqual(plain.get(name)?.data, t.data, 'independent reader agrees');
            }
            // writer layout: descending element size, then name; each tensor aligned to its element size
            const names = file.names().filter((n) => file.info(n).byteLength > 0);
            for (let i = 1; i < names.length; i++) {
              const a = file.info(names[i - 1]!);
              const b = file.info(names[i]!);
              const sizeA = Math.max(1, Math.floor(DTYPE_BITS[a.dtype] / 8));
              const sizeB = Math.max(1, Math.floor(DTYPE_BITS[b.dtype] / 8));
              assert.ok(sizeA > sizeB || (sizeA === sizeB && a.name < b.name), `${a.name} before ${b.name}`);
            }
            for (const name of names) {
              const size = Math.max(1, Math.floor(DTYPE_BITS[file.info(name).dtype] / 8));
              assert.equal((file.dataStart + file.entry(name).begin) % size, 0);
            }
          } finally {
            file.close();
          }
        },
      ),
      { numRuns: 300, seed: 99 },
    );
  });
});

test('readFloat32 on written float tensors returns the values that were encoded', () => {
  withTempDir('modelevo-st-writer-', (dir) => {
    const path = join(dir, 'floats.safetensors');
    const values = new Float32Array([1, -2.5, 65504, 1e-8, 0, -0, 3.14159]);
    const bf16 = new Uint16Array([0x3f80, 0xc020, 0x477f, 0x322c, 0, 0x8000, 0x4049]);
    writeSafetensors(path, [
      { name: 'f32', dtype: 'F32', shape: [7], data: new Uint8Array(values.buffer) },
      { name: 'f64', dtype: 'F64', shape: [7], data: new Uint8Array(Float64Array.from(values).buffer) },
      { name: 'bf16', dtype: 'BF16', shape: [7], data: new Uint8Array(bf16.buffer) },
      { name: 'i64', dtype: 'I64', shape: [2], data: new Uint8Array(new BigInt64Array([-3n, 1n << 40n]).buffer) },
    ]);
    const file = SafetensorsFile.open(path);
    try {
      assert.deepEqual(file.readFloat32('f32'), values);
      assert.deepEqual(file.readFloat32('f64'), values);
      assert.deepEqual([...file.readFloat32('bf16')], [1, -2.5, 65280, 1.0011717677116394e-8, 0, -0, 3.140625]);
      assert.deepEqual([...file.readFloat32('i64')], [-3, 2 ** 40]);
      // readFloat32Into a view that does not start at byte 0 of its buffer, for each read path
      const backing = new Float32Array(20).fill(7);
      for (const name of ['f32', 'f64', 'bf16']) {
        const target = backing.subarray(3, 10);
        file.readFloat32Into(name, target);
        assert.deepEqual(target, file.readFloat32(name));
        assert.deepEqual([...backing.subarray(0, 3), ...backing.subarray(10)], new Array(13).fill(7), 'nothing outside the view');
      }
      assert.throws(
        () => file.readFloat32Into('bf16', new Float32Array(6)),
        (e: unknown) => e instanceof CheckpointError && e.code === 'VALUE_INVALID' && /6 values, the tensor has 7/.test(e.message),
      );
    } finally {
      file.close();
    }
  });
});

test('writer misuse: unknown name, wrong byte count, double write, missing tensors, bad specs', () => {
  withTempDir('modelevo-st-writer-', (dir) => {
    const path = join(dir, 'out.safetensors');
    const specs: TensorSpec[] = [
      { name: 'a', dtype: 'F32', shape: [2] },
      { name: 'b', dtype: 'U8', shape: [3] },
    ];
    const writer = SafetensorsWriter.create(path, specs);
    const isError = (code: string, pattern: RegExp) => (e: unknown) =>
      e instanceof CheckpointError && e.code === code && pattern.test(e.message) && e.message.includes(path);
    assert.throws(() => writer.writeTensor('c', new Uint8Array(0)), isError('TENSOR_NOT_FOUND', /'c' was not declared/));
    assert.throws(() => writer.writeTensor('a', new Uint8Array(7)), isError('VALUE_INVALID', /expected 8 bytes, got 7/));
    writer.writeTensor('a', new Uint8Array(8));
    assert.throws(() => writer.writeTensor('a', new Uint8Array(8)), isError('VALUE_INVALID', /already written/));
    assert.throws(() => writer.commit(), isError('VALUE_INVALID', /1 tensor\(s\) not written: b/));
    assert.equal(existsSync(writer.tempPath), true);
    writer.abort();
    writer.abort();
    assert.deepEqual(readdirSync(dir), [], 'abort removes the temporary file and creates nothing');
    assert.throws(() => writer.writeTensor('b', new Uint8Array(3)), isError('IO_FAILED', /already committed or aborted/));

    for (const bad of [
      [{ name: 'x', dtype: 'F32', shape: [1] }, { name: 'x', dtype: 'F32', shape: [1] }],
      [{ name: '__metadata__', dtype: 'F32', shape: [1] }],
      [{ name: 'x', dtype: 'F3' as DType, shape: [1] }],
      [{ name: 'x', dtype: 'F32', shape: [-1] }],
      [{ name: 'x', dtype: 'F4', shape: [3] }],
    ] as TensorSpec[][]) {
      assert.throws(() => SafetensorsWriter.create(path, bad), (e: unknown) => e instanceof CheckpointError && e.code === 'VALUE_INVALID');
    }
    assert.deepEqual(readdirSync(dir), []);
    assert.throws(() => writeSafetensors(path, [{ name: 'x', dtype: 'U8', shape: [2], data: new Uint8Array(1) }]));
    assert.deepEqual(readdirSync(dir), [], 'writeSafetensors aborts on error');
  });
});

test('writer misuse through tensorTarget/markWritten: unknown name, double write; empty tensors count as written', () => {
  withTempDir('modelevo-st-writer-', (dir) => {
    const path = join(dir, 'out.safetensors');
    const writer = SafetensorsWriter.create(path, [
      { name: 'a', dtype: 'U8', shape: [2] },
      { name: 'empty', dtype: 'F32', shape: [0, 3] },
    ]);
    try {
      const isError = (code: string, pattern: RegExp) => (e: unknown) => e instanceof CheckpointError && e.code === code && pattern.test(e.message);
      assert.throws(() => writer.tensorTarget('c'), isError('TENSOR_NOT_FOUND', /'c' was not declared/));
      assert.throws(() => writer.markWritten('c'), isError('TENSOR_NOT_FOUND', /'c' was not declared/));
      const target = writer.tensorTarget('a');
      assert.equal(target.byteLength, 2);
      assert.equal(target.position, writer.dataStart);
      writer.markWritten('a');
      assert.throws(() => writer.markWritten('a'), isError('VALUE_INVALID', /already written/));
      assert.throws(() => writer.tensorTarget('a'), isError('VALUE_INVALID', /already written/));
      assert.throws(() => writer.writeTensor('a', new Uint8Array(2)), isError('VALUE_INVALID', /already written/));
      // a zero-length tensor has nothing to write: every way of "writing" it again is accepted
      writer.markWritten('empty');
      writer.writeTensor('empty', new Uint8Array(0));
      assert.equal(writer.tensorTarget('empty').byteLength, 0);
      writer.commit();
    } finally {
      writer.abort();
    }
    assert.deepEqual(readdirSync(dir), ['out.safetensors']);
  });
});

test('16-bit tensors larger than the conversion chunk, and byte ranges, read back exactly', () => {
  withTempDir('modelevo-st-writer-', (dir) => {
    const path = join(dir, 'big.safetensors');
    const count = 600_001; // more than two 2^18-element chunks, odd
    const halves = new Uint16Array(count).map((_, i) => (i * 40503 + 17) & 0xffff);
    const data = new Uint8Array(halves.buffer);
    writeSafetensors(path, [
      { name: 'bf16', dtype: 'BF16', shape: [count], data },
      { name: 'f16', dtype: 'F16', shape: [1, count], data },
    ]);
    const file = SafetensorsFile.open(path);
    try {
      const bf16 = file.readFloat32('bf16');
      const f16 = file.readFloat32('f16');
      const scratch = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        const h = halves[i]!;
        scratch.setUint32(0, h << 16);
        const expectedBf16 = scratch.getFloat32(0);
        const e = (h >> 10) & 31;
        const m = h & 1023;
        const s = h & 0x8000 ? -1 : 1;
        const expectedF16 = e === 31 ? (m ? NaN : s * Infinity) : e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
        if (!(Object.is(bf16[i], expectedBf16) || (Number.isNaN(bf16[i]) && Number.isNaN(expectedBf16)))) assert.fail(`bf16[${i}]`);
        if (!(Object.is(f16[i], expectedF16) || (Number.isNaN(f16[i]) && Number.isNaN(expectedF16)))) assert.fail(`f16[${i}]`);
      }
      const range = new Uint8Array(1000);
      file.readRangeInto('f16', 524_287, range);
      assert.deepEqual(range, data.subarray(524_287, 525_287));
      file.readRangeInto('f16', 2 * count - 1000, range);
      assert.deepEqual(range, data.subarray(2 * count - 1000));
      for (const offset of [-1, 2 * count - 999, 0.5]) {
        assert.throws(
          () => file.readRangeInto('f16', offset, range),
          (e: unknown) => e instanceof CheckpointError && e.code === 'VALUE_INVALID' && e.tensor === 'f16',
        );
      }
    } finally {
      file.close();
    }
  });
});
