import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRng } from '../core/rng.js';
import { openCheckpoint } from '../io/open.js';
import { MemoryCheckpoint } from '../io/memory-checkpoint.js';
import { expectedLlamaShapes, parseLlamaConfig } from './llama-config.js';
import { LlamaModel } from './llama-model.js';
import { referenceLogits as referenceForward, referenceNextTokenLosses } from './llama-reference.js';
import { loadLlamaWeights, type LlamaWeights } from './llama-weights.js';
import { DOMAINS, TINY_LLAMA, maxAbsDifference, referenceLogits, validationText } from './test-fixtures.js';
import { LmTokenizer } from './tokenizer.js';

describe('Llama forward on the tiny-llama base against transformers', () => {
  let weights: LlamaWeights;
  let model: LlamaModel;
  before(async () => {
    const checkpoint = openCheckpoint(join(TINY_LLAMA, 'base'));
    weights = loadLlamaWeights(checkpoint);
    checkpoint.close();
    model = await LlamaModel.fromWeights(weights, 'base', { threads: 1 });
  });
  after(() => model.close());

  for (const domain of DOMAINS) {
    it(`reference and fast logits match ${domain}.logits to 1e-4`, async () => {
      const { inputIds, logits } = referenceLogits(domain);
      const reference = referenceForward(weights, inputIds);
      assert.ok(maxAbsDifference(reference, logits) < 1e-4, `reference: ${maxAbsDifference(reference, logits)}`);
      const fast = await model.logits(Int32Array.from(inputIds));
      assert.ok(maxAbsDifference(fast, logits) < 1e-4, `fast: ${maxAbsDifference(fast, logits)}`);
      assert.ok(maxAbsDifference(fast, reference) < 1e-4, `fast vs reference: ${maxAbsDifference(fast, reference)}`);
    });
  }

  it('fast per-position losses of a full 256-token window match the float64 reference to 1e-4', async () => {
    const tokenizer = LmTokenizer.fromFolder(join(TINY_LLAMA, 'base'));
    const ids = tokenizer.encode(validationText('code')).slice(256 * 3, 256 * 4);
    const expected = referenceNextTokenLosses(referenceForward(weights, ids), ids, weights.config.vocabSize);
    const [fast] = await model.windowLosses([Int32Array.from(ids)]);
    assert.equal(fast!.length, 255);
    assert.ok(maxAbsDifference(fast!, expected) < 1e-4, `${maxAbsDifference(fast!, expected)}`);
  });
});

/** Random weights for a synthetic Llama config, as an in-memory checkpoint. */
function syntheticCheckpoint(rawConfig: Record<string, unknown>, options: { dropLmHead?: boolean } = {}): MemoryCheckpoint {
  const config = parseLlamaConfig(rawConfig, 'synthetic');
  const rng = createRng('llama-model.test', JSON.stringify(rawConfig));
  const tensors: Record<string, { shape: readonly number[]; values: Float32Array }> = {};
  for (const [name, shape] of expectedLlamaShapes(config, !options.dropLmHead)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const isNorm = shape.length === 1;
    const values = Float32Array.from({ length: size }, () => (isNorm ? 1 + 0.2 * (rng.next() - 0.5) : 0.4 * (rng.next() - 0.5)));
    tensors[name] = { shape, values };
  }
  return MemoryCheckpoint.fromFloat32(tensors, { source: 'synthetic', config: rawConfig });
}

const SYNTHETIC_BASE = {
  architectures: ['LlamaForCausalLM'],
  vocab_size: 50,
  hidden_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 40,
  max_position_embeddings: 32,
  rms_norm_eps: 1e-6,
};

describe('fast forward against the reference on synthetic Llama shapes', () => {
  const variants: [string, Record<string, unknown>, { dropLmHead?: boolean }][] = [
    ['4 query heads sharing 1 key/value head, tied embeddings', { ...SYNTHETIC_BASE, num_key_value_heads: 1, tie_word_embeddings: true }, {}],
    ['no GQA, explicit head_dim 8 (≠ hidden / heads), top-level rope_theta', { ...SYNTHETIC_BASE, num_key_value_heads: 4, head_dim: 8, rope_theta: 500 }, {}],
    ['lm_head absent from the checkpoint', { ...SYNTHETIC_BASE, num_key_value_heads: 2 }, { dropLmHead: true }],
  ];
  for (const [title, rawConfig, options] of variants) {
    it(title, async () => {
      const checkpoint = syntheticCheckpoint(rawConfig, options);
      const weights = loadLlamaWeights(checkpoint);
      if (options.dropLmHead || rawConfig['tie_word_embeddings']) assert.equal(weights.lmHead, weights.embed);
      const model = await LlamaModel.fromCheckpoint(checkpoint, { threads: 1 });
      try {
        const rng = createRng('llama-model.test', 'ids', title);
        const ids = Array.from({ length: 32 }, () => Math.floor(rng.next() * 50));
        const expected = referenceForward(weights, ids);
        const fast = await model.logits(Int32Array.from(ids));
        assert.ok(maxAbsDifference(fast, expected) < 1e-4, `${maxAbsDifference(fast, expected)}`);
        const [losses] = await model.windowLosses([Int32Array.from(ids)]);
        const expectedLosses = referenceNextTokenLosses(expected, ids, 50);
        assert.ok(maxAbsDifference(losses!, expectedLosses) < 1e-4);
      } finally {
        await model.close();
      }
    });
  }
});

describe('worker threads', () => {
  it('two workers return the same per-window losses as the calling thread, in input order', async () => {
    const checkpoint = syntheticCheckpoint({ ...SYNTHETIC_BASE, num_key_value_heads: 2 });
    const weights = loadLlamaWeights(checkpoint);
    const rng = createRng('llama-model.test', 'workers');
    const windows = Array.from({ length: 5 }, () => Int32Array.from({ length: 16 }, () => Math.floor(rng.next() * 50)));
    const local = await LlamaModel.fromWeights(weights, 'synthetic', { threads: 1 });
    const pooled = await LlamaModel.fromWeights(weights, 'synthetic', { threads: 2 });
    try {
      const progress: number[] = [];
      const expected = await local.windowLosses(windows);
      const actual = await pooled.windowLosses(windows, (done) => progress.push(done));
      assert.deepEqual(actual.map((a) => Array.from(a)), expected.map((e) => Array.from(e)));
      assert.deepEqual(progress, [1, 2, 3, 4, 5]);
      // the same workers take a different model
      const other = loadLlamaWeights(syntheticCheckpoint({ ...SYNTHETIC_BASE, num_key_value_heads: 1 }));
      await pooled.replaceWeights(other);
      const [swapped] = await pooled.windowLosses([windows[0]!]);
      const reference = referenceNextTokenLosses(referenceForward(other, windows[0]!), windows[0]!, 50);
      assert.ok(maxAbsDifference(swapped!, reference) < 1e-4);
    } finally {
      await local.close();
      await pooled.close();
    }
  });
});
