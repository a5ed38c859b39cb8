/**
 * trainAutoencoder runs on the engine's one loop (nn/fit). Reference: the hand-written epoch loop it replaced
 * (one 'train-order' stream shuffling a persistent index array, full batches only, a step cap) — weights, final
 * loss and step count must match it bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.js';
import { Trainer } from '../../nn/trainer.js';
import { trainAutoencoder } from './autoencoder-trainer.js';
import { BASELINE_GENOME, initialWeights, parameterSpecs, planAutoencoder, type AutoencoderPlan, type ConvAutoencoderGenome } from './conv-autoencoder.js';
import { compileNetwork, engineNetwork, exportWeights, optimizerOf } from './engine-network.js';
import type { WindowBatch } from '../../tasks/anomaly/series.js';

const GENOME: ConvAutoencoderGenome = {
  ...BASELINE_GENOME,
  window: 4,
  convLayers: [
    { channels: 6, kernel: 3, stride: 1 },
    { channels: 8, kernel: 2, stride: 2 },
  ],
  fcRatios: [0.5],
  skip: true,
  learningRate: 5e-3,
};

function referenceTraining(windows: WindowBatch, epochs: number, batchSize: number, seed: number | string, maxSteps?: number) {
  const plan = planAutoencoder(GENOME, windows.features) as AutoencoderPlan;
  const network = engineNetwork(plan, GENOME.loss);
  const batch = Math.min(batchSize, windows.count);
  const trainer = new Trainer(compileNetwork(network, batch, initialWeights(plan, seed), optimizerOf(GENOME)), { lr: GENOME.learningRate });
  const stride = windows.window * windows.features;
  const rows = new Float32Array(batch * stride);
  const rng = createRng('train-order', seed);
  const order = Array.from({ length: windows.count }, (_, i) => i);
  let finalLoss = NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start + batch <= order.length; start += batch) {
      if (maxSteps !== undefined && trainer.steps >= maxSteps) break;
      for (let b = 0; b < batch; b++) rows.set(windows.data.subarray(order[start + b]! * stride, (order[start + b]! + 1) * stride), b * stride);
      finalLoss = trainer.step(rows, rows);
    }
  }
  const weights = exportWeights(trainer.model, network);
  return { steps: trainer.steps, finalLoss, weights: Object.fromEntries(parameterSpecs(plan).map((s) => [s.name, Array.from(weights[s.name]!.data)])) };
}

test('trainAutoencoder equals the hand-written reference loop bit for bit (partial last batch, step cap, batch > data)', () => {
  const count = 29;
  const data = new Float32Array(count * 4 * 5);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(0.41 * i) * 0.7;
  const windows: WindowBatch = { data, count, window: 4, features: 5 };
  for (const [epochs, batchSize, seed, maxSteps] of [[3, 8, 7, undefined], [4, 6, 'run-b', 9], [2, 64, 1, undefined]] as const) {
    const trained = trainAutoencoder(GENOME, windows, { epochs, batchSize, seed, maxSteps });
    const got = { steps: trained.steps, finalLoss: trained.finalLoss, weights: Object.fromEntries(Object.entries(trained.weights).map(([k, w]) => [k, Array.from(w.data)])) };
    const want = referenceTraining(windows, epochs, batchSize, seed, maxSteps);
    assert.deepEqual(got, want, `epochs ${epochs} batch ${batchSize} seed ${seed} maxSteps ${maxSteps}`);
  }
});
