import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SPATIAL_FEATURES, TEMPORAL_FEATURES } from './features.js';
import { PROMPT_STEPS, initialPromptWeights, isEncoderTensor, isPromptTensor } from './prompt-encoder.js';

test('prompt tensors: [in, out] shapes, PyTorch nn.Linear init U(±1/√fan_in), seeded, named by network', () => {
  const dim = 7;
  const weights = initialPromptWeights(3, dim);
  const expected: Record<string, [number, number]> = {
    'prompt.encoder.temporal.hidden': [TEMPORAL_FEATURES, dim],
    'prompt.encoder.temporal.out': [dim, 2],
    'prompt.encoder.spatial.hidden': [SPATIAL_FEATURES, dim],
    'prompt.encoder.spatial.out': [dim, 2],
    'prompt.project.temporal': [dim, PROMPT_STEPS],
    'prompt.project.spatial': [dim, PROMPT_STEPS],
  };
  assert.deepEqual(Object.keys(weights).sort(), Object.keys(expected).flatMap((n) => [`${n}.bias`, `${n}.weight`]).sort());
  for (const [name, [fanIn, out]] of Object.entries(expected)) {
    assert.deepEqual(weights[`${name}.weight`]!.shape, [fanIn, out]);
    assert.deepEqual(weights[`${name}.bias`]!.shape, [out]);
    const bound = 1 / Math.sqrt(fanIn);
    for (const v of [...weights[`${name}.weight`]!.data, ...weights[`${name}.bias`]!.data]) assert.ok(Math.abs(v) <= bound, `${name}: ${v} outside ±${bound}`);
    // 13·7 draws from U(±b) use a good part of the range (not all zero, not one constant)
    const w = weights[`${name}.weight`]!.data;
    assert.ok(Math.max(...w) - Math.min(...w) > 0.5 * bound, name);
  }
  assert.deepEqual(initialPromptWeights(3, dim), weights, 'same seed, same weights');
  assert.notDeepEqual(initialPromptWeights(4, dim)['prompt.project.temporal.weight']!.data, weights['prompt.project.temporal.weight']!.data);
  assert.equal(PROMPT_STEPS, 13);
  assert.ok(isEncoderTensor('prompt.encoder.spatial.out.bias') && !isEncoderTensor('prompt.project.spatial.bias'));
  assert.ok(isPromptTensor('prompt.project.spatial.bias') && isPromptTensor('prompt.encoder.temporal.hidden.weight') && !isPromptTensor('start.weight'));
});
