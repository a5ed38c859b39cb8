/** openTrainer: `workers: 2` trains the same model as `workers: 1` (same losses within float32 tolerance). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { openTrainer } from './session.js';
import type { ModelSpec } from './model.js';

const SPEC: ModelSpec = {
  inputShape: [10],
  layers: [{ kind: 'linear', units: 8, activation: 'gelu' }, { kind: 'layer_norm' }, { kind: 'linear', units: 3 }],
  loss: { kind: 'mse' },
};

test('workers: 2 follows workers: 1 step for step (SGD Nesterov, batch 6), and both close cleanly', async () => {
  const rng = createRng('nn-session');
  // one batch, fitted 8 times: the loss must fall
  const batch = { x: Float32Array.from({ length: 60 }, () => rng.normal()), y: Float32Array.from({ length: 18 }, () => rng.normal()) };
  const data = Array.from({ length: 8 }, () => batch);
  const losses = async (workers: number): Promise<number[]> => {
    const session = await openTrainer(SPEC, { batch: 6, optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true }, lr: 0.05, seed: 8, workers });
    try {
      return data.map(({ x, y }) => session.step(x, y));
    } finally {
      await session.close();
    }
  };
  const one = await losses(1);
  const two = await losses(2);
  assert.ok(one[7]! < one[0]!, `the loss fell: ${one[0]} → ${one[7]}`);
  two.forEach((l, i) => assert.ok(Math.abs(l - one[i]!) < 1e-5 * Math.max(1, one[i]!), `step ${i}: ${l} vs ${one[i]}`));
});

test('workers other than 1 and 2, or non-wasm kernels with 2 workers, are refused', async () => {
  const base = { batch: 4, optimizer: { kind: 'sgd' }, lr: 0.1 } as const;
  await assert.rejects(openTrainer(SPEC, { ...base, workers: 3 }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID');
  await assert.rejects(openTrainer(SPEC, { ...base, workers: 2, kernels: 'reference' }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID');
});
