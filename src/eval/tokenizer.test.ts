import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelevoError } from '../core/errors.js';
import { DOMAINS, TINY_LLAMA, referenceLogits, validationText } from './test-fixtures.js';
import { LmTokenizer, tokenizerFolderFor } from './tokenizer.js';

describe('LmTokenizer on the tiny-llama fixture', () => {
  const tokenizer = LmTokenizer.fromFolder(join(TINY_LLAMA, 'base'));

  for (const domain of DOMAINS) {
    it(`reproduces ${domain}.input_ids from the start of text/${domain}.val.txt`, () => {
      const { inputIds } = referenceLogits(domain);
      assert.equal(inputIds.length, 64);
      const encoded = tokenizer.encode(validationText(domain));
      assert.deepEqual(encoded.slice(0, 64), inputIds);
    });
  }

  it('adds no special tokens and round-trips text through decode', () => {
    const text = 'def f(x):\n    return x + 1  # ünïcode\n';
    const ids = tokenizer.encode(text);
    assert.ok(!ids.includes(0), 'the <|endoftext|> id 0 must not be added');
    assert.equal(tokenizer.decode(ids), text);
  });

  it('encodes the empty string to no tokens', () => {
    assert.deepEqual(tokenizer.encode(''), []);
  });

  it('refuses a folder without tokenizer.json with CHECKPOINT_NOT_FOUND', () => {
    assert.throws(
      () => LmTokenizer.fromFolder(join(TINY_LLAMA, 'lora-code')),
      (error: unknown) => error instanceof ModelevoError && error.code === 'CHECKPOINT_NOT_FOUND' && /tokenizer\.json/.test(error.message),
    );
  });

  it('finds the tokenizer folder of a folder or of a file inside it', () => {
    assert.equal(tokenizerFolderFor(join(TINY_LLAMA, 'base')), join(TINY_LLAMA, 'base'));
    assert.equal(tokenizerFolderFor(join(TINY_LLAMA, 'base', 'model.safetensors')), join(TINY_LLAMA, 'base'));
  });
});
