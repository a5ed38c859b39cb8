import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelevoError } from '../../core/errors.js';
import { referenceLosses } from '../../eval/test-fixtures.js';
import { evalTable, parseTextArguments, runEval } from './eval.js';

const BASE = join('test', 'fixtures', 'tiny-llama', 'base');
const MATH = join('test', 'fixtures', 'text', 'math.val.txt');

describe('modelevo eval', () => {
  it('--json prints the reference loss of base on math (32 × 256 protocol)', async () => {
    let printed = '';
    const progress: string[] = [];
    await runEval(BASE, { text: [`math=${MATH}`], json: true, threads: 1 }, {
      write: (text) => (printed += text),
      progress: (name, done, total) => progress.push(`${name} ${done}/${total}`),
    });
    const parsed = JSON.parse(printed) as { texts: Record<string, { loss: number; perplexity: number; tokens: number }> };
    assert.deepEqual(Object.keys(parsed.texts), ['math']);
    const math = parsed.texts['math']!;
    assert.ok(Math.abs(math.loss - referenceLosses()['base']!.math) < 1e-4, `${math.loss}`);
    assert.equal(math.perplexity, Math.exp(math.loss));
    assert.equal(math.tokens, 32 * 255);
    assert.equal(progress.length, 32);
    assert.equal(progress.at(-1), 'math 32/32');
  });

  it('prints an aligned table', () => {
    const table = evalTable('m', new Map([['code', { loss: 2.5, perplexity: Math.exp(2.5), tokens: 255 }]]));
    assert.equal(table, 'm\ntext  loss (nats)  perplexity  tokens\ncode       2.5000      12.182     255\n');
  });

  it('names bare paths after their file and refuses duplicate names and missing files', () => {
    assert.deepEqual([...parseTextArguments([MATH, `m=${MATH}`])], [['math.val', MATH], ['m', MATH]]);
    assert.throws(() => parseTextArguments([`a=${MATH}`, `a=${MATH}`]), (e: unknown) => e instanceof ModelevoError && e.code === 'CONFIG_INVALID');
    assert.throws(() => parseTextArguments(['a=/no/such/file.txt']), (e: unknown) => e instanceof ModelevoError && e.code === 'IO_FAILED');
  });

  it('refuses a window longer than the model positions before evaluating', async () => {
    await assert.rejects(
      runEval(BASE, { text: [`math=${MATH}`], window: 257, threads: 1 }, { write: () => undefined }),
      (e: unknown) => e instanceof ModelevoError && e.code === 'VALUE_INVALID' && e.hint === 'pass --window 256 or less',
    );
  });
});
