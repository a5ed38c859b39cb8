// Every tensor of every tiny-llama fixture file, read with SafetensorsFile, against an independent whole-file
// DataView decode; then read -> write -> read must keep the bytes (formats.md §1, acceptance checks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { SafetensorsFile } from '../src/io/safetensors/reader.js';
import { writeSafetensors } from '../src/io/safetensors/writer.js';
import { DTYPE_BITS, type DType } from '../src/core/dtype.js';
import { parsePlainHeader } from './support/plain-safetensors.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'tiny-llama');

function fixtureFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return fixtureFiles(path);
      return entry.endsWith('.safetensors') ? [path] : [];
    })
    .sort();
}

/** float64 values straight from the bytes, narrowed to float32 only where the stored type is wider. */
function plainDecode(view: DataView, at: number, dtype: string, count: number): number[] {
  const out: number[] = [];
  const scratch = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32':
        out.push(view.getFloat32(at + 4 * i, true));
        break;
      case 'BF16':
        scratch.setUint32(0, view.getUint16(at + 2 * i, true) << 16);
        out.push(scratch.getFloat32(0));
        break;
      case 'I64':
        out.push(Math.fround(Number(view.getBigInt64(at + 8 * i, true))));
        break;
      default:
        throw new Error(`fixture dtype ${dtype} has no reference decoder here`);
    }
  }
  return out;
}

const files = fixtureFiles(FIXTURES);

test('the fixture set covers every kind of file the brief names', () => {
  const rel = files.map((f) => f.slice(FIXTURES.length + 1));
  assert.ok(rel.length >= 15, `found ${rel.length} files`);
  for (const needle of ['base-sharded/model-00005-of-00005', 'expert-code-bf16/', 'lora-code/adapter_model', 'reference-logits-base']) {
    assert.ok(rel.some((r) => r.includes(needle)), `missing ${needle}`);
  }
});

for (const path of files) {
  const label = path.slice(FIXTURES.length + 1);

  test(`${label}: every tensor's bytes and float32 values match an independent decode`, () => {
    const raw = readFileSync(path);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const plain = parsePlainHeader(raw);
    const file = SafetensorsFile.open(path);
    try {
      assert.equal(file.dataStart, plain.dataStart);
      assert.equal(file.fileSize, raw.length);
      assert.deepEqual(new Set(file.names()), new Set(plain.entries.keys()));
      const dtypes = new Set<string>();
      for (const [name, entry] of plain.entries) {
        dtypes.add(entry.dtype);
        const info = file.info(name);
        assert.equal(info.dtype, entry.dtype);
        assert.deepEqual(info.shape, entry.shape);
        assert.equal(info.byteLength, entry.end - entry.begin);
        const bytes = file.readBytes(name);
        assert.ok(Buffer.from(bytes).equals(raw.subarray(plain.dataStart + entry.begin, plain.dataStart + entry.end)), name);
        const count = entry.shape.reduce((a, b) => a * b, 1);
        const expected = plainDecode(view, plain.dataStart + entry.begin, entry.dtype, count);
        const actual = file.readFloat32(name);
        assert.equal(actual.length, expected.length, name);
        for (let i = 0; i < count; i++) {
          if (!Object.is(actual[i], expected[i])) assert.fail(`${name}[${i}]: ${actual[i]} vs ${expected[i]}`);
        }
      }
      if (label.startsWith('expert-code-bf16')) assert.deepEqual([...dtypes], ['BF16']);
      if (label.startsWith('reference-logits')) assert.deepEqual([...dtypes].sort(), ['F32', 'I64']);
    } finally {
      file.close();
    }
  });
}

test('fixture round trip: read -> write -> read keeps names, dtypes, shapes and bytes; output is strict, 8-aligned, format pt', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-st-fixtures-'));
  try {
    for (const [index, path] of files.entries()) {
      const source = SafetensorsFile.open(path);
      const out = join(dir, `copy-${index}.safetensors`);
      try {
        writeSafetensors(
          out,
          source.names().map((name) => ({ ...source.info(name), data: source.readBytes(name) })),
          source.metadata,
        );
        const copy = SafetensorsFile.open(out);
        try {
          assert.equal(copy.dataStart % 8, 0);
          assert.equal(copy.metadata?.format, 'pt');
          assert.deepEqual(copy.metadata, { ...source.metadata, format: 'pt' });
          assert.deepEqual(new Set(copy.names()), new Set(source.names()));
          let previousAlignment = Infinity;
          for (const name of copy.names()) {
            const a = source.info(name);
            const b = copy.info(name);
            assert.equal(b.dtype, a.dtype);
            assert.deepEqual(b.shape, a.shape);
            assert.deepEqual(copy.readBytes(name), source.readBytes(name));
            const alignment = DTYPE_BITS[b.dtype as DType] / 8;
            assert.ok(alignment <= previousAlignment, 'descending element size in data order');
            assert.equal(copy.entry(name).begin % alignment, 0, `${name} starts at a multiple of its element size`);
            previousAlignment = alignment;
          }
        } finally {
          copy.close();
        }
      } finally {
        source.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
