import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.js';
import type { TaskStream } from '../../tasks/fashion-mnist/streams.js';
import { parseContinualConfig } from '../config.js';
import { initMlpWeights, MLP_HIDDEN } from '../mlp.js';
import { runContinual } from '../run.js';
import { momentumStep } from './fs-dgpm.js';

test('momentumStep follows PyTorch SGD momentum on hand numbers', () => {
  // x 1, g 2, lr 0.1, μ 0.9: b = 2, x = 0.8; next g 1: b = 0.9·2 + 1 = 2.8, x = 0.8 − 0.28 = 0.52
  const first = momentumStep([1], [2], null, 0.1, 0.9);
  const second = momentumStep(first.value, [1], first.buffer, 0.1, 0.9);
  assert.ok(Math.abs(second.value[0]! - 0.52) < 1e-6);
  assert.ok(Math.abs(second.buffer[0]! - 2.8) < 1e-6);
  // μ = 0 is plain SGD: the buffer is the current gradient
  const plain = momentumStep([1], [1], [5], 0.1, 0);
  assert.ok(Math.abs(plain.value[0]! - 0.9) < 1e-6);
  assert.equal(plain.buffer[0], 1);
});

const DIM = 12;
const CLASSES = 3;

test('FS-DGPM glances × momentum on the first task equal heavy-ball gradient descent written independently', () => {
  // one task, one batch of 9 examples: the reservoir is empty during the batch's glances (it is filled after
  // them), so every glance is a momentum step on the same full-batch cross-entropy
  const rng = createRng('fs-glances');
  const n = 9;
  const x = Float32Array.from({ length: n * DIM }, () => rng.next());
  const y = Int32Array.from({ length: n }, (_, i) => i % CLASSES);
  const set = { x, y, n };
  const stream: TaskStream = { name: 'pfmnist', inputDim: DIM, numClasses: CLASSES, sharedHead: true, tasks: [{ id: 0, name: 't0', train: set, test: set, classes: null }] };
  const [lr, momentum, glances] = [0.05, 0.9, 5];
  const config = parseContinualConfig({ method: 'fs-dgpm', benchmark: 'pfmnist', seed: 2, lr, momentum, glances, batchSize: n, epochs: 1, memoriesPerTask: 20, memoryBatch: 9 });
  let trained: number[][] = [];
  runContinual(stream, config, { onTask: (_t, _row, _s, view) => (trained = view.weights.map((w) => [...w])) });

  // reference: relu MLP without biases, mean softmax cross-entropy, forward and backward written out in float64
  const sizes = [DIM, ...MLP_HIDDEN, CLASSES];
  let weights = initMlpWeights(sizes, 2).map((w) => Float64Array.from(w));
  const start = weights.map((w) => [...w]);
  const gradientsAt = (ws: Float64Array[]): Float64Array[] => {
    // activations h_0 = x, h_{l+1} = relu(h_l·W_lᵀ) (no relu on the logits)
    const hs: Float64Array[] = [Float64Array.from(x)];
    ws.forEach((w, l) => {
      const [inF, outF] = [sizes[l]!, sizes[l + 1]!];
      const h = new Float64Array(n * outF);
      for (let r = 0; r < n; r++)
        for (let o = 0; o < outF; o++) {
          let z = 0;
          for (let i = 0; i < inF; i++) z += hs[l]![r * inF + i]! * w[o * inF + i]!;
          h[r * outF + o] = l + 1 < ws.length ? Math.max(0, z) : z;
        }
      hs.push(h);
    });
    // dLogits = (softmax − onehot) / n
    let d = new Float64Array(n * CLASSES);
    const logits = hs[ws.length]!;
    for (let r = 0; r < n; r++) {
      const row = logits.subarray(r * CLASSES, (r + 1) * CLASSES);
      const max = Math.max(...row);
      const sum = row.reduce((a, v) => a + Math.exp(v - max), 0);
      for (let c = 0; c < CLASSES; c++) d[r * CLASSES + c] = (Math.exp(row[c]! - max) / sum - (c === y[r] ? 1 : 0)) / n;
    }
    const grads = ws.map((w) => new Float64Array(w.length));
    for (let l = ws.length - 1; l >= 0; l--) {
      const [inF, outF] = [sizes[l]!, sizes[l + 1]!];
      for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) for (let r = 0; r < n; r++) grads[l]![o * inF + i] = grads[l]![o * inF + i]! + d[r * outF + o]! * hs[l]![r * inF + i]!;
      const dIn = new Float64Array(n * inF);
      for (let r = 0; r < n; r++)
        for (let i = 0; i < inF; i++) {
          if (hs[l]![r * inF + i]! <= 0 && l > 0) continue; // relu′ of the previous layer
          let s = 0;
          for (let o = 0; o < outF; o++) s += d[r * outF + o]! * ws[l]![o * inF + i]!;
          dIn[r * inF + i] = s;
        }
      d = dIn;
    }
    return grads;
  };
  let velocity: Float64Array[] | null = null;
  for (let step = 0; step < glances; step++) {
    const gradients = gradientsAt(weights);
    velocity = velocity === null ? gradients : velocity.map((v, l) => v.map((value, i) => momentum * value + gradients[l]![i]!));
    weights = weights.map((w, l) => w.map((value, i) => value - lr * velocity![l]![i]!));
  }
  const expected = weights.map((w) => [...w]);
  let largest = 0;
  let moved = 0;
  expected.forEach((layer, l) =>
    layer.forEach((v, i) => {
      largest = Math.max(largest, Math.abs(v - trained[l]![i]!));
      moved = Math.max(moved, Math.abs(v - start[l]![i]!));
    }),
  );
  assert.ok(moved > 1e-3, `the reference moved the weights (${moved})`);
  assert.ok(largest < 2e-5, `largest difference to the reference ${largest}`);
});


test('FS-DGPM with glances and momentum: λ stays in (0, 1) on the sharpness path; a run is deterministic', () => {
  const rng = createRng('fs-leak');
  const n = 40;
  const set = { x: Float32Array.from({ length: n * DIM }, () => rng.next()), y: Int32Array.from({ length: n }, (_, i) => i % CLASSES), n };
  const stream: TaskStream = {
    name: 'pfmnist',
    inputDim: DIM,
    numClasses: CLASSES,
    sharedHead: true,
    tasks: [0, 1].map((id) => ({ id, name: `t${id}`, train: set, test: set, classes: null })),
  };
  const config = parseContinualConfig({ method: 'fs-dgpm', benchmark: 'pfmnist', seed: 1, lr: 0.01, momentum: 0.9, glances: 3, batchSize: 10, memoriesPerTask: 20, memoryBatch: 20 });
  const lambdas: number[][] = [];
  const result = runContinual(stream, config, { onStep: (strategy, taskId) => taskId === 1 && lambdas.push(strategy.importances().flat()) });
  assert.ok(result.basisSizes.some((r) => r > 0), 'the second task ran with bases (the sharpness path)');
  assert.equal(lambdas.length, 4);
  for (const step of lambdas) for (const v of step) assert.ok(v > 0 && v < 1, `λ = ${v}`);
  assert.deepEqual(runContinual(stream, config).accuracy, result.accuracy);
});
