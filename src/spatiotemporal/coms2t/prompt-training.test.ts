import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import type { GwnWeights } from '../gwn-config.js';
import { prepareTraffic } from '../gwn-data.js';
import { promptFeatures, promptTargets, type PromptFeatureContext } from './features.js';
import { initialPromptWeights, isEncoderTensor } from './prompt-encoder.js';
import { promptObjective, trainPromptEncoder } from './prompt-training.js';

function context(): PromptFeatureContext {
  const steps = 120;
  const nodes = 3;
  const values = new Float64Array(steps * nodes);
  for (let t = 0; t < steps; t++) for (let n = 0; n < nodes; n++) values[t * nodes + n] = 50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8) + 3 * Math.cos(t / 5);
  // a missing stretch: node 1 reads 0 (no data) late in the series, so some target rows are masked
  for (let t = 90; t < steps; t++) values[t * nodes + 1] = 0;
  const network: TrafficNetwork = { sensorIds: ['a', 'b', 'c'], steps, values, adjacency: Float64Array.from([1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5, 1]), source: 'synthetic' };
  const prepared = prepareTraffic(network, 24);
  return { network: prepared.network, scaler: prepared.scaler, stepsPerDay: 24, coordinates: Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) };
}

/** the objective in float64 from the [in, out] weights, independent of the engine */
function referenceObjective(weights: GwnWeights, ctx: PromptFeatureContext, samples: readonly number[]): { value: number; masked: number } {
  const dense = (x: ArrayLike<number>, name: string, relu: boolean): number[] => {
    const w = weights[`prompt.encoder.${name}.weight`]!;
    const [fanIn, width] = w.shape as [number, number];
    return Array.from({ length: width }, (_, j) => {
      let s = weights[`prompt.encoder.${name}.bias`]!.data[j]!;
      for (let i = 0; i < fanIn; i++) s += x[i]! * w.data[i * width + j]!;
      return relu ? Math.max(s, 0) : s;
    });
  };
  const features = promptFeatures(ctx, samples);
  const { target, mask } = promptTargets(ctx, samples);
  let sum = 0;
  let count = 0;
  for (let row = 0; row < mask.length; row++) {
    if (!(mask[row]! > 0)) continue;
    const t = dense(dense(features.temporal.slice(row * 13, row * 13 + 13), 'temporal.hidden', true), 'temporal.out', false);
    const s = dense(dense(features.spatial.slice(row * 2, row * 2 + 2), 'spatial.hidden', true), 'spatial.out', false);
    for (let k = 0; k < 2; k++) sum += Math.abs(t[k]! * s[k]! - target[row * 2 + k]!);
    count += 2;
  }
  return { value: sum / count, masked: mask.length - count / 2 };
}

const samples = Array.from({ length: 90 }, (_, i) => i);

test('the engine prompt objective equals a float64 reference, masked rows left out, chunk size irrelevant', async () => {
  const ctx = context();
  const weights = initialPromptWeights(3, 6);
  const reference = referenceObjective(weights, ctx, samples);
  assert.ok(reference.masked > 0, 'the fixture must mask some rows');
  for (const chunk of [64, 7]) {
    const ours = await promptObjective(weights, ctx, samples, chunk);
    assert.ok(Math.abs(ours - reference.value) < 1e-5 * Math.max(1, reference.value), `chunk ${chunk}: ${ours} vs ${reference.value}`);
  }
});

test('prompt training lowers the objective, changes only encoder tensors and is deterministic per seed', async () => {
  const ctx = context();
  const weights: GwnWeights = { ...initialPromptWeights(5, 8), 'backbone.w': { shape: [2], data: Float32Array.from([1, 2]) } };
  const options = { epochs: 6, batchSize: 16, learningRate: 0.01, seed: 'p' };
  const trained = await trainPromptEncoder(weights, ctx, samples, options);
  assert.equal(trained.losses.length, 6);
  assert.ok(trained.losses[5]! < trained.losses[0]!, `losses ${trained.losses.join(', ')}`);
  const before = referenceObjective(weights, ctx, samples).value;
  const after = referenceObjective(trained.weights, ctx, samples).value;
  assert.ok(after < 0.9 * before, `objective ${before} → ${after}`);
  for (const [name, w] of Object.entries(weights)) {
    const changed = trained.weights[name]!.data.some((v, i) => v !== w.data[i]);
    assert.equal(changed, isEncoderTensor(name), name);
    assert.deepEqual(trained.weights[name]!.shape, w.shape);
  }
  const again = await trainPromptEncoder(weights, ctx, samples, options);
  assert.deepEqual(again.losses, trained.losses);
  for (const name of Object.keys(weights)) assert.deepEqual(again.weights[name]!.data, trained.weights[name]!.data);
});

test('the first epoch loss is the objective of the first batch under the initial weights', async () => {
  // one step on one batch of all samples: the reported loss is the pre-update masked MAE of that batch
  const ctx = context();
  const weights = initialPromptWeights(7, 4);
  const trained = await trainPromptEncoder(weights, ctx, samples, { epochs: 1, batchSize: samples.length, learningRate: 1e-3, seed: 1 });
  const reference = referenceObjective(weights, ctx, samples).value;
  assert.ok(Math.abs(trained.losses[0]! - reference) < 1e-4 * Math.max(1, reference), `${trained.losses[0]} vs ${reference}`);
});

/** the objective's gradient in float64 by hand (backpropagation through out = t ⊙ s and the two ReLU MLPs) */
function referenceGradient(weights: GwnWeights, ctx: PromptFeatureContext, samples: readonly number[]): GwnWeights {
  const grad: GwnWeights = Object.fromEntries(Object.entries(weights).map(([name, w]) => [name, { shape: w.shape, data: new Float32Array(w.data.length) }]));
  const acc: Record<string, Float64Array> = Object.fromEntries(Object.entries(weights).map(([name, w]) => [name, new Float64Array(w.data.length)]));
  const layer = (name: string) => ({ w: weights[`prompt.encoder.${name}.weight`]!, b: weights[`prompt.encoder.${name}.bias`]!.data, gw: acc[`prompt.encoder.${name}.weight`]!, gb: acc[`prompt.encoder.${name}.bias`]! });
  const forward = (x: ArrayLike<number>, name: string, relu: boolean): number[] => {
    const { w, b } = layer(name);
    const [fanIn, width] = w.shape as [number, number];
    return Array.from({ length: width }, (_, j) => {
      let s = b[j]!;
      for (let i = 0; i < fanIn; i++) s += x[i]! * w.data[i * width + j]!;
      return relu ? Math.max(s, 0) : s;
    });
  };
  // accumulates dL/dW, dL/db of one dense layer and returns dL/dx (x its input, y its output, dy dL/dy)
  const backward = (x: ArrayLike<number>, y: readonly number[], dy: readonly number[], name: string, relu: boolean): number[] => {
    const { w, gw, gb } = layer(name);
    const [fanIn, width] = w.shape as [number, number];
    const dz = dy.map((d, j) => (relu && !(y[j]! > 0) ? 0 : d));
    const dx = new Array<number>(fanIn).fill(0);
    for (let j = 0; j < width; j++) {
      gb[j] = gb[j]! + dz[j]!;
      for (let i = 0; i < fanIn; i++) {
        gw[i * width + j] = gw[i * width + j]! + x[i]! * dz[j]!;
        dx[i] = dx[i]! + w.data[i * width + j]! * dz[j]!;
      }
    }
    return dx;
  };
  const features = promptFeatures(ctx, samples);
  const { target, mask } = promptTargets(ctx, samples);
  const count = 2 * mask.reduce((n, m) => n + (m > 0 ? 1 : 0), 0);
  for (let row = 0; row < mask.length; row++) {
    if (!(mask[row]! > 0)) continue;
    const xt = features.temporal.slice(row * 13, row * 13 + 13);
    const xs = features.spatial.slice(row * 2, row * 2 + 2);
    const ht = forward(xt, 'temporal.hidden', true);
    const hs = forward(xs, 'spatial.hidden', true);
    const t = forward(ht, 'temporal.out', false);
    const s = forward(hs, 'spatial.out', false);
    const sign = [0, 1].map((k) => Math.sign(t[k]! * s[k]! - target[row * 2 + k]!) / count);
    const dht = backward(ht, t, sign.map((g, k) => g * s[k]!), 'temporal.out', false);
    const dhs = backward(hs, s, sign.map((g, k) => g * t[k]!), 'spatial.out', false);
    backward(xt, ht, dht, 'temporal.hidden', true);
    backward(xs, hs, dhs, 'spatial.hidden', true);
  }
  for (const name of Object.keys(grad)) grad[name]!.data.set(acc[name]!);
  return grad;
}

test('prompt steps as the authors\' train_prompt: clip the raw gradient by its global norm, then Adam adds λ·w exactly once', async () => {
  // One full-batch step from zero moments moves each weight by lr·G/(|G| + ε) with G the gradient Adam sees, so
  // its direction tells G's sign. λ at the median |clipped g| / |w| makes the decay term decide about half the
  // signs, and a clip norm of a third of ‖g‖ makes clipping matter: every other convention (no decay, decay twice,
  // decay before the clip, no clip) predicts a different direction for some element.
  const ctx = context();
  const weights = initialPromptWeights(11, 4);
  const g = referenceGradient(weights, ctx, samples);
  const names = Object.keys(weights).filter(isEncoderTensor);
  let squares = 0;
  for (const name of names) for (const v of g[name]!.data) squares += v * v;
  const norm = Math.sqrt(squares);
  const clipNorm = norm / 3;
  const ratios = names.flatMap((name) => Array.from(g[name]!.data, (v, i) => Math.abs(v / 3) / Math.abs(weights[name]!.data[i]!))).filter((r) => Number.isFinite(r)).sort((a, b) => a - b);
  const weightDecay = ratios[ratios.length >> 1]!;
  const lr = 1e-3;
  const trained = await trainPromptEncoder(weights, ctx, samples, { epochs: 1, batchSize: samples.length, learningRate: lr, seed: 2, weightDecay, clipNorm });
  const predict = (gradientSeen: (g: number, w: number) => number) => (name: string, i: number): number => {
    const w = weights[name]!.data[i]!;
    const seen = gradientSeen(g[name]!.data[i]!, w);
    return w - (lr * seen) / (Math.abs(seen) + 1e-8);
  };
  const preClipNorm = Math.sqrt(names.reduce((sum, name) => sum + Array.from(g[name]!.data).reduce((s, v, i) => s + (v + weightDecay * weights[name]!.data[i]!) ** 2, 0), 0));
  const conventions = {
    authors: predict((gi, w) => gi * Math.min(1, clipNorm / norm) + weightDecay * w),
    'no decay': predict((gi) => gi * Math.min(1, clipNorm / norm)),
    'decay twice': predict((gi, w) => gi * Math.min(1, clipNorm / norm) + 2 * weightDecay * w),
    'decay before the clip': predict((gi, w) => (gi + weightDecay * w) * Math.min(1, clipNorm / preClipNorm)),
    'no clip': predict((gi, w) => gi + weightDecay * w),
  };
  const worst: Record<string, number> = {};
  for (const [convention, expected] of Object.entries(conventions)) {
    worst[convention] = 0;
    for (const name of names) trained.weights[name]!.data.forEach((v, i) => { worst[convention] = Math.max(worst[convention]!, Math.abs(v - expected(name, i))); });
  }
  assert.ok(worst.authors! < 0.01 * lr, `the authors' convention predicts every weight within ${worst.authors} (lr ${lr})`);
  for (const [convention, error] of Object.entries(worst)) if (convention !== 'authors') assert.ok(error > lr, `${convention} would give the same step (max difference ${error})`);
});
