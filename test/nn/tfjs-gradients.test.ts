/**
 * Issue #22 acceptance: the engine's gradients equal the previous tfjs implementation's on the same weights
 * (float32 tolerance). Lives in test/ because the tfjs reference is test/support/tfjs and src/nn must not import src/continual (layering).
 * tfjs runs on its cpu backend (its reference backend, float32).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../../test/support/tfjs/tf.js';
import { dense, conv1d, convTranspose1d, batchNorm1dTrain } from '../../test/support/tfjs/ops.js';
import type { LayerSpec } from '../../src/nn/layers/registry.js';
import { mlpForward, maskedCrossEntropy, classMask, initTfMlpWeights as initMlpWeights } from '../support/tfjs-continual-mlp.js';
import { CONTINUAL_MLP } from '../../src/nn/models/continual-mlp.js';
import { Model } from '../../src/nn/model.js';
import { createRng } from '../../src/core/rng.js';

before(async () => {
  await useBackend('cpu');
});

function assertClose(ours: ArrayLike<number>, theirs: ArrayLike<number>, what: string, tol = 1e-5): void {
  assert.equal(ours.length, theirs.length, `${what} length`);
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) scale = Math.max(scale, Math.abs(theirs[i]!));
  for (let i = 0; i < ours.length; i++) {
    assert.ok(Math.abs(ours[i]! - theirs[i]!) <= tol * Math.max(scale, 1e-3), `${what}[${i}]: engine ${ours[i]} vs tfjs ${theirs[i]}`);
  }
}

test('linear (bias, odd sizes) under MSE: weight, bias and input gradients equal tfjs dense()', () => {
  const [batch, inF, outF] = [5, 13, 7];
  const model = Model.compile({ inputShape: [inF], layers: [{ kind: 'linear', units: outF }], loss: { kind: 'mse' } }, { batch, kernels: 'wasm', inputGrad: true, seed: 3 });
  const rng = createRng('tfjs-linear');
  const x = Float32Array.from({ length: batch * inF }, () => rng.next() * 2 - 1);
  const t = Float32Array.from({ length: batch * outF }, () => rng.next() * 2 - 1);
  model.view(model.input).set(x);
  model.view(model.target).set(t);
  model.forward(true, 1);
  const loss = model.loss();
  model.backward();

  const w = tf.tensor2d(Float32Array.from(model.param('0.linear.weight')), [outF, inF]);
  const b = tf.tensor1d(Float32Array.from(model.param('0.linear.bias')));
  const xt = tf.tensor2d(x, [batch, inF]);
  const target = tf.tensor2d(t, [batch, outF]);
  const [gx, gw, gb] = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.mean(tf.square(tf.sub(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), target))))([xt, w, b]);
  const tfLoss = tf.mean(tf.square(tf.sub(dense(xt, w, b), target))).dataSync()[0]!;
  assert.ok(Math.abs(loss - tfLoss) < 1e-6 * Math.max(1, tfLoss), `loss ${loss} vs ${tfLoss}`);
  assertClose(model.view(model.params[0]!.grad), gw!.dataSync(), 'dW');
  assertClose(model.view(model.params[1]!.grad), gb!.dataSync(), 'db');
  assertClose(model.view(model.inputGrad!), gx!.dataSync(), 'dX');
  tf.dispose([w, b, xt, target, gx!, gw!, gb!]);
});

test('continual MLP 784-100-100-10 (ReLU, no bias) under softmax CE: every weight gradient equals tfjs', () => {
  const batch = 10;
  const weights = initMlpWeights([784, 100, 100, 10], 7);
  const model = Model.compile(
    CONTINUAL_MLP,
    { batch, kernels: 'wasm', seed: 0 },
  );
  weights.forEach((w, l) => model.param(`${l}.linear.weight`).set(w.dataSync()));
  const rng = createRng('tfjs-mlp');
  const x = Float32Array.from({ length: batch * 784 }, () => rng.next());
  const labels = Float32Array.from({ length: batch }, () => rng.int(10));
  model.view(model.input).set(x);
  model.view(model.target).set(labels);
  model.forward(true, 1);
  const loss = model.loss();
  model.backward();

  const xt = tf.tensor2d(x, [batch, 784]);
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D;
  const mask = tf.tensor2d(classMask(null, 10, batch), [batch, 10]);
  const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(mlpForward(weights, xt).logits, oneHot, mask), weights);
  assert.ok(Math.abs(loss - value.dataSync()[0]!) < 1e-5, `loss ${loss} vs ${value.dataSync()[0]}`);
  weights.forEach((w, l) => assertClose(model.view(model.params[l]!.grad), grads[w.name]!.dataSync(), `layer ${l} dW`));
  tf.dispose([xt, oneHot, mask, value, ...Object.values(grads), ...weights]);
});

/**
 * One layer under MSE on both sides: the engine's output, loss and the gradients of input and every
 * parameter against tfjs's `reference(x, ...params)` differentiated by tf.grads.
 */
function compareLayer(
  spec: LayerSpec,
  inputShape: [number, number],
  batch: number,
  reference: (x: tf.Tensor3D, ...params: tf.Tensor[]) => tf.Tensor,
): void {
  const model = Model.compile({ inputShape, layers: [spec], loss: { kind: 'mse' } }, { batch, kernels: 'wasm', inputGrad: true, seed: 11 });
  const rng = createRng('tfjs-layer', spec.kind);
  const x = Float32Array.from({ length: model.input.size }, () => rng.next() * 2 - 1);
  const t = Float32Array.from({ length: model.target.size }, () => rng.next() * 2 - 1);
  for (const p of model.params) model.view(p).set(Array.from({ length: p.size }, () => rng.next() * 2 - 1));
  model.view(model.input).set(x);
  model.view(model.target).set(t);
  model.forward(true, 1);
  const loss = model.loss();
  model.backward();

  const xt = tf.tensor3d(x, [batch, ...inputShape]);
  const params = model.params.map((p) => tf.tensor(Float32Array.from(model.view(p)), [...p.shape]));
  const target = tf.tensor(t, [...model.output.shape]);
  const out = reference(xt, ...params);
  assertClose(model.view(model.output), out.dataSync(), `${spec.kind} output`);
  const lossFn = (...all: tf.Tensor[]): tf.Scalar => tf.mean(tf.square(tf.sub(reference(all[0] as tf.Tensor3D, ...all.slice(1)), target)));
  const tfLoss = lossFn(xt, ...params).dataSync()[0]!;
  assert.ok(Math.abs(loss - tfLoss) < 1e-5 * Math.max(1, tfLoss), `${spec.kind} loss ${loss} vs ${tfLoss}`);
  const grads = tf.grads(lossFn)([xt, ...params]);
  assertClose(model.view(model.inputGrad!), grads[0]!.dataSync(), `${spec.kind} dX`);
  model.params.forEach((p, i) => assertClose(model.view(p.grad), grads[i + 1]!.dataSync(), `${spec.kind} d${p.name}`));
  tf.dispose([xt, target, out, ...params, ...grads]);
}

test('conv1d (stride 2, padding 1, odd sizes, bias) equals the tfjs reference conv1d in output and gradients', () => {
  compareLayer({ kind: 'conv1d', channels: 5, kernel: 3, stride: 2, padding: 1 }, [3, 11], 4, (x, w, b) => conv1d(x, w as tf.Tensor3D, b as tf.Tensor1D, { stride: 2, padding: 1 }));
});

test('conv_transpose1d (stride 2, padding 1, output padding 1) equals the tfjs reference convTranspose1d', () => {
  compareLayer({ kind: 'conv_transpose1d', channels: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1 }, [5, 7], 3, (x, w, b) =>
    convTranspose1d(x, w as tf.Tensor3D, b as tf.Tensor1D, { stride: 2, padding: 1, outputPadding: 1 }),
  );
});

test('batch_norm in training mode equals the tfjs reference batchNorm1dTrain', () => {
  compareLayer({ kind: 'batch_norm' }, [4, 9], 5, (x, gamma, beta) => batchNorm1dTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D).output);
});
