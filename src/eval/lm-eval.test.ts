import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelevoError } from '../core/errors.js';
import { openCheckpoint } from '../io/open.js';
import { LlamaModel } from './llama-model.js';
import { loadLlamaWeights } from './llama-weights.js';
import { evaluateText, evaluateTexts, evaluationWindows, summariseLosses } from './lm-eval.js';
import { DOMAINS, TINY_LLAMA, referenceLosses, validationText, type Domain } from './test-fixtures.js';
import { LmTokenizer } from './tokenizer.js';
import { budget } from '../../test/support/budget.js';

const TOLERANCE = 1e-4;

function modelReference(name: string): string {
  // LoRA adapters are evaluated as merged views on their base
  return name.startsWith('lora-') ? `${join(TINY_LLAMA, 'base')}+${join(TINY_LLAMA, name)}` : join(TINY_LLAMA, name);
}

/** reference-losses.json: every model (LoRA adapters as base+adapter views) on every domain, 9 × 3 losses. */
describe('evaluator reproduces reference-losses.json (32 windows × 256 tokens)', () => {
  const expected = referenceLosses();
  const tokenizer = LmTokenizer.fromFolder(join(TINY_LLAMA, 'base'));
  const texts = new Map(DOMAINS.map((d) => [d, validationText(d)]));
  let model: LlamaModel;
  before(async () => {
    const checkpoint = openCheckpoint(join(TINY_LLAMA, 'base'));
    model = await LlamaModel.fromCheckpoint(checkpoint, { threads: 2 });
    checkpoint.close();
  });
  after(() => model.close());

  // npm test: the base on every domain plus one model of each kind (expert, bf16 expert, LoRA view) on one domain
  // each (6 of the 27 evaluations, ~1.5 CPU-s apiece); test:full: every model on every domain.
  const quickPlan: [string, Domain[]][] = [
    ['base', [...DOMAINS]],
    ['expert-code', ['code']],
    ['expert-code-bf16', ['math']],
    ['lora-literature', ['literature']],
  ];
  const fullPlan: [string, Domain[]][] = Object.keys(expected).map((name) => [name, [...DOMAINS]]);
  const plan = budget(quickPlan, fullPlan);
  for (const [name, domains] of plan) {
    it(`${name} on ${domains.join(', ')}`, async () => {
      const checkpoint = openCheckpoint(modelReference(name));
      await model.replaceWeights(loadLlamaWeights(checkpoint));
      checkpoint.close();
      const results = await evaluateTexts(model, tokenizer, new Map(domains.map((d) => [d, texts.get(d)!])));
      for (const domain of domains) {
        const result = results.get(domain)!;
        const want = expected[name]![domain];
        assert.ok(Math.abs(result.loss - want) < TOLERANCE, `${name}/${domain}: ${result.loss} vs ${want}`);
        assert.equal(result.tokens, 32 * 255);
        assert.equal(result.perplexity, Math.exp(result.loss));
      }
    });
  }
});

describe('evaluation windows and errors', () => {
  const ids = Array.from({ length: 100 }, (_, i) => i);
  const context = { label: 'sample', maxPositions: 16 };

  it('cuts non-overlapping windows after the offset', () => {
    const windows = evaluationWindows(ids, { window: 10, windows: 3, offset: 2 }, context);
    assert.deepEqual(windows.map((w) => Array.from(w)), [20, 30, 40].map((s) => Array.from({ length: 10 }, (_, i) => s + i)));
  });

  it('averages every prediction in float64', () => {
    const result = summariseLosses([Float32Array.of(1, 2), Float32Array.of(3)]);
    assert.deepEqual(result, { loss: 2, perplexity: Math.exp(2), tokens: 3 });
  });

  const failures: [string, () => unknown, RegExp][] = [
    ['an empty text', () => evaluationWindows([], { window: 4, windows: 1 }, context), /text 'sample' is empty/],
    ['too few tokens', () => evaluationWindows(ids, { window: 16, windows: 7 }, context), /has 100 tokens but 0 \+ 7 windows of 16 need 112/],
    ['window > max positions', () => evaluationWindows(ids, { window: 17, windows: 1 }, context), /window 17 exceeds the model's max_position_embeddings 16/],
    ['a one-token window', () => evaluationWindows(ids, { window: 1, windows: 1 }, context), /window must be an integer ≥ 2, got 1/],
  ];
  for (const [title, run, message] of failures) {
    it(`refuses ${title} with VALUE_INVALID`, () => {
      assert.throws(run, (error: unknown) => error instanceof ModelevoError && error.code === 'VALUE_INVALID' && message.test(error.message));
    });
  }

  it('hints at the largest window count that fits', () => {
    assert.throws(
      () => evaluationWindows(ids, { window: 16, windows: 7 }, context),
      (error: unknown) => error instanceof ModelevoError && error.hint === 'pass --windows 6 or less (or a smaller --window / --offset)',
    );
  });

  it('evaluateText checks the window against the model before running', async () => {
    const checkpoint = openCheckpoint(join(TINY_LLAMA, 'base'));
    const model = await LlamaModel.fromCheckpoint(checkpoint, { threads: 1 });
    checkpoint.close();
    try {
      await assert.rejects(
        evaluateText(model, LmTokenizer.fromFolder(join(TINY_LLAMA, 'base')), validationText('math'), { window: 512, windows: 1 }),
        (error: unknown) => error instanceof ModelevoError && /window 512 exceeds the model's max_position_embeddings 256/.test(error.message),
      );
    } finally {
      await model.close();
    }
  });
});
