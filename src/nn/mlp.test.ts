/**
 * The continual-learning MLP (784-100-100-10, ReLU, no biases) end to end on the engine: it learns a
 * separable synthetic 10-class task, its arena never grows, the JS heap does not grow across 1,000 steps,
 * and WASM and reference kernels give the same training trajectory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Model, type ModelSpec } from './model.js';
import { CONTINUAL_MLP } from './models/continual-mlp.js';
import { Trainer } from './trainer.js';
import { createRng } from '../core/rng.js';
import { createReferenceKernels } from './kernels/reference/index.js';
import type { WasmKernels } from './kernels/wasm/index.js';

const MLP: ModelSpec = CONTINUAL_MLP;

/** `count` batches of `batch` examples: a fixed random prototype per class plus noise */
function syntheticBatches(count: number, batch: number, seed: number): { x: Float32Array; y: Float32Array }[] {
  const proto = createRng('mlp-proto');
  const prototypes = Array.from({ length: 10 }, () => Float32Array.from({ length: 784 }, () => proto.next() * 2 - 1));
  const rng = createRng('mlp-data', seed);
  return Array.from({ length: count }, () => {
    const x = new Float32Array(batch * 784);
    const y = new Float32Array(batch);
    for (let r = 0; r < batch; r++) {
      const label = rng.int(10);
      y[r] = label;
      for (let i = 0; i < 784; i++) x[r * 784 + i] = prototypes[label]![i]! + 1.5 * (rng.next() * 2 - 1);
    }
    return { x, y };
  });
}

function accuracy(trainer: Trainer, batches: { x: Float32Array; y: Float32Array }[]): number {
  let correct = 0;
  let total = 0;
  for (const { x, y } of batches) {
    const logits = trainer.predict(x);
    for (let r = 0; r < y.length; r++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[r * 10 + c]! > logits[r * 10 + best]!) best = c;
      correct += best === y[r] ? 1 : 0;
      total++;
    }
  }
  return correct / total;
}

test('MLP 784-100-100-10 learns a separable task with SGD momentum, and held-out accuracy is high', () => {
  const model = Model.compile(MLP, { batch: 10, kernels: 'wasm', optimizer: { kind: 'sgd', momentum: 0.9 }, seed: 1 });
  const trainer = new Trainer(model, { lr: 0.01, clipNorm: 5 });
  const train = syntheticBatches(150, 10, 1);
  const losses = train.map(({ x, y }) => trainer.step(x, y));
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(first > 2, `initial loss ≈ ln 10, got ${first}`);
  assert.ok(last < 0.2 * first, `loss fell from ${first} to ${last}`);
  assert.ok(accuracy(trainer, syntheticBatches(20, 10, 2)) > 0.9);
});

test('the arena does not grow across steps and the JS heap does not grow across 1,000 steps', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const model = Model.compile(MLP, { batch: 10, kernels: 'wasm', optimizer: { kind: 'adam' }, seed: 2 });
  const trainer = new Trainer(model, { lr: 1e-3, clipNorm: 1, schedule: { kind: 'cosine', totalSteps: 1100 } });
  const memory = (model.kernels as WasmKernels).memory;
  const arenaBytes = memory.buffer.byteLength;
  const layoutFloats = model.layout.floats;
  const batches = syntheticBatches(20, 10, 3);
  for (let i = 0; i < 100; i++) trainer.step(batches[i % 20]!.x, batches[i % 20]!.y);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < 1000; i++) trainer.step(batches[i % 20]!.x, batches[i % 20]!.y);
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  assert.equal(memory.buffer.byteLength, arenaBytes, 'shared memory grew');
  assert.equal(model.layout.floats, layoutFloats);
  assert.equal(model.kernels.data.buffer.byteLength, arenaBytes, 'the arena view was replaced');
  assert.ok(heapGrowth < 256 * 1024, `heap grew by ${heapGrowth} bytes over 1,000 steps`);
  assert.equal(trainer.steps, 1100);
});

test('WASM and float32 reference kernels follow the same 20-step Adam trajectory', () => {
  const batches = syntheticBatches(20, 7, 4); // batch 7: odd GEMM edges everywhere
  const run = (kernels: 'wasm' | 'reference'): number[] => {
    const model = Model.compile(MLP, { batch: 7, kernels: kernels === 'wasm' ? 'wasm' : (f) => createReferenceKernels(f), optimizer: { kind: 'adamw' }, seed: 5 });
    const trainer = new Trainer(model, { lr: 1e-3, clipNorm: 2 });
    return batches.map(({ x, y }) => trainer.step(x, y));
  };
  const a = run('wasm');
  const b = run('reference');
  a.forEach((loss, i) => assert.ok(Math.abs(loss - b[i]!) < 1e-4 * Math.max(1, b[i]!), `step ${i}: ${loss} vs ${b[i]}`));
});

test('a batch of the wrong size is refused instead of spilling into the arena', () => {
  const model = Model.compile(MLP, { batch: 4, kernels: 'wasm', optimizer: { kind: 'sgd' }, seed: 0 });
  const trainer = new Trainer(model, { lr: 0.1 });
  const before = Float32Array.from(model.kernels.data.subarray(model.target.offset, model.target.offset + 8));
  assert.throws(() => trainer.step(new Float32Array(5 * 784), new Float32Array(4)), (e: Error & { code?: string }) => e.code === 'SHAPE_MISMATCH');
  assert.throws(() => trainer.predict(new Float32Array(3)), (e: Error & { code?: string }) => e.code === 'SHAPE_MISMATCH');
  assert.deepEqual(Float32Array.from(model.kernels.data.subarray(model.target.offset, model.target.offset + 8)), before);
  assert.equal(trainer.steps, 0);
});
