// Parameter ranges (issue #17 item 8): density in [0, 1], slerp t in [0, 1], refused up front with the
// config path (models[0], not a file path) before any model is opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../core/errors.js';
import { runMerge } from './index.js';

const EXPERT = 'test/fixtures/tiny-llama/expert-code';
const BASE = 'test/fixtures/tiny-llama/base';

async function refusal(config: unknown): Promise<ConfigError> {
  // a model path that does not exist: the range check must come before any model is opened
  try {
    await runMerge(config, undefined, { inMemory: true, progress: 'none' });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('accepted');
}

test('density 1.7 (dare_ties) and -0.1 are refused naming models[i], not the model file', async () => {
  for (const density of [1.7, -0.1, [0.2, 1.5]]) {
    const error = await refusal({
      merge_method: 'dare_ties',
      base_model: '/nowhere/base',
      models: [{ model: '/nowhere/expert', parameters: { weight: 1, density } }],
    });
    assert.deepEqual(error.issues[0]!.path, ['models', 0, 'parameters', 'density']);
    assert.match(error.message, /at models\[0\]\.parameters\.density: 'density' .* must be in \[0, 1\]/);
    assert.doesNotMatch(error.message, /nowhere/);
  }
});

test('slerp t: 7 and filtered t values outside [0, 1] are refused; nearswap t is a threshold and is not', async () => {
  for (const t of [7, -0.5, [{ filter: 'mlp', value: [0, 1.2] }, { value: 0.5 }]]) {
    const error = await refusal({ merge_method: 'slerp', base_model: '/nowhere/base', models: [{ model: '/nowhere/base' }, { model: '/nowhere/x' }], parameters: { t } });
    assert.deepEqual(error.issues[0]!.path, ['parameters', 't']);
  }
  // in range: the merge runs (values are checked, not refused)
  const result = await runMerge(
    { merge_method: 'slerp', base_model: BASE, models: [{ model: BASE }, { model: EXPERT }], parameters: { t: [0, 0.5, 1] }, dtype: 'float32' },
    undefined,
    { inMemory: true, progress: 'none' },
  );
  assert.ok(result.tensors > 0);
  await assert.rejects(
    runMerge({ merge_method: 'nearswap', base_model: '/nowhere/base', models: [{ model: '/nowhere/base' }, { model: '/nowhere/x' }], parameters: { t: 7 } }, undefined, { inMemory: true, progress: 'none' }),
    (e: unknown) => !(e instanceof ConfigError && /must be in \[0, 1\]/.test(e.message)),
  );
});
