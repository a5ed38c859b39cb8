import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../../../test/support/cli.js';

const FIXTURES = 'test/fixtures/tiny-llama';

test('inspect --json on each LoRA fixture reports r=8, alpha=16 and 4 target modules', async () => {
  for (const name of ['lora-code', 'lora-literature', 'lora-math']) {
    const { code, stdout, stderr } = await runCli(['inspect', join(FIXTURES, name), '--json']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout);
    assert.equal(report.adapter.r, 8);
    assert.equal(report.adapter.alpha, 16);
    assert.deepEqual([...report.adapter.target_modules].sort(), ['k_proj', 'o_proj', 'q_proj', 'v_proj']);
    assert.equal(report.adapter.scale, 2);
    assert.equal(report.adapter.touched.length, 16);
    // 16 modules × (A [8,128] + B [out,8]); out is 128 for q/o and 64 for k/v (2 KV heads × 32)
    const expectedParams = 4 * (4 * 8 * 128 + 2 * 128 * 8 + 2 * 64 * 8);
    assert.deepEqual({ tensors: report.tensors, parameters: report.parameters, bytes: report.bytes, dtypes: report.dtypes }, {
      tensors: 32,
      parameters: expectedParams,
      bytes: 4 * expectedParams,
      dtypes: { F32: 32 },
    });
  }
});

test('inspect --json on base and base-sharded: counts, bytes, dtypes, shards', async () => {
  const single = JSON.parse((await runCli(['inspect', join(FIXTURES, 'base'), '--json'])).stdout);
  const sharded = JSON.parse((await runCli(['inspect', join(FIXTURES, 'base-sharded'), '--json'])).stdout);
  for (const report of [single, sharded]) {
    assert.equal(report.tensors, 39);
    assert.equal(report.parameters, 1_000_576);
    assert.equal(report.bytes, 4_002_304);
    assert.deepEqual(report.dtypes, { F32: 39 });
    assert.equal(report.architecture.model_type, 'llama');
    assert.equal(report.architecture.num_key_value_heads, 2);
  }
  assert.equal(single.shards.length, 1);
  assert.equal(sharded.shards.length, 5);
  assert.equal(sharded.shards.reduce((s: number, x: { bytes: number }) => s + x.bytes, 0), 4_002_304);
  const bf16 = JSON.parse((await runCli(['inspect', join(FIXTURES, 'expert-code-bf16'), '--json'])).stdout);
  assert.deepEqual(bf16.dtypes, { BF16: 39 });
  assert.equal(bf16.bytes, 2_001_152);
});

test('inspect base+adapter reports the merged view plus the adapter', async () => {
  const { code, stdout } = await runCli(['inspect', `${join(FIXTURES, 'base')}+${join(FIXTURES, 'lora-math')}`, '--json', '--tensors']);
  assert.equal(code, 0);
  const report = JSON.parse(stdout);
  assert.equal(report.tensors, 39);
  assert.equal(report.adapter.r, 8);
  assert.equal(report.tensor_list.length, 39);
  assert.deepEqual(report.tensor_list.find((t: { name: string }) => t.name === 'model.layers.0.self_attn.k_proj.weight'), {
    name: 'model.layers.0.self_attn.k_proj.weight',
    dtype: 'F32',
    shape: [64, 128],
  });
});

test('human output is aligned and readable', async () => {
  const { code, stdout } = await runCli(['inspect', join(FIXTURES, 'base-sharded'), '--tensors']);
  assert.equal(code, 0);
  assert.match(stdout, /^architecture +LlamaForCausalLM \(llama\): 4 layers, hidden 128, 4 heads \(2 KV\), head_dim 32, intermediate 352, vocab 1024$/m);
  assert.match(stdout, /^parameters +1\.00M \(1,000,576\)$/m);
  assert.match(stdout, /^data +4\.00 MB \(4,002,304 bytes\)$/m);
  assert.match(stdout, /^dtypes +F32 × 39$/m);
  assert.match(stdout, /^shards \(5\)$/m);
  const shardLines = stdout.split('\n').filter((l) => /model-0000\d-of-00005\.safetensors/.test(l));
  assert.equal(shardLines.length, 5);
  assert.equal(new Set(shardLines.map((l) => l.length)).size, 1, 'shard rows are aligned to one width');
  const tensorLines = stdout.split('\n').filter((l) => /^ {2}model\.layers\.\d/.test(l));
  assert.equal(tensorLines.length, 36);
  const dtypeColumn = new Set(tensorLines.map((l) => l.indexOf(' F32 ')));
  assert.equal(dtypeColumn.size, 1, 'dtype column aligned');
  const adapterText = (await runCli(['inspect', join(FIXTURES, 'lora-code')])).stdout;
  assert.match(adapterText, /^rank +r = 8, lora_alpha = 16$/m);
  assert.match(adapterText, /^scale +2 \(alpha\/r\)$/m);
  assert.match(adapterText, /^targets +q_proj, v_proj, k_proj, o_proj$/m);
  assert.match(adapterText, /^touches +16 base tensors$/m);
});

test('errors print `error [CODE]: message` and a hint, exit non-zero, and show a stack only with --debug', async () => {
  const missing = await runCli(['inspect', join(FIXTURES, 'no-such-model')]);
  assert.equal(missing.code, 3);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^error \[CHECKPOINT_NOT_FOUND\]: '.*no-such-model' does not exist/);
  assert.match(missing.stderr, /\nhint: /);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace without --debug');
  const debug = await runCli(['--debug', 'inspect', join(FIXTURES, 'no-such-model')]);
  assert.equal(debug.code, 3);
  assert.match(debug.stderr, /\n\s+at /, 'stack trace with --debug');
  const adapterAlone = await runCli(['inspect', `${join(FIXTURES, 'lora-code')}/adapter_config.json`]);
  assert.equal(adapterAlone.code, 3);
  assert.match(adapterAlone.stderr, /^error \[CHECKPOINT_UNSUPPORTED\]: cannot load weights from this file/);
});
