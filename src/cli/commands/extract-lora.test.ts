import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAdapter, openCheckpoint } from '../../io/open.js';
import { runCli } from '../../../test/support/cli.js';

const FIXTURES = 'test/fixtures/tiny-llama';

const NORMS = [0, 1, 2, 3].flatMap((i) => [`model.layers.${i}.input_layernorm.weight`, `model.layers.${i}.post_attention_layernorm.weight`]);

test('extract-lora --json: output, 29 modules, rank 8, skipped norms + embedding; inspect reports r = 8; base+adapter ≈ F', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-extract-cli-'));
  try {
    const out = join(dir, 'code-r8');
    const result = await runCli(['extract-lora', '--model', join(FIXTURES, 'expert-code'), '--base', join(FIXTURES, 'base'), '--rank', '8', out, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(report), ['output', 'modules', 'rank', 'skipped']);
    assert.equal(report.output, out);
    assert.equal(report.modules, 29);
    assert.equal(report.rank, 8);
    assert.deepEqual([...report.skipped].sort(), [...NORMS, 'model.embed_tokens.weight', 'model.norm.weight'].sort());
    assert.match(result.stderr, /extract-lora: 39\/39 tensors \(100%\)/);

    const inspected = await runCli(['inspect', out, '--json']);
    assert.equal(inspected.code, 0, inspected.stderr);
    const summary = JSON.parse(inspected.stdout);
    assert.equal(summary.adapter.r, 8);
    assert.equal(summary.adapter.alpha, 8);
    assert.equal(summary.adapter.scale, 1);
    assert.equal(summary.adapter.lora_modules, 29);
    assert.equal(summary.adapter.target_modules.length, 29);

    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    assert.deepEqual([config.peft_type, config.r, config.lora_alpha, config.rank_pattern, config.alpha_pattern], ['LORA', 8, 8, {}, {}]);

    // base+adapter is closer to F than the base is, but a rank-8 cut of a full-rank fine-tune delta is not F
    const view = openCheckpoint(`${join(FIXTURES, 'base')}+${out}`);
    const expert = openCheckpoint(join(FIXTURES, 'expert-code'));
    const base = openCheckpoint(join(FIXTURES, 'base'));
    try {
      const name = 'model.layers.3.self_attn.o_proj.weight';
      const merged = view.readFloat32(name);
      const f = expert.readFloat32(name);
      const b = base.readFloat32(name);
      const error = Math.sqrt(merged.reduce((s, v, i) => s + (v - f[i]!) ** 2, 0));
      const deltaNorm = Math.sqrt(f.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
      assert.ok(error > 0.3 * deltaNorm && error < deltaNorm, `rank 8 keeps part of a full-rank delta: ${error} of ${deltaNorm}`);
    } finally {
      view.close();
      expert.close();
      base.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('extract-lora with --sv-epsilon writes rank_pattern/alpha_pattern for lower-rank modules; --save-skipped keeps norms', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-extract-cli-'));
  try {
    const out = join(dir, 'eps');
    const args = ['extract-lora', '--model', join(FIXTURES, 'expert-math'), '--base', join(FIXTURES, 'base'), '--rank', '6'];
    const result = await runCli([...args, '--sv-epsilon', '0.4', '--save-skipped', out, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    assert.equal(config.r, report.rank);
    assert.deepEqual(config.rank_pattern, config.alpha_pattern);
    const adapter = openAdapter(out);
    try {
      // every module's scale is alpha/r = 1 and its A factor has the rank its pattern says
      for (const update of adapter.updates.values()) {
        assert.equal(update.scale, 1);
        assert.equal(adapter.weights.info(update.aName).shape[0], config.rank_pattern[update.module] ?? config.r);
        assert.ok(update.rank <= 6);
      }
      assert.ok(Object.keys(config.rank_pattern).length > 0, 'some module has fewer than 6 singular values above 0.4');
      assert.deepEqual([...adapter.replacements.keys()].sort(), [...NORMS, 'model.embed_tokens.weight', 'model.norm.weight'].sort());
    } finally {
      adapter.close();
    }
    const again = await runCli([...args, out]);
    assert.equal(again.code, 4, "an existing output is an I/O error (exit 4)");
    assert.match(again.stderr, /already exists and is not empty/);
    const bad = await runCli([...args.slice(0, -1), '0', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--rank: expected a positive integer; got '0'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
