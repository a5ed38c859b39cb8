import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { parseEvolveConfig } from '../../src/evolve/config.js';
import { lmFitness } from '../../src/evolve/fitness/lm.js';
import { TEST_WINDOWS, checkDevelopmentWindows } from '../../src/evolve/fitness/splits.js';
import { evaluationWindows } from '../../src/eval/lm-eval.js';

const texts = { code: 'test/fixtures/text/code.val.txt' };
const config = (offset: number) => ({
  base_model: 'test/fixtures/tiny-llama/base',
  models: ['a', 'b'],
  strategy: { name: 'cma-es', genome: { merge_method: 'linear' } },
  fitness: { builtin: { texts, offset } },
});

test('the test split is windows [0, 32): configs and fitness sources reaching into it are refused', async () => {
  assert.equal(TEST_WINDOWS, 32);
  for (const offset of [0, 1, 31]) {
    assert.throws(() => parseEvolveConfig(config(offset)), (e: unknown) => e instanceof ConfigError && /test split/.test(e.message));
    assert.throws(() => checkDevelopmentWindows(offset), /test split/);
    await assert.rejects(lmFitness({ texts, window: 256, windows: 4, offset, tokenizerFolder: 'test/fixtures/tiny-llama/base' }), /test split/);
  }
  assert.ok('builtin' in parseEvolveConfig(config(32)).fitness);
  // the default development offset is the first window after the test split
  const parsed = parseEvolveConfig({ ...config(32), fitness: { builtin: { texts } } });
  assert.ok('builtin' in parsed.fitness && parsed.fitness.builtin.offset === TEST_WINDOWS);
});

test('development windows never overlap test windows', () => {
  const ids = Array.from({ length: 50 * 256 }, (_, i) => i);
  const testWindows = evaluationWindows(ids, { window: 256, windows: TEST_WINDOWS, offset: 0 }, { label: 't', maxPositions: 256 });
  const devWindows = evaluationWindows(ids, { window: 256, windows: 8, offset: TEST_WINDOWS }, { label: 't', maxPositions: 256 });
  const testTokens = new Set(testWindows.flatMap((w) => [...w]));
  for (const w of devWindows) for (const id of w) assert.ok(!testTokens.has(id));
  assert.equal(devWindows[0]![0], TEST_WINDOWS * 256);
});

test('every bundled evolve example parses', async () => {
  const { readdirSync } = await import('node:fs');
  const { loadEvolveConfig } = await import('../../src/evolve/config.js');
  const files = readdirSync('examples/evolve').filter((f) => f.endsWith('.yml'));
  assert.ok(files.length >= 1);
  for (const file of files) assert.ok(loadEvolveConfig(`examples/evolve/${file}`).budget >= 1);
});
