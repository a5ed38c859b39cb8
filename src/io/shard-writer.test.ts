import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { DType } from '../core/dtype.js';
import { ModelevoError } from '../core/errors.js';
import { readPlainSafetensors } from '../../test/support/plain-safetensors.js';
import type { Checkpoint } from './checkpoint.js';
import { HfCheckpoint } from './hf-folder.js';
import { MemoryCheckpoint, type MemoryTensor } from './memory-checkpoint.js';
import { ModelFolderWriter, planShards, writeModelFolder } from './shard-writer.js';
import { withTempDir } from '../../test/support/temp-dir.js';

const FIXTURES = 'test/fixtures/tiny-llama';
const ELEMENT_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1 };

function syntheticModel(sizes: readonly number[], dtype: DType = 'F32'): MemoryCheckpoint {
  const width = ELEMENT_BYTES[dtype]!;
  const entries = sizes.map((numel, i): [string, MemoryTensor] => {
    const data = new Uint8Array(numel * width);
    for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j * 7) & 0xff;
    return [`t${String(i).padStart(3, '0')}.weight`, { dtype, shape: [numel], data }];
  });
  return new MemoryCheckpoint(entries, { source: 'synthetic', config: { model_type: 'synthetic' } });
}

test('planShards: greedy in order, limit respected except for a lone oversized tensor, total_size exact', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (numels, limit) => {
      const specs = numels.map((n, i) => ({ name: `t${i}`, dtype: 'F32' as const, shape: [n] }));
      const plan = planShards(specs, limit);
      assert.equal(plan.totalSize, numels.reduce((s, n) => s + 4 * n, 0));
      assert.deepEqual(plan.shards.flatMap((s) => s.names), specs.map((s) => s.name), 'order preserved, each tensor once');
      plan.shards.forEach((shard, i) => {
        assert.equal(shard.bytes, shard.names.reduce((s, n) => s + 4 * numels[Number(n.slice(1))]!, 0));
        if (shard.bytes > limit) assert.equal(shard.names.length, 1, 'only a single oversized tensor may exceed the limit');
        const next = plan.shards[i + 1];
        if (next !== undefined) {
          const firstOfNext = 4 * numels[Number(next.names[0]!.slice(1))]!;
          assert.ok(shard.bytes + firstOfNext > limit, 'greedy: a shard closes only when the next tensor would not fit');
        }
      });
      if (plan.shards.length === 1) assert.equal(plan.shards[0]!.file, 'model.safetensors');
      else plan.shards.forEach((s, i) => assert.equal(s.file, `model-${String(i + 1).padStart(5, '0')}-of-${String(plan.shards.length).padStart(5, '0')}.safetensors`));
    }),
    { numRuns: 300 },
  );
});

test('a sharded write reads back identically, with a correct index and copied side files', () => {
  withTempDir('modelevo-shards-', (dir) => {
    const model = syntheticModel([10, 300, 50, 50, 50, 5, 400, 1]);
    const target = join(dir, 'out');
    const result = writeModelFolder(target, model, {
      maxShardBytes: 1000,
      copyFrom: join(FIXTURES, 'base'),
      configPatch: { dtype: 'float32', modelevo_note: 'merged' },
    });
    const files = readdirSync(target).sort();
    assert.deepEqual(result.files, files);
    const shardFiles = files.filter((f) => f.endsWith('.safetensors'));
    assert.equal(shardFiles.length, result.shards.length);
    assert.ok(result.shards.length > 1);
    const index = JSON.parse(readFileSync(join(target, 'model.safetensors.index.json'), 'utf8'));
    assert.equal(index.metadata.total_size, 4 * (10 + 300 + 50 + 50 + 50 + 5 + 400 + 1));
    assert.deepEqual(Object.keys(index.weight_map).sort(), model.names().sort());
    for (const file of shardFiles) {
      const tensors = readPlainSafetensors(join(target, file));
      const bytes = [...tensors.values()].reduce((s, t) => s + t.data.byteLength, 0);
      assert.ok(bytes <= 1000 || tensors.size === 1, `${file} holds ${bytes} bytes in ${tensors.size} tensors`);
      for (const [name, t] of tensors) {
        assert.equal(index.weight_map[name], file);
        assert.deepEqual(t.data, model.readBytes(name), `${name} in ${file}`);
      }
    }
    const reopened = HfCheckpoint.open(target);
    try {
      assert.deepEqual(reopened.names(), model.names(), 'stored order is the planned order');
      for (const name of model.names()) assert.deepEqual(reopened.readBytes(name), model.readBytes(name));
      assert.equal(reopened.config?.modelevo_note, 'merged');
      assert.equal(reopened.config?.model_type, 'llama', 'config copied from copyFrom, then patched');
    } finally {
      reopened.close();
    }
    for (const side of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'config.json']) assert.ok(files.includes(side), side);
    assert.deepEqual(readFileSync(join(target, 'tokenizer.json')), readFileSync(join(FIXTURES, 'base', 'tokenizer.json')));
    assert.deepEqual(readdirSync(dir), ['out'], 'no temp folders left beside the target');
  });
});

test('one shard is written as model.safetensors with no index', () => {
  withTempDir('modelevo-shards-', (dir) => {
    const model = syntheticModel([3, 4, 5], 'BF16');
    const result = writeModelFolder(join(dir, 'one'), model);
    assert.deepEqual(result.files, ['model.safetensors']);
    assert.deepEqual(result.shards, [{ file: 'model.safetensors', tensors: 3, bytes: 24 }]);
    const back = readPlainSafetensors(join(dir, 'one', 'model.safetensors'));
    for (const name of model.names()) assert.deepEqual(back.get(name)?.data, model.readBytes(name));
    assert.equal(back.get('t000.weight')?.dtype, 'BF16');
  });
});

/** A checkpoint whose n-th read throws, to simulate a failure mid-way through a merge. */
function failingAfter(model: Checkpoint, reads: number): Checkpoint {
  let count = 0;
  return {
    source: model.source,
    config: model.config,
    names: () => model.names(),
    has: (n) => model.has(n),
    info: (n) => model.info(n),
    readFloat32: (n) => model.readFloat32(n),
    close: () => model.close(),
    readBytes: (n) => {
      if (++count > reads) throw new Error('simulated failure while computing a tensor');
      return model.readBytes(n);
    },
  };
}

test('a failing write leaves neither the target nor temp folders behind', () => {
  withTempDir('modelevo-shards-', (dir) => {
    const model = syntheticModel([100, 100, 100, 100, 100]);
    assert.throws(() => writeModelFolder(join(dir, 'out'), failingAfter(model, 3), { maxShardBytes: 500 }), /simulated failure/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('an existing target is never destroyed by a failed write, and is replaced only with overwrite', () => {
  withTempDir('modelevo-shards-', (dir) => {
    const target = join(dir, 'out');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'precious');
    const model = syntheticModel([100, 100, 100]);
    assert.throws(
      () => writeModelFolder(target, model),
      (e: unknown) => e instanceof ModelevoError && e.code === 'IO_FAILED' && /already exists/.test(e.message) && /overwrite/.test(e.hint ?? ''),
    );
    assert.throws(() => writeModelFolder(target, failingAfter(model, 2), { overwrite: true, maxShardBytes: 400 }), /simulated/);
    assert.deepEqual(readdirSync(dir), ['out']);
    assert.equal(readFileSync(join(target, 'keep.txt'), 'utf8'), 'precious');
    writeModelFolder(target, model, { overwrite: true });
    assert.deepEqual(readdirSync(target), ['model.safetensors']);
    assert.deepEqual(readdirSync(dir), ['out']);
  });
});

test('the streaming writer accepts tensors in any order and checks what it is given', () => {
  withTempDir('modelevo-shards-', (dir) => {
    const model = syntheticModel([10, 10, 10, 10]);
    const specs = model.names().map((name) => ({ name, dtype: model.info(name).dtype, shape: model.info(name).shape }));
    const writer = ModelFolderWriter.create(join(dir, 'out'), specs, { maxShardBytes: 80 });
    assert.equal(writer.plan.shards.length, 2);
    assert.throws(() => writer.writeTensor('t000.weight', new Uint8Array(3)), /got 3 bytes, expected 40/);
    for (const name of [...model.names()].reverse()) writer.writeTensor(name, model.readBytes(name));
    assert.throws(() => writer.writeTensor('t000.weight', model.readBytes('t000.weight')), /written twice/);
    assert.throws(() => writer.writeTensor('zzz', new Uint8Array(4)), /not in the planned output/);
    const result = writer.commit();
    assert.equal(result.totalSize, 160);
    const back = HfCheckpoint.open(join(dir, 'out'));
    try {
      for (const name of model.names()) assert.deepEqual(back.readBytes(name), model.readBytes(name));
    } finally {
      back.close();
    }
    const incomplete = ModelFolderWriter.create(join(dir, 'partial'), specs);
    incomplete.writeTensor('t001.weight', model.readBytes('t001.weight'));
    assert.throws(() => incomplete.commit(), /3 planned tensors were never written \(first: 't000\.weight'\)/);
    incomplete.abort();
    assert.ok(!existsSync(join(dir, 'partial')));
    assert.deepEqual(readdirSync(dir), ['out']);
  });
});

test('tensorTarget + markWritten: a caller writes tensors itself at their place in the shard files', () => {
  withTempDir('modelevo-shards-', (dir) => {
    const model = syntheticModel([10, 3, 10, 7]);
    const specs = model.names().map((name) => ({ name, dtype: model.info(name).dtype, shape: model.info(name).shape }));
    const writer = ModelFolderWriter.create(join(dir, 'out'), specs, { maxShardBytes: 60 });
    assert.equal(writer.plan.shards.length, 3);
    const [direct, ...rest] = model.names();
    for (const name of [direct!, rest[1]!]) {
      const target = writer.tensorTarget(name);
      const bytes = model.readBytes(name);
      assert.equal(target.byteLength, bytes.byteLength);
      // two positional writes out of order, as two workers would do
      const half = 8;
      writeSync(target.fd, bytes, half, bytes.length - half, target.position + half);
      writeSync(target.fd, bytes, 0, half, target.position);
      writer.markWritten(name);
    }
    assert.throws(() => writer.markWritten(direct!), /written twice/);
    assert.throws(() => writer.tensorTarget(direct!), /written twice/);
    assert.throws(() => writer.tensorTarget('zzz'), /not in the planned output/);
    writer.writeTensor(rest[0]!, model.readBytes(rest[0]!));
    writer.writeTensor(rest[2]!, model.readBytes(rest[2]!));
    writer.commit();
    const back = HfCheckpoint.open(join(dir, 'out'));
    try {
      for (const name of model.names()) assert.deepEqual(back.readBytes(name), model.readBytes(name), name);
    } finally {
      back.close();
    }
  });
});
