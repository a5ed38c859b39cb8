/** Batch norm's running statistics and inference mode, against values computed by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../model.js';
import { createReferenceKernels } from '../kernels/reference/index.js';

test('running mean/variance follow PyTorch momentum with unbiased variance; eval mode uses them', () => {
  // one channel, batch 2, length 2: values 1, 2, 3, 6 → mean 3, biased var 3.5, unbiased 14/3
  const model = Model.compile(
    { inputShape: [1, 2], layers: [{ kind: 'batch_norm', momentum: 0.25 }], loss: { kind: 'mse' } },
    { batch: 2, kernels: (f) => createReferenceKernels(f, 'float64'), seed: 0 },
  );
  model.view(model.input).set([1, 2, 3, 6]);
  model.forward(true, 1);
  const state = model.kernels.data.subarray(model.layout.regions.state.start, model.layout.regions.state.end);
  assert.ok(Math.abs(state[0]! - 0.75 * 0 - 0.25 * 3) < 1e-12, `running mean ${state[0]}`);
  const varAt = 4; // running_var follows running_mean, 4-aligned
  assert.ok(Math.abs(state[varAt]! - (0.75 * 1 + (0.25 * 14) / 3)) < 1e-12, `running var ${state[varAt]}`);
  const trainOut = Array.from(model.view(model.output));
  const sd = Math.sqrt(3.5 + 1e-5);
  trainOut.forEach((y, i) => assert.ok(Math.abs(y - ([1, 2, 3, 6][i]! - 3) / sd) < 1e-12));
  model.forward(false);
  const mean = 0.75;
  const sdRun = Math.sqrt(0.75 + 14 / 12 + 1e-5);
  Array.from(model.view(model.output)).forEach((y, i) => assert.ok(Math.abs(y - ([1, 2, 3, 6][i]! - mean) / sdRun) < 1e-12, `eval output ${i}: ${y}`));
  assert.equal(state[0], 0.75, 'eval mode leaves the running statistics alone');
});
