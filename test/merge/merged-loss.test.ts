import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMerge } from '../../src/merge/index.js';
import { openCheckpoint } from '../../src/io/open.js';
import { SafetensorsFile } from '../../src/io/safetensors/reader.js';
import { LmTokenizer } from '../../src/eval/tokenizer.js';
import { TextEvaluator, evaluateTestSplit } from '../../src/evolve/fitness/lm.js';
import { budget } from '../support/budget.js';

const FIX = 'test/fixtures/tiny-llama';
const DOMAINS = ['literature', 'code', 'math'];
// Each evaluation runs 32 windows of 256 tokens (~2 CPU-s); npm test checks each merged model on one domain, test:full on all three.
const textsFor = (domains: string[]) => Object.fromEntries(domains.map((d) => [d, `test/fixtures/text/${d}.val.txt`]));
const reference = JSON.parse(readFileSync(`${FIX}/reference-losses.json`, 'utf8')).losses as Record<string, Record<string, number>>;

test('merged output written to disk loads in our reader and has the expected per-domain losses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-merged-loss-'));
  const evaluator = new TextEvaluator(2);
  try {
    const tokenizer = LmTokenizer.fromFolder(`${FIX}/base`);
    const cases: [string, string, Record<string, unknown>, string[]][] = [
      // merging the LoRA adapter into the base (a one-model linear merge of the base+adapter view)
      ['lora-code', 'lora', { merge_method: 'linear', models: [{ model: `${FIX}/base+${FIX}/lora-code`, parameters: { weight: 1 } }], dtype: 'float32' }, budget(['code'], DOMAINS)],
      // a one-hot linear merge stored as bfloat16 is the bf16 expert
      ['expert-code-bf16', 'bf16', { merge_method: 'linear', models: [{ model: `${FIX}/expert-code`, parameters: { weight: 1 } }, { model: `${FIX}/expert-math`, parameters: { weight: 0 } }], out_dtype: 'bfloat16' }, budget(['math'], DOMAINS)],
    ];
    for (const [name, folder, config, domains] of cases) {
      const out = join(dir, folder);
      const result = await runMerge(config, out, { progress: 'none', outShardSize: '1M' });
      assert.ok(result.tensors > 0);
      // every shard passes the strict reader
      const index = JSON.parse(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
      for (const shard of new Set(Object.values(index.weight_map))) SafetensorsFile.open(join(out, shard)).close();
      const merged = openCheckpoint(out);
      const losses = await evaluateTestSplit(evaluator, merged, textsFor(domains), tokenizer);
      assert.deepEqual([...losses.keys()].sort(), [...domains].sort());
      merged.close();
      for (const [domain, r] of losses) assert.ok(Math.abs(r.loss - reference[name]![domain]!) < 1e-4, `${name}/${domain}: ${r.loss} vs ${reference[name]![domain]}`);
    }
  } finally {
    await evaluator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
