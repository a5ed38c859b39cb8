/**
 * The AD-NEv conv autoencoder on the engine against an independent plain-TypeScript float64 forward written
 * from the layer definitions (torch Conv1d / ConvTranspose1d / BatchNorm1d in eval mode / Linear / ReLU, skip
 * connections and FC bottleneck as in conv-autoencoder.ts), on seeded random weights and running statistics:
 * this checks the layer stack, the nesting of skip connections and the PyTorch-name mapping. Gradients of the
 * whole network (skip + FC, MSE and L1) against central finite differences in float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.js';
import { compileFloat64, gradCheck, randomFill } from '../../nn/testing/grad-check.js';
import { BASELINE_GENOME, initialWeights, parameterSpecs, planAutoencoder, type AutoencoderPlan, type ConvAutoencoderGenome, type ModelWeights } from './conv-autoencoder.js';
import { engineNetwork } from './engine-network.js';
import { scoreWindows } from './autoencoder-trainer.js';

type Act = number[][]; // [channels][length]

function conv1d(h: Act, w: ModelWeights[string], b: ModelWeights[string], stride: number, pad: number, outLength: number): Act {
  const [cout, cin, k] = w.shape as [number, number, number];
  return Array.from({ length: cout }, (_, o) =>
    Array.from({ length: outLength }, (_, t) => {
      let s = b.data[o]!;
      for (let c = 0; c < cin; c++) for (let j = 0; j < k; j++) {
        const at = t * stride + j - pad;
        if (at >= 0 && at < h[c]!.length) s += w.data[(o * cin + c) * k + j]! * h[c]![at]!;
      }
      return s;
    }),
  );
}

function convTranspose1d(h: Act, w: ModelWeights[string], b: ModelWeights[string], stride: number, pad: number, outLength: number): Act {
  const [cin, cout, k] = w.shape as [number, number, number];
  const out = Array.from({ length: cout }, (_, o) => new Array<number>(outLength).fill(b.data[o]!));
  for (let c = 0; c < cin; c++) for (let t = 0; t < h[c]!.length; t++) for (let o = 0; o < cout; o++) for (let j = 0; j < k; j++) {
    const at = t * stride + j - pad;
    if (at >= 0 && at < outLength) out[o]![at]! += h[c]![t]! * w.data[(c * cout + o) * k + j]!;
  }
  return out;
}

const relu = (h: Act): Act => h.map((row) => row.map((v) => Math.max(0, v)));

function batchNormEval(h: Act, weights: ModelWeights, prefix: string): Act {
  const g = weights[`${prefix}.bn.weight`]!.data, beta = weights[`${prefix}.bn.bias`]!.data;
  const mean = weights[`${prefix}.bn.running_mean`]!.data, variance = weights[`${prefix}.bn.running_var`]!.data;
  return h.map((row, c) => row.map((v) => ((v - mean[c]!) / Math.sqrt(variance[c]! + 1e-5)) * g[c]! + beta[c]!));
}

function dense(x: number[], w: ModelWeights[string], b: ModelWeights[string]): number[] {
  const [out, inF] = w.shape as [number, number];
  return Array.from({ length: out }, (_, o) => Math.max(0, x.reduce((s, v, i) => s + v * w.data[o * inF + i]!, b.data[o]!)));
}

/** reconstruction of one window [W][F] */
function referenceForward(plan: AutoencoderPlan, weights: ModelWeights, x: Act): Act {
  const activations: Act[] = [];
  let h = x;
  plan.encoder.forEach((e, i) => {
    h = relu(batchNormEval(conv1d(h, weights[`encoder.${i}.weight`]!, weights[`encoder.${i}.bias`]!, e.stride, e.padding, e.outLength), weights, `encoder.${i}`));
    activations.push(h);
  });
  const fcLayers = plan.fcUnits.length - 1;
  if (fcLayers > 0) {
    const [channels, length] = [h.length, h[0]!.length];
    let flat = h.flat();
    for (let k = 0; k < fcLayers; k++) flat = dense(flat, weights[`fc_in.${k}.weight`]!, weights[`fc_in.${k}.bias`]!);
    for (let k = fcLayers - 1; k >= 0; k--) flat = dense(flat, weights[`fc_out.${k}.weight`]!, weights[`fc_out.${k}.bias`]!);
    h = Array.from({ length: channels }, (_, c) => flat.slice(c * length, (c + 1) * length));
  }
  plan.decoder.forEach((d, j) => {
    h = convTranspose1d(h, weights[`decoder.${j}.weight`]!, weights[`decoder.${j}.bias`]!, d.stride, d.padding, d.outLength);
    if (d.last) return;
    h = relu(batchNormEval(h, weights, `decoder.${j}`));
    if (d.skipFrom !== undefined) h = h.map((row, c) => row.map((v, t) => v + activations[d.skipFrom!]![c]![t]!));
  });
  return h;
}

const GENOMES: readonly [string, ConvAutoencoderGenome, number][] = [
  ['baseline', BASELINE_GENOME, 7],
  ['3 layers, skip, FC bottleneck, stride 2, odd kernels', { ...BASELINE_GENOME, window: 4, convLayers: [{ channels: 6, kernel: 3, stride: 1 }, { channels: 5, kernel: 2, stride: 2 }, { channels: 7, kernel: 5, stride: 2 }], fcRatios: [0.6, 0.5], skip: true, loss: 'l1' }, 11],
  ['skip without FC, kernel longer than the input', { ...BASELINE_GENOME, window: 3, convLayers: [{ channels: 4, kernel: 7, stride: 1 }, { channels: 3, kernel: 3, stride: 1 }], skip: true }, 5],
];

/** initial weights with every BN tensor randomised, so eval-mode batch norm is not the identity */
function randomisedWeights(plan: AutoencoderPlan, seed: number): ModelWeights {
  const weights = initialWeights(plan, seed);
  const rng = createRng('engine-network-test', seed);
  for (const [name, { data }] of Object.entries(weights)) {
    if (!name.includes('.bn.')) continue;
    for (let i = 0; i < data.length; i++) data[i] = name.endsWith('running_var') ? 0.5 + rng.next() : 2 * rng.next() - 1;
  }
  return weights;
}

for (const [label, genome, features] of GENOMES) {
  test(`engine network equals the plain float64 forward: ${label}`, () => {
    const plan = planAutoencoder(genome, features);
    assert.ok(!('invalid' in plan), JSON.stringify(plan));
    const network = engineNetwork(plan, genome.loss);
    // every AD-NEv tensor is mapped exactly once
    assert.deepEqual([...network.names.values()].sort(), parameterSpecs(plan).map((s) => s.name).sort());
    const weights = randomisedWeights(plan, features);
    const count = 5;
    const rng = createRng('engine-network-windows', features);
    const data = Float32Array.from({ length: count * genome.window * features }, () => 2 * rng.next() - 1);
    const scores = scoreWindows(genome, weights, { data, count, window: genome.window, features });
    for (let n = 0; n < count; n++) {
      const x = Array.from({ length: genome.window }, (_, w) => Array.from(data.subarray((n * genome.window + w) * features, (n * genome.window + w + 1) * features)));
      const y = referenceForward(plan, weights, x);
      let sum = 0;
      y.forEach((row, w) => row.forEach((v, f) => (sum += (v - x[w]![f]!) ** 2)));
      const expected = sum / (genome.window * features);
      assert.ok(Math.abs(scores[n]! - expected) <= 1e-4 * Math.max(1, expected), `window ${n}: engine ${scores[n]} vs reference ${expected}`);
    }
  });

  test(`engine network gradients match central finite differences in float64: ${label}`, () => {
    const plan = planAutoencoder(genome, features);
    assert.ok(!('invalid' in plan));
    const model = compileFloat64(engineNetwork(plan, genome.loss).spec, 3, features);
    randomFill(model, features, (r) => 2 * r.next() - 1);
    const result = gradCheck(model, 8);
    assert.ok(result.worst < 1e-5, `${result.where} (relative error ${result.worst})`);
  });
}
