/**
 * Issue #22 acceptance: the engine's gradients equal the previous tfjs implementation's on the same weights
 * (float32 tolerance), layer by layer: linear (every fused activation, with/without bias, DropConnect), activation, dropout,
 * conv1d and conv_transpose1d (stride, padding, dilation), batch_norm (training and inference), layer_norm,
 * residual, reshape, branch_product; losses MSE, MAE, masked MAE and (through the continual MLP) softmax
 * cross-entropy. The Graph WaveNet layers (gated temporal conv, graph diffusion conv, adaptive adjacency,
 * graph_wavenet) are compared in src/spatiotemporal/gwn-engine.test.ts.
 * Lives in test/ because the tfjs reference is test/support/tfjs and src/nn must not import src/continual (layering).
 * tfjs runs on its cpu backend (its reference backend, float32).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../../test/support/tfjs/tf.js';
import { dense, conv1d, convTranspose1d, batchNorm1dTrain, batchNorm1dEval } from '../../test/support/tfjs/ops.js';
import type { LayerSpec } from '../../src/nn/layers/registry.js';
import type { LossSpec } from '../../src/nn/losses/registry.js';
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

/** The loss on both sides: the engine's spec and the same mean written with tfjs ops. */
const LOSS_PAIRS = {
  mse: { spec: { kind: 'mse' }, tf: (p: tf.Tensor, t: tf.Tensor): tf.Scalar => tf.mean(tf.square(tf.sub(p, t))) },
  mae: { spec: { kind: 'mae' }, tf: (p: tf.Tensor, t: tf.Tensor): tf.Scalar => tf.mean(tf.abs(tf.sub(p, t))) },
  // targets equal to the null value 0 are missing: mean of |p − t| over the others
  masked_mae: {
    spec: { kind: 'masked_mae', nullValue: 0 },
    tf: (p: tf.Tensor, t: tf.Tensor): tf.Scalar => {
      const mask = tf.cast(tf.notEqual(t, 0), 'float32');
      return tf.div(tf.sum(tf.mul(tf.abs(tf.sub(p, t)), mask)), tf.sum(mask));
    },
  },
} as const satisfies Record<string, { spec: LossSpec; tf: (p: tf.Tensor, t: tf.Tensor) => tf.Scalar }>;

interface CompareOptions {
  readonly loss?: keyof typeof LOSS_PAIRS;
  /** false: inference mode (running statistics, no dropout) on both sides */
  readonly training?: boolean;
  /** turns a target value into a missing one (masked MAE) with this probability */
  readonly missing?: number;
  /** runs on the compiled engine model before the forward pass (e.g. to set running statistics) */
  readonly prepare?: (model: Model) => void;
}

/**
 * One layer under a loss on both sides: the engine's output, loss and the gradients of input and every
 * parameter (in the engine's parameter order) against tfjs's `reference(x, ...params)` differentiated by
 * tf.grads. Returns the parameter names, so a caller can check the order its reference assumed.
 */
function compareLayer(
  spec: LayerSpec,
  inputShape: readonly number[],
  batch: number,
  reference: (x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor,
  options: CompareOptions = {},
): string[] {
  const pair = LOSS_PAIRS[options.loss ?? 'mse'];
  const training = options.training ?? true;
  const model = Model.compile({ inputShape, layers: [spec], loss: pair.spec }, { batch, kernels: 'wasm', inputGrad: true, seed: 11 });
  const rng = createRng('tfjs-layer', spec.kind, JSON.stringify(inputShape));
  const x = Float32Array.from({ length: model.input.size }, () => rng.next() * 2 - 1);
  const t = Float32Array.from({ length: model.target.size }, () => (rng.next() < (options.missing ?? 0) ? 0 : rng.next() * 2 - 1));
  for (const p of model.params) model.view(p).set(Array.from({ length: p.size }, () => rng.next() * 2 - 1));
  model.view(model.input).set(x);
  model.view(model.target).set(t);
  options.prepare?.(model);
  model.forward(training, 1);
  const loss = model.loss();
  model.backward();

  const what = `${spec.kind}${'fn' in spec ? ` ${spec.fn}` : ''}`;
  const xt = tf.tensor(x, [batch, ...inputShape]);
  const params = model.params.map((p) => tf.tensor(Float32Array.from(model.view(p)), [...p.shape]));
  const target = tf.tensor(t, [...model.output.shape]);
  const out = reference(xt, ...params);
  assertClose(model.view(model.output), out.dataSync(), `${what} output`);
  const lossFn = (...all: tf.Tensor[]): tf.Scalar => pair.tf(reference(all[0]!, ...all.slice(1)), target);
  const tfLoss = lossFn(xt, ...params).dataSync()[0]!;
  assert.ok(Math.abs(loss - tfLoss) < 1e-5 * Math.max(1, tfLoss), `${what} loss ${loss} vs ${tfLoss}`);
  const grads = tf.grads(lossFn)([xt, ...params]);
  assertClose(model.view(model.inputGrad!), grads[0]!.dataSync(), `${what} dX`);
  model.params.forEach((p, i) => assertClose(model.view(p.grad), grads[i + 1]!.dataSync(), `${what} d${p.name}`));
  tf.dispose([xt, target, out, ...params, ...grads]);
  return model.params.map((p) => p.name);
}

test('conv1d (stride 2, padding 1, odd sizes, bias) equals the tfjs reference conv1d in output and gradients', () => {
  compareLayer({ kind: 'conv1d', channels: 5, kernel: 3, stride: 2, padding: 1 }, [3, 11], 4, (x, w, b) => conv1d(x as tf.Tensor3D, w as tf.Tensor3D, b as tf.Tensor1D, { stride: 2, padding: 1 }));
});

test('conv_transpose1d (stride 2, padding 1, output padding 1) equals the tfjs reference convTranspose1d', () => {
  compareLayer({ kind: 'conv_transpose1d', channels: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1 }, [5, 7], 3, (x, w, b) =>
    convTranspose1d(x as tf.Tensor3D, w as tf.Tensor3D, b as tf.Tensor1D, { stride: 2, padding: 1, outputPadding: 1 }),
  );
});

/**
 * A dilation-d kernel as the dense kernel with d − 1 zeros between taps ([.., K] → [.., d(K − 1) + 1]), built
 * from differentiable ops so the gradient reaches the K real taps. tfjs's own conv gradients refuse dilation > 1.
 */
function dilateKernel(w: tf.Tensor3D, dilation: number): tf.Tensor3D {
  if (dilation === 1) return w;
  const [a, b, k] = w.shape;
  const zeros = tf.zeros([a, b, k, dilation - 1]);
  const interleaved = tf.reshape(tf.concat([tf.expandDims(w, 3), zeros], 3), [a, b, k * dilation]);
  return tf.slice(interleaved, [0, 0, 0], [a, b, dilation * (k - 1) + 1]) as tf.Tensor3D;
}

test('conv1d with dilation (2 and 3, with stride 2, no bias, batch 1) equals tfjs conv1d on the zero-dilated kernel', () => {
  compareLayer({ kind: 'conv1d', channels: 4, kernel: 3, stride: 1, padding: 2, dilation: 2 }, [3, 10], 2, (x, w, b) =>
    conv1d(x as tf.Tensor3D, dilateKernel(w as tf.Tensor3D, 2), b as tf.Tensor1D, { stride: 1, padding: 2 }),
  );
  compareLayer({ kind: 'conv1d', channels: 2, kernel: 2, stride: 2, padding: 1, dilation: 3, bias: false }, [5, 13], 1, (x, w) =>
    conv1d(x as tf.Tensor3D, dilateKernel(w as tf.Tensor3D, 3), undefined, { stride: 2, padding: 1 }),
  );
});

test('conv_transpose1d with dilation 2 (stride 3, padding 2, output padding 2) equals tfjs convTranspose1d on the zero-dilated kernel', () => {
  compareLayer({ kind: 'conv_transpose1d', channels: 2, kernel: 3, stride: 3, padding: 2, dilation: 2, outputPadding: 2 }, [3, 5], 2, (x, w, b) =>
    convTranspose1d(x as tf.Tensor3D, dilateKernel(w as tf.Tensor3D, 2), b as tf.Tensor1D, { stride: 3, padding: 2, outputPadding: 2 }),
  );
});

test('batch_norm in training mode equals the tfjs reference batchNorm1dTrain', () => {
  compareLayer({ kind: 'batch_norm' }, [4, 9], 5, (x, gamma, beta) => batchNorm1dTrain(x as tf.Tensor3D, gamma as tf.Tensor1D, beta as tf.Tensor1D).output);
});

test('batch_norm in inference mode (running statistics) equals the tfjs reference batchNorm1dEval, gradients included', () => {
  const [mean, variance] = [[0.3, -0.2, 0.1], [0.5, 2, 1.5]];
  compareLayer(
    { kind: 'batch_norm' },
    [3, 7],
    4,
    (x, gamma, beta) => batchNorm1dEval(x as tf.Tensor3D, tf.tensor1d(mean), tf.tensor1d(variance), gamma as tf.Tensor1D, beta as tf.Tensor1D),
    {
      training: false,
      prepare: (model) => {
        const state = (suffix: string) => model.view(model.stateViews.find((v) => v.name.endsWith(suffix))!);
        state('running_mean').set(mean);
        state('running_var').set(variance);
      },
    },
  );
});

/** GELU in its tanh form (Hendrycks & Gimpel 2016), as the engine computes it. */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

const TF_ACTIVATIONS = { identity: (x: tf.Tensor) => x, relu: tf.relu, sigmoid: tf.sigmoid, tanh: tf.tanh, gelu } as const;

test('activation layers (ReLU, sigmoid, tanh, GELU) equal tf.relu / tf.sigmoid / tf.tanh / the tanh-form GELU', () => {
  for (const fn of ['relu', 'sigmoid', 'tanh', 'gelu'] as const) {
    compareLayer({ kind: 'activation', fn }, [2, 5], 3, (x) => TF_ACTIVATIONS[fn](x));
  }
});

test('linear with a fused activation, with and without bias, equals tfjs dense + activation (batch 1 and 6)', () => {
  for (const [fn, bias, batch] of [['relu', true, 6], ['gelu', true, 1], ['sigmoid', false, 6], ['tanh', false, 1]] as const) {
    compareLayer({ kind: 'linear', units: 5, activation: fn, bias }, [9], batch, (x, w, b) =>
      TF_ACTIVATIONS[fn](bias ? dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D) : tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true)),
    );
  }
});

test('layer_norm over the last axis equals (x − mean)/√(var + ε)·γ + β written with tf.moments', () => {
  compareLayer({ kind: 'layer_norm' }, [3, 7], 2, (x, gamma, beta) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
  });
});

test('dropout in training: the engine mask (read off its output) applied in tfjs gives the same output and input gradient', () => {
  let mask: Float32Array | undefined;
  const [batch, features, rate] = [4, 11, 0.4];
  compareLayer({ kind: 'dropout', rate }, [features], batch, (x) => {
    if (!mask) {
      // the engine's output is x ⊙ M with M ∈ {0, 1/keep}: every kept entry is scaled by exactly 1/keep
      const model = Model.compile({ inputShape: [features], layers: [{ kind: 'dropout', rate }], loss: { kind: 'mse' } }, { batch, kernels: 'wasm', seed: 11 });
      const xs = x.dataSync();
      model.view(model.input).set(xs);
      model.forward(true, 1);
      const out = model.view(model.output);
      mask = Float32Array.from(out, (y, i) => (y === 0 ? 0 : 1 / (1 - rate)));
      out.forEach((y, i) => assert.ok(y === 0 || Math.abs(y - xs[i]! / (1 - rate)) < 1e-6, `kept entry ${i} scaled by 1/keep`));
      const dropped = mask.filter((m) => m === 0).length;
      assert.ok(dropped > 0 && dropped < mask.length, `a real mask (${dropped} of ${mask.length} dropped)`);
    }
    return tf.mul(x, tf.tensor(mask, x.shape));
  });
});

/**
 * DropConnect's weight mask M ∈ {0, 1/keep} of step 1, read off a probe model with the same seed and layer name
 * (the mask depends on nothing else): fed the identity matrix as its batch, a bias-free identity-activation
 * linear layer outputs row i = (W ⊙ M)[:, i], so M = output / W entry by entry.
 */
function dropConnectMask(inF: number, units: number, rate: number): Float32Array {
  const probe = Model.compile({ inputShape: [inF], layers: [{ kind: 'linear', units, bias: false, dropConnect: rate }], loss: { kind: 'mse' } }, { batch: inF, kernels: 'wasm', seed: 11 });
  probe.view(probe.input).set(Float32Array.from({ length: inF * inF }, (_, i) => (i % (inF + 1) === 0 ? 1 : 0)));
  probe.forward(true, 1);
  const w = probe.param('0.linear.weight');
  const out = probe.view(probe.output);
  return Float32Array.from({ length: units * inF }, (_, at) => {
    const [o, i] = [Math.floor(at / inF), at % inF];
    const ratio = out[i * units + o]! / w[at]!;
    assert.ok(ratio === 0 || Math.abs(ratio - 1 / (1 - rate)) < 1e-5, `mask entry ${at} is 0 or 1/keep, got ${ratio}`);
    return ratio === 0 ? 0 : 1 / (1 - rate);
  });
}

test('linear with DropConnect in training: tfjs dense on W ⊙ M (the engine mask) gives the same output and gradients, dW masked', () => {
  const [inF, units, rate] = [6, 4, 0.5];
  const mask = dropConnectMask(inF, units, rate);
  const dropped = mask.filter((m) => m === 0).length;
  assert.ok(dropped > 0 && dropped < mask.length, `a real mask (${dropped} of ${mask.length} dropped)`);
  compareLayer({ kind: 'linear', units, dropConnect: rate, activation: 'tanh' }, [inF], 3, (x, w, b) =>
    tf.tanh(dense(x as tf.Tensor2D, tf.mul(w, tf.tensor2d(mask, [units, inF])) as tf.Tensor2D, b as tf.Tensor1D)),
  );
});

test('residual (linear → tanh → linear) equals x + dense(tanh(dense(x))) in tfjs, and reshape equals tf.reshape', () => {
  const names = compareLayer({ kind: 'residual', layers: [{ kind: 'linear', units: 6, activation: 'tanh' }, { kind: 'linear', units: 6 }] }, [6], 3, (x, w1, b1, w2, b2) =>
    tf.add(x, dense(tf.tanh(dense(x as tf.Tensor2D, w1 as tf.Tensor2D, b1 as tf.Tensor1D)) as tf.Tensor2D, w2 as tf.Tensor2D, b2 as tf.Tensor1D)),
  );
  assert.deepEqual(names.map((n) => n.replace(/^.*\.(\d+)\.linear\./, '$1.')), ['0.weight', '0.bias', '1.weight', '1.bias']);
  compareLayer({ kind: 'reshape', shape: [5, 3] }, [3, 5], 2, (x) => tf.reshape(x, [2, 5, 3]));
});

test('branch_product (product with identity outputs, sum with tanh outputs) equals two tfjs MLP branches combined', () => {
  const [first, second, hidden, units] = [3, 4, 5, 2];
  for (const [combine, outActivation] of [['product', 'identity'], ['sum', 'tanh']] as const) {
    const names = compareLayer({ kind: 'branch_product', split: first, hidden, units, combine, outActivation }, [first + second], 3, (x, ...p) => {
      const branch = (from: number, size: number, [w1, b1, w2, b2]: tf.Tensor[]): tf.Tensor => {
        const h = tf.relu(dense(tf.slice(x, [0, from], [-1, size]) as tf.Tensor2D, w1 as tf.Tensor2D, b1 as tf.Tensor1D));
        return TF_ACTIVATIONS[outActivation](dense(h as tf.Tensor2D, w2 as tf.Tensor2D, b2 as tf.Tensor1D));
      };
      const [a, b] = [branch(0, first, p.slice(0, 4)), branch(first, second, p.slice(4, 8))];
      return combine === 'product' ? tf.mul(a, b) : tf.add(a, b);
    });
    assert.deepEqual(names.map((n) => n.replace(/^0\.branch_product\./, '')), ['first.hidden.weight', 'first.hidden.bias', 'first.out.weight', 'first.out.bias', 'second.hidden.weight', 'second.hidden.bias', 'second.out.weight', 'second.out.bias']);
  }
});

test('MAE and masked MAE (a third of the targets missing) through a linear layer equal their tfjs means', () => {
  compareLayer({ kind: 'linear', units: 4 }, [7], 5, (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), { loss: 'mae' });
  compareLayer({ kind: 'linear', units: 4 }, [7], 5, (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), { loss: 'masked_mae', missing: 1 / 3 });
});
