import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from './tfjs/tf.js';
import { createRng } from '../../src/core/rng.js';
import {
  adaptiveAdjacency,
  defaultGwnConfig,
  diffusionFeatures,
  constantSupport,
  gatedTemporalConv,
  graphConvolution,
  gwnForward,
  learnedSupport,
  initialGwnWeights,
  receptiveField,
  transitionMatrices,
  type GraphWaveNetConfig,
  type ParamLookup,
} from './gwn-tfjs.js';

before(async () => {
  await useBackend('cpu');
});

const TINY: GraphWaveNetConfig = defaultGwnConfig(4, {
  inChannels: 2,
  residualChannels: 3,
  dilationChannels: 3,
  skipChannels: 4,
  endChannels: 5,
  horizons: 12,
  dropout: 0,
  embeddingRank: 2,
});

function randomArray(size: number, key: string): Float32Array {
  const rng = createRng('gwn-test', key);
  return Float32Array.from({ length: size }, () => rng.normal());
}

function lookupOf(params: Map<string, tf.Tensor>): ParamLookup {
  return (name) => {
    const value = params.get(name);
    if (!value) throw new Error(`missing ${name}`);
    return value;
  };
}

function tensorsOf(config: GraphWaveNetConfig, predefined: number, seed: string): Map<string, tf.Tensor> {
  const weights = initialGwnWeights(config, predefined, seed);
  return new Map(Object.entries(weights).map(([name, w]) => [name, tf.tensor(w.data, [...w.shape])]));
}

const ADJ = [1, 0.5, 0, 0, 0.2, 1, 0.7, 0, 0, 0, 1, 0.9, 0.3, 0, 0, 1];

test('receptive field 13, output [B, 12, N], adaptive rows sum to 1, runs with no predefined supports', () => {
  assert.equal(receptiveField(TINY), 13);
  const params = tensorsOf(TINY, 0, 'shape');
  const param = lookupOf(params);
  const rows = adaptiveAdjacency(param).sum(1).arraySync() as number[];
  for (const s of rows) assert.ok(Math.abs(s - 1) < 1e-6);
  const x = tf.tensor4d(randomArray(4 * 3 * 12 * 2, 'x'), [4, 3, 12, 2]);
  const out = gwnForward(TINY, param, [], x, { training: false });
  assert.deepEqual(out.shape, [3, 12, 4]);
  assert.ok((out.dataSync() as Float32Array).every(Number.isFinite));
});

test('transition matrices are row-normalised A and Aᵀ', () => {
  const [pf, pb] = transitionMatrices(ADJ, 4);
  assert.ok(Math.abs(pf[1]! - 0.5 / 1.5) < 1e-7);
  // backward row 0 = column 0 of A normalised: [1, 0.2, 0, 0.3] / 1.5
  assert.ok(Math.abs(pb[3]! - 0.3 / 1.5) < 1e-7);
  for (const p of [pf, pb]) for (let i = 0; i < 4; i++) assert.ok(Math.abs(p[i * 4]! + p[i * 4 + 1]! + p[i * 4 + 2]! + p[i * 4 + 3]! - 1) < 1e-6);
});

test('diffusion features equal Σ_v x_v S_vw computed with float64 loops', () => {
  const [n, b, t, c] = [4, 2, 3, 2];
  const xData = randomArray(n * b * t * c, 'diff');
  const [pf] = transitionMatrices(ADJ, n);
  const out = diffusionFeatures(tf.tensor4d(xData, [n, b, t, c]), [tf.tensor2d(pf, [n, n])], 2).arraySync() as number[][][][];
  // reference: x1[w] = Σ_v S[v][w] x[v], x2 from x1
  const at = (arr: ArrayLike<number>, v: number, rest: number): number => arr[v * b * t * c + rest]!;
  const x1 = new Float64Array(n * b * t * c);
  const x2 = new Float64Array(n * b * t * c);
  for (let w = 0; w < n; w++) for (let r = 0; r < b * t * c; r++) for (let v = 0; v < n; v++) x1[w * b * t * c + r]! += pf[v * n + w]! * at(xData, v, r);
  for (let w = 0; w < n; w++) for (let r = 0; r < b * t * c; r++) for (let v = 0; v < n; v++) x2[w * b * t * c + r]! += pf[v * n + w]! * x1[v * b * t * c + r]!;
  for (let w = 0; w < n; w++) for (let bi = 0; bi < b; bi++) for (let ti = 0; ti < t; ti++) for (let ci = 0; ci < c; ci++) {
    const r = (bi * t + ti) * c + ci;
    const got = out[w]![bi]![ti]!;
    assert.ok(Math.abs(got[ci]! - at(xData, w, r)) < 1e-6);
    assert.ok(Math.abs(got[c + ci]! - x1[w * b * t * c + r]!) < 1e-5);
    assert.ok(Math.abs(got[2 * c + ci]! - x2[w * b * t * c + r]!) < 1e-5);
  }
});

test('graph convolution (per-part mix, constant supports) equals linear(diffusionFeatures), values and gradients', () => {
  const [n, b, t, c, r, order] = [4, 2, 3, 2, 3, 2];
  const [pf, pb] = transitionMatrices(ADJ, n);
  const fixed = [tf.tensor2d(pf, [n, n]), tf.tensor2d(pb, [n, n])];
  const x = tf.tensor4d(randomArray(n * b * t * c, 'gc-x'), [n, b, t, c]);
  const adaptiveLogits = tf.tensor2d(randomArray(n * n, 'gc-a'), [n, n]);
  const weight = tf.tensor2d(randomArray(7 * c * r, 'gc-w'), [7 * c, r]);
  const bias = tf.tensor1d(randomArray(r, 'gc-b'));
  const probe = tf.tensor4d(randomArray(n * b * t * r, 'gc-probe'), [n, b, t, r]);
  const fused = (xv: tf.Tensor, logits: tf.Tensor, w: tf.Tensor): tf.Tensor => {
    const lookup = lookupOf(new Map([['g.weight', w], ['g.bias', bias]]));
    const supports = [...fixed.map(constantSupport), learnedSupport(tf.softmax(logits, 1) as tf.Tensor2D)];
    return graphConvolution(xv as tf.Tensor4D, supports, order, lookup, 'g');
  };
  const reference = (xv: tf.Tensor, logits: tf.Tensor, w: tf.Tensor): tf.Tensor => {
    const features = diffusionFeatures(xv as tf.Tensor4D, [...fixed, tf.softmax(logits, 1) as tf.Tensor2D], order);
    return tf.reshape(tf.add(tf.matMul(tf.reshape(features, [-1, 7 * c]), w), bias), [n, b, t, r]);
  };
  const got = fused(x, adaptiveLogits, weight).dataSync();
  const want = reference(x, adaptiveLogits, weight).dataSync();
  assert.equal(got.length, n * b * t * r);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5, `output ${i}: ${got[i]} vs ${want[i]}`);
  const gradsOf = (f: typeof fused): Float32Array[] =>
    tf.grads((xv: tf.Tensor, logits: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(f(xv, logits, w), probe)))([x, adaptiveLogits, weight]).map((g) => g.dataSync() as Float32Array);
  const [fusedGrads, referenceGrads] = [gradsOf(fused), gradsOf(reference)];
  ['x', 'adaptive logits', 'weight'].forEach((name, k) => {
    for (let i = 0; i < fusedGrads[k]!.length; i++) {
      assert.ok(Math.abs(fusedGrads[k]![i]! - referenceGrads[k]![i]!) < 1e-4, `d/d${name}[${i}]: ${fusedGrads[k]![i]} vs ${referenceGrads[k]![i]}`);
    }
  });
  // the predefined supports are constants: their gradient path is S·dy only, checked against an explicit product
  const dy = tf.tensor2d(randomArray(n * 5, 'gc-dy'), [n, 5]);
  const viaConstant = tf.grad((xv: tf.Tensor) => tf.sum(tf.mul(constantSupport(fixed[0]!).diffuse(xv as tf.Tensor2D), dy)))(tf.zeros([n, 5])).dataSync();
  const explicit = tf.matMul(fixed[0]!, dy).dataSync();
  for (let i = 0; i < explicit.length; i++) assert.ok(Math.abs(viaConstant[i]! - explicit[i]!) < 1e-6);
});

test('gated dilated convolution equals tanh(filter)·σ(gate) over taps t and t+d (float64 loops)', () => {
  const [n, b, t, c, d, dilation] = [2, 1, 5, 2, 3, 2];
  const xData = randomArray(n * b * t * c, 'tcn-x');
  const wData = randomArray(2 * c * 2 * d, 'tcn-w');
  const bData = randomArray(2 * d, 'tcn-b');
  const params = new Map<string, tf.Tensor>([['l.weight', tf.tensor2d(wData, [2 * c, 2 * d])], ['l.bias', tf.tensor1d(bData)]]);
  const out = gatedTemporalConv(tf.tensor4d(xData, [n, b, t, c]), lookupOf(params), 'l', dilation).arraySync() as number[][][][];
  for (let node = 0; node < n; node++) for (let ti = 0; ti < t - dilation; ti++) for (let o = 0; o < d; o++) {
    let filter = bData[o]!;
    let gate = bData[d + o]!;
    for (let tap = 0; tap < 2; tap++) for (let ci = 0; ci < c; ci++) {
      const xv = xData[(node * t + ti + tap * dilation) * c + ci]!;
      filter += xv * wData[(tap * c + ci) * 2 * d + o]!;
      gate += xv * wData[(tap * c + ci) * 2 * d + d + o]!;
    }
    const expected = Math.tanh(filter) / (1 + Math.exp(-gate));
    assert.ok(Math.abs(out[node]![0]![ti]![o]! - expected) < 1e-5);
  }
});

test('gradients of the whole model (custom layers, adaptive adjacency, BN) match central finite differences', () => {
  const params = tensorsOf(TINY, 2, 'grad');
  const [pf, pb] = transitionMatrices(ADJ, 4);
  const supports = [tf.tensor2d(pf, [4, 4]), tf.tensor2d(pb, [4, 4])];
  const x = tf.tensor4d(randomArray(4 * 2 * 12 * 2, 'gx'), [4, 2, 12, 2]);
  const probe = tf.tensor3d(randomArray(2 * 12 * 4, 'probe'), [2, 12, 4]);
  const names = ['node_emb1', 'layers.0.tcn.weight', 'layers.3.gconv.weight', 'layers.7.skip.bias', 'layers.2.bn.weight', 'start.weight'];
  const lossOf = (values: Map<string, tf.Tensor>): tf.Scalar =>
    tf.sum(tf.mul(gwnForward(TINY, lookupOf(values), supports, x, { training: true }), probe)) as tf.Scalar;
  for (const name of names) {
    const base = params.get(name)!;
    const grad = tf.grad((w: tf.Tensor) => lossOf(new Map([...params, [name, w]])))(base).dataSync() as Float32Array;
    const values = base.dataSync() as Float32Array;
    const rng = createRng('fd', name);
    for (let k = 0; k < 3; k++) {
      const index = rng.int(values.length);
      const eps = 1e-3;
      const shifted = (delta: number): number => {
        const copy = Float32Array.from(values);
        copy[index]! += delta;
        return (lossOf(new Map([...params, [name, tf.tensor(copy, base.shape)]])).dataSync() as Float32Array)[0]!;
      };
      const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
      const analytic = grad[index]!;
      assert.ok(Math.abs(numeric - analytic) <= 2e-2 * Math.max(1, Math.abs(numeric)), `${name}[${index}]: analytic ${analytic} vs numeric ${numeric}`);
    }
  }
});
