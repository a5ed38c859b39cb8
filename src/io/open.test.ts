import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expectModelevoError } from '../../test/support/errors.js';
import { readPlainSafetensors } from '../../test/support/plain-safetensors.js';
import { HfCheckpoint } from './hf-folder.js';
import { LoraMergedCheckpoint } from './lora-view.js';
import { openAdapter, openCheckpoint, parseModelReference } from './open.js';

const FIXTURES = 'test/fixtures/tiny-llama';

test('folders, single files and base+adapter references open as the right checkpoint', () => {
  const folder = openCheckpoint(join(FIXTURES, 'base'));
  const file = openCheckpoint(join(FIXTURES, 'base', 'model.safetensors'));
  const merged = openCheckpoint(`${join(FIXTURES, 'base-sharded')}+${join(FIXTURES, 'lora-math')}`);
  try {
    assert.ok(folder instanceof HfCheckpoint);
    assert.ok(merged instanceof LoraMergedCheckpoint);
    assert.equal(merged.source, `${join(FIXTURES, 'base-sharded')}+${join(FIXTURES, 'lora-math')}`);
    assert.equal(merged.config?.model_type, 'llama');
    const plain = readPlainSafetensors(join(FIXTURES, 'base', 'model.safetensors'));
    for (const name of ['model.embed_tokens.weight', 'model.layers.2.mlp.down_proj.weight']) {
      assert.deepEqual(folder.readBytes(name), plain.get(name)!.data);
      assert.deepEqual(file.readBytes(name), plain.get(name)!.data);
      assert.deepEqual(merged.readBytes(name), plain.get(name)!.data, `${name} is not a LoRA target`);
    }
    assert.notDeepEqual(merged.readBytes('model.layers.2.self_attn.q_proj.weight'), plain.get('model.layers.2.self_attn.q_proj.weight')!.data);
  } finally {
    folder.close();
    file.close();
    merged.close();
  }
});

test('reference parsing: an existing path containing + wins; otherwise split at the first + whose left side exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-open-'));
  try {
    const plusFolder = join(dir, 'a+b');
    mkdirSync(plusFolder);
    assert.deepEqual(parseModelReference(plusFolder), { base: plusFolder, adapter: undefined });
    assert.deepEqual(parseModelReference(`${plusFolder}+lora`), { base: plusFolder, adapter: 'lora' });
    assert.deepEqual(parseModelReference('x+y', { cwd: dir }), { base: 'x', adapter: 'y' });
    assert.deepEqual(parseModelReference('base', { cwd: dir }), { base: 'base', adapter: undefined });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an adapter folder alone is refused with a hint to write base+adapter', () => {
  expectModelevoError(() => openCheckpoint(join(FIXTURES, 'lora-code')), 'CHECKPOINT_UNSUPPORTED', /PEFT adapter folder/, /<base folder>\+test\/fixtures\/tiny-llama\/lora-code/);
  const adapter = openAdapter(join(FIXTURES, 'lora-code'));
  try {
    assert.equal(adapter.config.r, 8);
    assert.equal(adapter.path, resolve(FIXTURES, 'lora-code'));
  } finally {
    adapter.close();
  }
});

test('hub ids, revisions, missing paths and non-safetensors files get typed errors with hints', () => {
  // Hub ids resolve from the local HF cache only (here an empty one): the hint is the exact download command
  const emptyCache = mkdtempSync(join(tmpdir(), 'modelevo-hf-empty-'));
  const previous = process.env['HF_HUB_CACHE'];
  process.env['HF_HUB_CACHE'] = emptyCache;
  try {
    expectModelevoError(() => openCheckpoint('meta-llama/Llama-3.1-8B'), 'CHECKPOINT_NOT_FOUND', /'meta-llama\/Llama-3\.1-8B' is not in the local cache/, /never downloads/, /`huggingface-cli download meta-llama\/Llama-3\.1-8B`/);
    expectModelevoError(() => openCheckpoint(`${join(FIXTURES, 'base')}+someone/lora-adapter@main`), 'CHECKPOINT_NOT_FOUND', /someone\/lora-adapter' at revision 'main'/, /--revision main/);
  } finally {
    if (previous === undefined) delete process.env['HF_HUB_CACHE'];
    else process.env['HF_HUB_CACHE'] = previous;
    rmSync(emptyCache, { recursive: true, force: true });
  }
  expectModelevoError(() => openCheckpoint('./nowhere/model'), 'CHECKPOINT_NOT_FOUND', /'\.\/nowhere\/model' does not exist/, /check the path/);
  expectModelevoError(() => openCheckpoint(`${join(FIXTURES, 'base')}+${join(FIXTURES, 'expert-code')}`), 'CHECKPOINT_NOT_FOUND', /not a PEFT adapter folder/);
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-open-'));
  try {
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    expectModelevoError(() => openCheckpoint(join(dir, 'pytorch_model.bin')), 'CHECKPOINT_UNSUPPORTED', /PyTorch pickle/, /safetensors/);
    copyFileSync(join(FIXTURES, 'lora-code', 'adapter_config.json'), join(dir, 'adapter_config.json'));
    expectModelevoError(() => openCheckpoint(`${join(FIXTURES, 'base')}+${dir}`), 'CHECKPOINT_NOT_FOUND', /no adapter_model\.safetensors/);
    writeFileSync(join(dir, 'adapter_model.bin'), 'pickle');
    expectModelevoError(() => openCheckpoint(`${join(FIXTURES, 'base')}+${dir}`), 'CHECKPOINT_UNSUPPORTED', /adapter_model\.bin/, /safe_serialization/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
