/**
 * "No allocation in the step loop" (issue #22) for every layer kind, not only the MLP of mlp.test.ts: two tiny
 * models that between them use every registered layer (conv1d with stride and dilation, batch norm, dropout,
 * residual, transposed conv, layer norm, reshape, linear with GELU and DropConnect, activation, branch_product,
 * graph_wavenet with supports, the adaptive adjacency and dropout) and the MSE and masked-MAE losses, trained
 * 1,000 steps with AdamW, clipping and a cosine schedule. The WASM memory, the arena layout and the arena view
 * stay the same object and size; no ArrayBuffer is allocated during the 1,000 steps (not even one that becomes
 * garbage: the count is read before any collection); and the retained JS heap does not grow (a layer that kept a
 * record, array or closure per step would leave ≥ 1,000 of them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Model, type ModelSpec } from './model.js';
import { Trainer } from './trainer.js';
import { createRng } from '../core/rng.js';
import type { WasmKernels } from './kernels/wasm/index.js';

const CONV_STACK: ModelSpec = {
  inputShape: [2, 12],
  layers: [
    { kind: 'conv1d', channels: 4, kernel: 3, stride: 2, padding: 1, activation: 'relu' },
    { kind: 'batch_norm' },
    { kind: 'dropout', rate: 0.2 },
    { kind: 'residual', layers: [{ kind: 'conv1d', channels: 4, kernel: 3, padding: 2, dilation: 2, activation: 'tanh' }] },
    { kind: 'conv_transpose1d', channels: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1 },
    { kind: 'layer_norm' },
    { kind: 'reshape', shape: [24] },
    { kind: 'linear', units: 5, activation: 'gelu', dropConnect: 0.3 },
    { kind: 'activation', fn: 'sigmoid' },
    { kind: 'branch_product', split: 2, hidden: 3, units: 2 },
  ],
  loss: { kind: 'mse' },
};

const TINY_GWN: ModelSpec = {
  inputShape: [2, 4, 5],
  layers: [{ kind: 'graph_wavenet', residualChannels: 3, dilationChannels: 3, skipChannels: 4, endChannels: 4, horizons: 2, dilations: [1, 2], supports: 2, order: 2, adaptiveRank: 2, dropout: 0.3 }],
  loss: { kind: 'masked_mae', nullValue: 0 },
};

for (const [name, spec] of [['conv stack', CONV_STACK], ['Graph WaveNet', TINY_GWN]] as const) {
  test(`${name}: no arena growth, no ArrayBuffer allocated and no heap growth across 1,000 training steps`, async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const batch = 3;
    const model = Model.compile(spec, { batch, kernels: 'wasm', optimizer: { kind: 'adamw', weightDecay: 0.01 }, seed: 4 });
    // graph supports and running statistics: positive, as transition matrices and variances are
    const rng = createRng('step-allocation', name);
    for (const v of model.stateViews) model.view(v).set(Array.from({ length: v.size }, () => 0.1 + rng.next()));
    const batches = Array.from({ length: 8 }, () => ({
      x: Float32Array.from({ length: model.input.size }, () => 2 * rng.next() - 1),
      // a quarter of the targets are 0: missing for masked MAE, plain zeros for MSE
      y: Float32Array.from({ length: model.target.size }, () => (rng.next() < 0.25 ? 0 : 2 * rng.next() - 1)),
    }));
    const trainer = new Trainer(model, { lr: 1e-3, clipNorm: 1, schedule: { kind: 'cosine', totalSteps: 3000 } });
    const memory = (model.kernels as WasmKernels).memory;
    const [bytes, floats, data] = [memory.buffer.byteLength, model.layout.floats, model.kernels.data];
    // warm-up: V8 keeps tiering up the step code of a model with many layer kinds for a few thousand steps, and
    // its type feedback and code objects are heap memory (measured on the conv stack, per 1,000-step window after
    // 1,000 warm-up steps: +120 kB, +60 kB, then within ±3 kB for the next six windows: not a per-step allocation)
    for (let i = 0; i < 2000; i++) trainer.step(batches[i % 8]!.x, batches[i % 8]!.y);
    // array buffer memory is released by a sweeper that may finish after gc() returns: let it, then collect again
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    const { heapUsed: heapBefore, arrayBuffers: buffersBefore } = process.memoryUsage();
    let lastLoss = 0;
    for (let i = 0; i < 1000; i++) lastLoss = trainer.step(batches[i % 8]!.x, batches[i % 8]!.y);
    // read before collecting: a typed array with a buffer of its own made in any step would show here even if
    // it were garbage already (views into the arena make no buffer); a late release can only lower the count
    const buffersDelta = process.memoryUsage().arrayBuffers - buffersBefore;
    assert.ok(buffersDelta <= 0, `${buffersDelta} bytes of array buffers were allocated during the steps`);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(Number.isFinite(lastLoss), `the loss stayed finite (${lastLoss})`);
    assert.equal(memory.buffer.byteLength, bytes, 'the WASM memory grew');
    assert.equal(model.layout.floats, floats);
    assert.equal(model.kernels.data, data, 'the arena view was replaced');
    assert.ok(heapGrowth < 256 * 1024, `heap grew by ${heapGrowth} bytes over 1,000 steps`);
    assert.equal(trainer.steps, 3000);
  });
}
