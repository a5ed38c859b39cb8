import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPlainSafetensors } from '../../../test/support/plain-safetensors.js';
import { defaultFixturesDir, runDemo } from './demo.js';

test('the demo writes a sharded LoRA-merged copy that reads back identically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-demo-'));
  try {
    const out = join(dir, 'demo');
    const lines: string[] = [];
    const result = runDemo({ fixtures: defaultFixturesDir(), out, outShardSize: '1M', overwrite: false, write: (t) => lines.push(t) });
    const text = lines.join('');
    assert.equal(result.mismatches, 0);
    assert.equal(result.tensors, 39);
    assert.equal(result.touched, 16);
    const files = readdirSync(out).sort();
    const shards = files.filter((f) => f.endsWith('.safetensors'));
    assert.equal(result.shards, shards.length);
    assert.ok(shards.length >= 4, `4 MB at 1 MB per shard needs at least 4 shards, got ${shards.length}`);
    assert.ok(files.includes('model.safetensors.index.json') && files.includes('config.json') && files.includes('tokenizer.json'));
    let total = 0;
    for (const shard of shards) {
      const tensors = readPlainSafetensors(join(out, shard));
      const bytes = [...tensors.values()].reduce((s, t) => s + t.data.byteLength, 0);
      assert.ok(bytes <= 1_000_000 || tensors.size === 1, `${shard}: ${bytes} bytes`);
      total += bytes;
    }
    assert.equal(total, 4_002_304);
    assert.match(text, /r = 8, lora_alpha = 16 → scale s = 2/);
    assert.match(text, /39\/39 tensors identical to the in-memory merged view/);
    assert.match(text, /23\/23 untouched tensors identical to the base/);
    assert.match(text, /Done: the merged model is ready\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`node bin/modelevo.js demo --lora` runs end to end and a bad shard size is a clean CLI error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-demo-'));
  try {
    const ok = spawnSync(process.execPath, ['bin/modelevo.js', 'demo', '--lora', '--out', join(dir, 'demo')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Done: the merged model is ready\./);
    const bad = spawnSync(process.execPath, ['bin/modelevo.js', 'demo', '--lora', '--out', join(dir, 'x'), '--out-shard-size', '1MB'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error \[VALUE_INVALID\]: invalid --out-shard-size '1MB'/);
    assert.match(bad.stderr, /\nhint: /);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
