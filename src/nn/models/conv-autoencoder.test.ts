/**
 * The AD-NEv baseline conv autoencoder on the engine: output shape equals the input window, it learns to
 * reconstruct structured windows (MSE falls well below the data variance), the arena does not grow across
 * steps, and the parameter count equals the PyTorch module's (conv + BN + transposed conv weights and biases).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../model.js';
import { Trainer } from '../trainer.js';
import { BASELINE_AUTOENCODER, convAutoencoderSpec } from './conv-autoencoder.js';
import { createRng } from '../../core/rng.js';
import type { WasmKernels } from '../kernels/wasm/index.js';

test('baseline conv autoencoder: shapes, PyTorch parameter count, learning, fixed arena', () => {
  const batch = 32;
  const model = Model.compile(convAutoencoderSpec(BASELINE_AUTOENCODER), { batch, kernels: 'wasm', optimizer: { kind: 'adam' }, seed: 0 });
  assert.deepEqual(model.output.shape, [batch, 10, 25]);
  // conv 10→32 k3 (960 + 32) + BN 64; conv 32→64 k3 (6144 + 64) + BN 128; convT 64→32 k3 (6144 + 32) + BN 64; convT 32→10 k3 (960 + 10)
  assert.equal(model.runs.count, 992 + 64 + 6208 + 128 + 6176 + 64 + 970);
  const rng = createRng('ae-test');
  // smooth windows: a few sinusoids with random phase, so a bottleneck can represent them
  const windows = Array.from({ length: 8 }, () => {
    const x = new Float32Array(batch * 250);
    for (let b = 0; b < batch; b++) {
      const phase = rng.next() * 6.28;
      for (let w = 0; w < 10; w++) for (let f = 0; f < 25; f++) x[b * 250 + w * 25 + f] = Math.sin(phase + 0.3 * f + 0.5 * w);
    }
    return x;
  });
  const trainer = new Trainer(model, { lr: 3e-3 });
  const bytes = (model.kernels as WasmKernels).memory.buffer.byteLength;
  const losses: number[] = [];
  for (let epoch = 0; epoch < 25; epoch++) for (const x of windows) losses.push(trainer.step(x, x));
  // the data variance is 0.5 (mean of sin²): a trained autoencoder reconstructs far better than the mean
  assert.ok(losses[0]! > 0.3, `first loss ${losses[0]}`);
  const last = losses.slice(-8).reduce((a, b) => a + b) / 8;
  assert.ok(last < 0.05, `loss after 200 steps ${last}`);
  assert.equal((model.kernels as WasmKernels).memory.buffer.byteLength, bytes);
});
