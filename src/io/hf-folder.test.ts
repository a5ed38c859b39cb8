import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectModelevoErrorWithHint } from '../../test/support/errors.js';
import { f32Tensor, readPlainSafetensors, writePlainSafetensors } from '../../test/support/plain-safetensors.js';
import { HfCheckpoint, resolveModelFolder } from './hf-folder.js';
import { withTempDir } from '../../test/support/temp-dir.js';

const FIXTURES = 'test/fixtures/tiny-llama';
const SHARDED = join(FIXTURES, 'base-sharded');

function copyShardedFixture(dir: string): Record<string, unknown> & { weight_map: Record<string, string> } {
  for (const file of readdirSync(SHARDED)) copyFileSync(join(SHARDED, file), join(dir, file));
  return JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
}

test('base-sharded equals base tensor for tensor, and total_size is the sum of tensor bytes', () => {
  const single = readPlainSafetensors(join(FIXTURES, 'base', 'model.safetensors'));
  const sharded = HfCheckpoint.open(SHARDED);
  const base = HfCheckpoint.open(join(FIXTURES, 'base'));
  try {
    assert.equal(sharded.openHandleCount(), 0, 'no shard is opened before data is read');
    assert.deepEqual([...sharded.names()].sort(), [...single.keys()].sort());
    let sum = 0;
    for (const [name, tensor] of single) {
      const info = sharded.info(name);
      assert.equal(info.dtype, tensor.dtype);
      assert.deepEqual(info.shape, tensor.shape);
      assert.deepEqual(sharded.readBytes(name), tensor.data, `${name} bytes`);
      assert.deepEqual(base.readBytes(name), tensor.data, `${name} bytes (single-file folder)`);
      sum += tensor.data.byteLength;
    }
    const index = JSON.parse(readFileSync(join(SHARDED, 'model.safetensors.index.json'), 'utf8'));
    assert.equal(index.metadata.total_size, sum);
    assert.equal(sum, 4_002_304);
    assert.equal(sharded.openHandleCount(), 5, 'one handle per shard after reading every tensor');
    const shards = sharded.shards();
    assert.equal(shards.length, 5);
    assert.equal(shards.reduce((s, x) => s + x.bytes, 0), sum);
    assert.equal(shards.reduce((s, x) => s + x.tensors, 0), 39);
    assert.deepEqual(shards.map((s) => s.file), [1, 2, 3, 4, 5].map((i) => `model-0000${i}-of-00005.safetensors`));
    assert.deepEqual(base.shards(), [{ file: 'model.safetensors', tensors: 39, bytes: sum }]);
    assert.equal(sharded.config?.model_type, 'llama');
    assert.equal(sharded.config?.num_hidden_layers, 4);
    const f = sharded.readFloat32('model.norm.weight');
    assert.equal(f.length, 128);
    assert.deepEqual(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), single.get('model.norm.weight')!.data);
  } finally {
    sharded.close();
    base.close();
  }
  assert.equal(sharded.openHandleCount(), 0);
  expectModelevoErrorWithHint(() => sharded.readBytes('model.norm.weight'), 'IO_FAILED', /closed/);
});

test('the index takes precedence over model.safetensors; unknown tensors are TENSOR_NOT_FOUND', () => {
  assert.equal(resolveModelFolder(SHARDED).kind, 'sharded');
  assert.equal(resolveModelFolder(join(FIXTURES, 'base')).kind, 'single');
  const base = HfCheckpoint.open(join(FIXTURES, 'base'));
  try {
    expectModelevoErrorWithHint(() => base.info('model.nope.weight'), 'TENSOR_NOT_FOUND', /model\.nope\.weight/, /inspect/);
  } finally {
    base.close();
  }
});

test('a missing folder, a file, and an empty folder are reported with hints', () => {
  expectModelevoErrorWithHint(() => HfCheckpoint.open(join(FIXTURES, 'no-such-model')), 'CHECKPOINT_NOT_FOUND', /does not exist/, /no-such-model/, /local/);
  expectModelevoErrorWithHint(() => HfCheckpoint.open(join(FIXTURES, 'base', 'config.json')), 'CHECKPOINT_INVALID', /got a file/);
  withTempDir('modelevo-hf-', (dir) => {
    expectModelevoErrorWithHint(() => HfCheckpoint.open(dir), 'CHECKPOINT_NOT_FOUND', /no model\.safetensors\.index\.json or model\.safetensors/, /found: nothing/);
    writeFileSync(join(dir, 'adapter_config.json'), '{}');
    expectModelevoErrorWithHint(() => HfCheckpoint.open(dir), 'CHECKPOINT_NOT_FOUND', /adapter folder/, /\+/);
  });
});

test('a folder with pytorch_model.bin only is rejected with a hint to convert', () => {
  withTempDir('modelevo-hf-', (dir) => {
    copyFileSync(join(FIXTURES, 'base', 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    expectModelevoErrorWithHint(() => HfCheckpoint.open(dir), 'CHECKPOINT_UNSUPPORTED', /pytorch_model\.bin/, /PyTorch pickle/, /safetensors/, /save_pretrained/);
  });
});

test('an index naming a missing shard is an error naming the shard', () => {
  withTempDir('modelevo-hf-', (dir) => {
    copyShardedFixture(dir);
    rmSync(join(dir, 'model-00003-of-00005.safetensors'));
    expectModelevoErrorWithHint(() => HfCheckpoint.open(dir), 'CHECKPOINT_INVALID', /model-00003-of-00005\.safetensors/, /does not exist/, /model\.safetensors\.index\.json/);
  });
});

test('a mapped tensor missing from its shard is an error naming the tensor', () => {
  withTempDir('modelevo-hf-', (dir) => {
    const index = copyShardedFixture(dir);
    index.weight_map['model.layers.9.mlp.up_proj.weight'] = 'model-00002-of-00005.safetensors';
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    expectModelevoErrorWithHint(() => HfCheckpoint.open(dir), 'CHECKPOINT_INVALID', /model\.layers\.9\.mlp\.up_proj\.weight/, /does not contain it/);
  });
});

test('a tensor stored in two shards, or in a shard but not in the map, is an error', () => {
  withTempDir('modelevo-hf-', (dir) => {
    const index = copyShardedFixture(dir);
    const lmHead = readPlainSafetensors(join(dir, index.weight_map['lm_head.weight']!)).get('lm_head.weight')!;
    writePlainSafetensors(join(dir, 'extra.safetensors'), [
      ['extra.weight', f32Tensor([2], [1, 2])],
      ['lm_head.weight', lmHead],
    ]);
    index.weight_map['extra.weight'] = 'extra.safetensors';
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    expectModelevoErrorWithHint(() => HfCheckpoint.open(dir), 'CHECKPOINT_INVALID', /lm_head\.weight/, /two shards/, /extra\.safetensors/);
    delete index.weight_map['model.norm.weight'];
    delete index.weight_map['extra.weight'];
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    expectModelevoErrorWithHint(() => HfCheckpoint.open(dir), 'CHECKPOINT_INVALID', /model\.norm\.weight/, /does not list/);
  });
});

test('a malformed index is rejected: bad JSON, no weight_map, shard paths outside the folder', () => {
  withTempDir('modelevo-hf-', (dir) => {
    mkdirSync(join(dir, 'm'));
    const indexPath = join(dir, 'm', 'model.safetensors.index.json');
    writeFileSync(indexPath, '{"weight_map": ');
    expectModelevoErrorWithHint(() => HfCheckpoint.open(join(dir, 'm')), 'CHECKPOINT_INVALID', /not valid JSON/);
    writeFileSync(indexPath, '{"metadata": {}}');
    expectModelevoErrorWithHint(() => HfCheckpoint.open(join(dir, 'm')), 'CHECKPOINT_INVALID', /weight_map/);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { a: '../x.safetensors' } }));
    expectModelevoErrorWithHint(() => HfCheckpoint.open(join(dir, 'm')), 'CHECKPOINT_INVALID', /\.\.\/x\.safetensors/, /same folder/);
  });
});
