import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectModelevoErrorWithHint } from '../../test/support/errors.js';
import { classifyAdapterTensor, isTargetModule, matchPatternKey, moduleScale, parseLoraConfig, readLoraAdapter } from './peft.js';

const FIXTURES = 'test/fixtures/tiny-llama';

test('adapter tensor names map to module paths, with or without the adapter name', () => {
  assert.deepEqual(classifyAdapterTensor('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'), {
    kind: 'lora',
    module: 'model.layers.0.self_attn.q_proj',
    role: 'lora_A',
  });
  assert.deepEqual(classifyAdapterTensor('base_model.model.model.layers.3.mlp.up_proj.lora_B.default.weight'), {
    kind: 'lora',
    module: 'model.layers.3.mlp.up_proj',
    role: 'lora_B',
  });
  assert.deepEqual(classifyAdapterTensor('base_model.model.model.embed_tokens.lora_embedding_A'), {
    kind: 'lora',
    module: 'model.embed_tokens',
    role: 'lora_embedding_A',
  });
  assert.deepEqual(classifyAdapterTensor('base_model.model.model.embed_tokens.lora_embedding_B.default'), {
    kind: 'lora',
    module: 'model.embed_tokens',
    role: 'lora_embedding_B',
  });
  assert.deepEqual(classifyAdapterTensor('base_model.model.score.weight'), { kind: 'full', target: 'score.weight' });
  assert.deepEqual(classifyAdapterTensor('base_model.model.score.modules_to_save.default.weight'), { kind: 'full', target: 'score.weight' });
  expectModelevoErrorWithHint(() => classifyAdapterTensor('model.layers.0.q_proj.lora_A.weight'), 'ADAPTER_INVALID', /base_model\.model\./);
  expectModelevoErrorWithHint(() => classifyAdapterTensor('base_model.model.x.lora_B.default.weight.extra'), 'CHECKPOINT_UNSUPPORTED', /suffix/);
  expectModelevoErrorWithHint(() => classifyAdapterTensor('base_model.model.x.lora_B.bias'), 'CHECKPOINT_UNSUPPORTED', /lora_bias/);
});

test('pattern keys follow PEFT get_pattern_key: dotted suffix, full path or regex, first match wins', () => {
  const path = 'model.layers.2.self_attn.q_proj';
  assert.equal(matchPatternKey(['q_proj'], path), 'q_proj');
  assert.equal(matchPatternKey(['proj'], path), undefined, 'a partial name is not a dotted suffix');
  assert.equal(matchPatternKey([path], path), path);
  assert.equal(matchPatternKey(['layers\\.[0-2]\\..*q_proj'], path), 'layers\\.[0-2]\\..*q_proj');
  assert.equal(matchPatternKey(['layers\\.[3-9]\\..*q_proj'], path), undefined);
  assert.equal(matchPatternKey(['self_attn.q_proj', 'q_proj'], path), 'self_attn.q_proj');
  assert.equal(matchPatternKey(['k_proj', 'q_proj'], path), 'q_proj');
  assert.equal(matchPatternKey(['q_proj('], 'model.q_proj('), 'q_proj(', 'an invalid regex falls back to a literal suffix');
});

test('target_modules: suffix list or full-path regex', () => {
  assert.equal(isTargetModule(['q_proj', 'v_proj'], 'model.layers.0.self_attn.v_proj'), true);
  assert.equal(isTargetModule(['q_proj'], 'model.layers.0.self_attn.k_proj'), false);
  assert.equal(isTargetModule('.*\\.(q|v)_proj', 'model.layers.0.self_attn.q_proj'), true);
  assert.equal(isTargetModule('q_proj', 'model.layers.0.self_attn.q_proj'), false, 'a string is a full-match regex');
  assert.equal(isTargetModule(null, 'model.layers.0.self_attn.q_proj'), false);
});

test('scale is alpha/r, alpha/√r under rsLoRA, with rank/alpha pattern overrides', () => {
  const base = { peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'k_proj'] };
  const plain = parseLoraConfig(base, 'cfg');
  assert.deepEqual(moduleScale(plain, 'model.layers.0.self_attn.q_proj'), { rank: 8, alpha: 16, scale: 2 });
  const rs = parseLoraConfig({ ...base, use_rslora: true }, 'cfg');
  assert.equal(moduleScale(rs, 'model.layers.0.self_attn.q_proj').scale, 16 / Math.sqrt(8));
  const patterned = parseLoraConfig({ ...base, rank_pattern: { k_proj: 4 }, alpha_pattern: { 'layers.1.self_attn.q_proj': 2 } }, 'cfg');
  assert.deepEqual(moduleScale(patterned, 'model.layers.0.self_attn.k_proj'), { rank: 4, alpha: 16, scale: 4 });
  assert.deepEqual(moduleScale(patterned, 'model.layers.1.self_attn.q_proj'), { rank: 8, alpha: 2, scale: 0.25 });
  assert.deepEqual(moduleScale(patterned, 'model.layers.0.self_attn.q_proj'), { rank: 8, alpha: 16, scale: 2 });
});

test('adapter configs are validated: peft_type, use_dora, r, patterns', () => {
  const ok = { peft_type: 'LORA', r: 8, lora_alpha: 16 };
  expectModelevoErrorWithHint(() => parseLoraConfig({ ...ok, use_dora: true }, 'a/adapter_config.json'), 'CHECKPOINT_UNSUPPORTED', /use_dora/, /DoRA/, /a\/adapter_config\.json/, /merge_and_unload/);
  expectModelevoErrorWithHint(() => parseLoraConfig({ ...ok, peft_type: 'IA3' }, 'cfg'), 'CHECKPOINT_UNSUPPORTED', /"IA3"/, /expected "LORA"/);
  expectModelevoErrorWithHint(() => parseLoraConfig({ ...ok, r: 0 }, 'cfg'), 'ADAPTER_INVALID', /'r' is 0, expected a positive number/);
  expectModelevoErrorWithHint(() => parseLoraConfig({ ...ok, rank_pattern: { q_proj: 'big' } }, 'cfg'), 'ADAPTER_INVALID', /rank_pattern\.q_proj/);
  expectModelevoErrorWithHint(() => parseLoraConfig([], 'cfg'), 'ADAPTER_INVALID', /JSON object/);
});

test('the lora-code fixture: 16 modules on q/k/v/o of 4 layers, r 8, scale 2', () => {
  const adapter = readLoraAdapter(join(FIXTURES, 'lora-code'));
  try {
    assert.equal(adapter.config.r, 8);
    assert.equal(adapter.config.loraAlpha, 16);
    assert.equal(adapter.updates.size, 16);
    assert.equal(adapter.replacements.size, 0);
    for (const update of adapter.updates.values()) {
      assert.match(update.target, /^model\.layers\.[0-3]\.self_attn\.[qkvo]_proj\.weight$/);
      assert.equal(update.scale, 2);
      assert.equal(update.rank, 8);
      assert.equal(update.transposed, false);
      assert.equal(update.kind, 'linear');
    }
  } finally {
    adapter.close();
  }
});

test('adapter folders with use_dora or only adapter_model.bin are rejected with hints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-peft-'));
  try {
    const config = { peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj'] };
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, use_dora: true }));
    copyFileSync(join(FIXTURES, 'lora-code', 'adapter_model.safetensors'), join(dir, 'adapter_model.safetensors'));
    expectModelevoErrorWithHint(() => readLoraAdapter(dir), 'CHECKPOINT_UNSUPPORTED', /use_dora is true/, /adapter_config\.json/);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config));
    rmSync(join(dir, 'adapter_model.safetensors'));
    writeFileSync(join(dir, 'adapter_model.bin'), 'not really a pickle');
    expectModelevoErrorWithHint(() => readLoraAdapter(dir), 'CHECKPOINT_UNSUPPORTED', /adapter_model\.bin/, /safe_serialization=True/);
    rmSync(join(dir, 'adapter_config.json'));
    expectModelevoErrorWithHint(() => readLoraAdapter(dir), 'CHECKPOINT_NOT_FOUND', /no adapter_config\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
