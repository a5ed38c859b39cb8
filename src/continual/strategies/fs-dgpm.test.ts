import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.js';
import { tf, useBackend } from '../../train/tf.js';
import type { TaskStream } from '../../tasks/fashion-mnist/streams.js';
import { parseContinualConfig } from '../config.js';
import { initMlpWeights, MLP_HIDDEN } from '../mlp.js';
import { runContinual } from '../run.js';
import { momentumStep } from './fs-dgpm.js';

test('momentumStep follows PyTorch SGD momentum on hand numbers', async () => {
  await useBackend('cpu');
  // x 1, g 2, lr 0.1, μ 0.9: b = 2, x = 0.8; next g 1: b = 0.9·2 + 1 = 2.8, x = 0.8 − 0.28 = 0.52
  const first = momentumStep(tf.scalar(1), tf.scalar(2), null, 0.1, 0.9);
  const second = momentumStep(first.value, tf.scalar(1), first.buffer, 0.1, 0.9);
  assert.ok(Math.abs(second.value.dataSync()[0]! - 0.52) < 1e-6);
  assert.ok(Math.abs(second.buffer.dataSync()[0]! - 2.8) < 1e-6);
  // μ = 0 is plain SGD: the buffer is the current gradient
  const plain = momentumStep(tf.scalar(1), tf.scalar(1), tf.scalar(5), 0.1, 0);
  assert.ok(Math.abs(plain.value.dataSync()[0]! - 0.9) < 1e-6);
  tf.dispose([first.value, first.buffer, second.value, second.buffer, plain.value, plain.buffer]);
});

const DIM = 12;
const CLASSES = 3;

test('FS-DGPM glances × momentum on the first task equal heavy-ball gradient descent written independently', async () => {
  await useBackend('cpu');
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
  runContinual(stream, config, { onTask: (_t, _row, _s, view) => (trained = view.weights.map((w) => [...w.dataSync()])) });

  // reference: relu MLP without biases, mean softmax cross-entropy, written here with raw tf ops
  const sizes = [DIM, ...MLP_HIDDEN, CLASSES];
  const initial = initMlpWeights(sizes, 2);
  let weights = initial.map((w) => tf.clone(w));
  const start = initial.map((w) => [...w.dataSync()]);
  initial.forEach((w) => w.dispose());
  const xs = tf.tensor2d(x, [n, DIM]);
  const labels = tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES).toFloat();
  const loss = (ws: tf.Tensor[]): tf.Scalar => {
    let h: tf.Tensor = xs;
    ws.forEach((w, l) => {
      h = tf.matMul(h, w, false, true);
      if (l + 1 < ws.length) h = tf.relu(h);
    });
    const logProbabilities = tf.sub(h, tf.logSumExp(h, 1, true));
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbabilities), 1))) as tf.Scalar;
  };
  let velocity: tf.Tensor[] | null = null;
  for (let step = 0; step < glances; step++) {
    const gradients = tf.grads((...ws: tf.Tensor[]) => loss(ws))(weights);
    velocity = velocity === null ? gradients : velocity.map((v, l) => tf.add(tf.mul(v, momentum), gradients[l]!));
    weights = weights.map((w, l) => tf.sub(w, tf.mul(velocity![l]!, lr)));
  }
  const expected = weights.map((w) => [...w.dataSync()]);
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


test('FS-DGPM with glances and momentum releases every tensor it creates (bases, λ and momentum buffers)', async () => {
  await useBackend('cpu');
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
  const before = tf.memory().numTensors;
  const result = runContinual(stream, config);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(result.basisSizes.some((r) => r > 0), 'the second task ran with bases (the sharpness path)');
});
