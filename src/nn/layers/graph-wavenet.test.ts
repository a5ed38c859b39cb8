/**
 * Forward definitions of Graph WaveNet's two layers, checked element by element against the paper's formulas
 * written out as plain loops here (the conformance suite checks their gradients against these forwards):
 * gated TCN  out[b,o,n,t] = tanh(b_f[o] + Σ_{c,k} F[o,c,k]·x[b,c,n,t+k·d]) · σ(b_g[o] + Σ_{c,k} G[o,c,k]·x[b,c,n,t+k·d]);
 * diffusion  H_{s,p} = nconv(H_{s,p−1}, A_s), nconv(x, A)[b,c,w,t] = Σ_v x[b,c,v,t]·A[v,w];
 *            out[b,o,n,t] = bias[o] + Σ_{j,c} W[o, j·C + c]·H_j[b,c,n,t] over [x, H_{1,1..K}, H_{2,1..K}, ...].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../model.js';
import { createRng } from '../../core/rng.js';

const [B, C, N, T] = [2, 3, 5, 7];
const at = (b: number, c: number, n: number, t: number, channels = C, time = T): number => ((b * channels + c) * N + n) * time + t;

function randomModel(spec: Parameters<typeof Model.compile>[0]): { model: Model; x: Float32Array } {
  const model = Model.compile(spec, { batch: B, kernels: 'wasm', seed: 4 });
  const rng = createRng('gwn-forward');
  const x = Float32Array.from({ length: model.input.size }, () => 2 * rng.next() - 1);
  model.view(model.input).set(x);
  for (const v of model.stateViews) model.view(v).set(Array.from({ length: v.size }, () => rng.next()));
  return { model, x };
}

test('gated temporal conv equals tanh(filter) ⊙ sigmoid(gate) of the dilated (1 × K) convolutions', () => {
  const [O, K, d] = [4, 2, 2];
  const { model, x } = randomModel({ inputShape: [C, N, T], layers: [{ kind: 'gated_temporal_conv', channels: O, kernel: K, dilation: d }], loss: { kind: 'mse' } });
  model.forward(false);
  const [F, G, bf, bg] = ['filter.weight', 'gate.weight', 'filter.bias', 'gate.bias'].map((p) => model.param(`0.gated_temporal_conv.${p}`));
  const Tout = T - d * (K - 1);
  const out = model.view(model.output);
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let n = 0; n < N; n++) for (let t = 0; t < Tout; t++) {
    let f = bf![o]!;
    let g = bg![o]!;
    for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) {
      f += F![(o * C + c) * K + k]! * x[at(b, c, n, t + k * d)]!;
      g += G![(o * C + c) * K + k]! * x[at(b, c, n, t + k * d)]!;
    }
    const expected = Math.tanh(f) / (1 + Math.exp(-g));
    const actual = out[at(b, o, n, t, O, Tout)]!;
    assert.ok(Math.abs(actual - expected) < 1e-5, `out[${b},${o},${n},${t}] = ${actual}, expected ${expected}`);
  }
});

test('graph diffusion conv equals the 1 × 1 mix of [x, A₁ᵀx, (A₁ᵀ)²x, A₂ᵀx, (A₂ᵀ)²x]', () => {
  const [O, S, K] = [2, 2, 2];
  const { model, x } = randomModel({ inputShape: [C, N, T], layers: [{ kind: 'graph_diffusion_conv', channels: O, supports: S, order: K }], loss: { kind: 'mse' } });
  model.forward(false);
  const A = model.view(model.stateViews[0]!);
  const W = model.param('0.graph_diffusion_conv.mlp.weight');
  const bias = model.param('0.graph_diffusion_conv.mlp.bias');
  const nconv = (h: Float64Array, s: number): Float64Array => {
    const y = new Float64Array(h.length);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let w = 0; w < N; w++) for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let v = 0; v < N; v++) sum += h[at(b, c, v, t)]! * A[s * N * N + v * N + w]!;
      y[at(b, c, w, t)] = sum;
    }
    return y;
  };
  const terms: Float64Array[] = [Float64Array.from(x)];
  for (let s = 0; s < S; s++) {
    let h: Float64Array = terms[0]!;
    for (let p = 1; p <= K; p++) terms.push((h = nconv(h, s)));
  }
  const out = model.view(model.output);
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let n = 0; n < N; n++) for (let t = 0; t < T; t++) {
    let expected = bias[o]!;
    terms.forEach((h, j) => {
      for (let c = 0; c < C; c++) expected += W[o * terms.length * C + j * C + c]! * h[at(b, c, n, t)]!;
    });
    const actual = out[at(b, o, n, t, O)]!;
    assert.ok(Math.abs(actual - expected) < 1e-4 * Math.max(1, Math.abs(expected)), `out[${b},${o},${n},${t}] = ${actual}, expected ${expected}`);
  }
});

test('adaptive adjacency: the layer diffuses along softmax(ReLU(E₁E₂)) computed row by row', () => {
  const [O, r] = [2, 3];
  const { model, x } = randomModel({ inputShape: [C, N, T], layers: [{ kind: 'graph_diffusion_conv', channels: O, supports: 0, order: 1, adaptiveRank: r }], loss: { kind: 'mse' } });
  model.forward(false);
  const E1 = model.param('0.graph_diffusion_conv.nodevec1');
  const E2 = model.param('0.graph_diffusion_conv.nodevec2');
  const W = model.param('0.graph_diffusion_conv.mlp.weight');
  const bias = model.param('0.graph_diffusion_conv.mlp.bias');
  const A = new Float64Array(N * N);
  for (let v = 0; v < N; v++) {
    const row = Array.from({ length: N }, (_, w) => {
      let p = 0;
      for (let i = 0; i < r; i++) p += E1[v * r + i]! * E2[i * N + w]!;
      return Math.max(0, p);
    });
    const total = row.reduce((s, z) => s + Math.exp(z), 0);
    row.forEach((z, w) => (A[v * N + w] = Math.exp(z) / total));
  }
  const out = model.view(model.output);
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let w = 0; w < N; w++) for (let t = 0; t < T; t++) {
    let expected = bias[o]!;
    for (let c = 0; c < C; c++) {
      let diffused = 0;
      for (let v = 0; v < N; v++) diffused += x[at(b, c, v, t)]! * A[v * N + w]!;
      expected += W[o * 2 * C + c]! * x[at(b, c, w, t)]! + W[o * 2 * C + C + c]! * diffused;
    }
    const actual = out[at(b, o, w, t, O)]!;
    assert.ok(Math.abs(actual - expected) < 1e-4 * Math.max(1, Math.abs(expected)), `out[${b},${o},${w},${t}] = ${actual}, expected ${expected}`);
  }
});

test('sparse fixed supports (≤ ¼ non-zeros) go through the sparse kernel and give the dense GEMM path\'s outputs and gradients', () => {
  // a TCN first, so that the diffusion's backward (A·dH) reaches parameters through dInput
  const spec: Parameters<typeof Model.compile>[0] = {
    inputShape: [C, N, T],
    layers: [
      { kind: 'gated_temporal_conv', channels: 3, kernel: 2, dilation: 1 },
      { kind: 'graph_diffusion_conv', channels: 2, supports: 2, order: 2, adaptiveRank: 2 },
    ],
    loss: { kind: 'mse' },
  };
  const rng = createRng('gwn-sparse-supports');
  // N = 5: 6 non-zeros fit (⌊25/4⌋); one support a weighted cycle plus a self-loop, one a single column
  const sparse = new Float32Array(2 * N * N);
  for (let v = 0; v < N; v++) sparse[v * N + ((v + 1) % N)] = 0.5 + rng.next();
  sparse[2 * N + 2] = 0.7;
  for (let v = 0; v < N; v++) sparse[N * N + v * N + 3] = rng.next() + 0.1;
  // the dense twin: the same matrices with every zero replaced by 1e-30 (too many non-zeros for the sparse list)
  const dense = sparse.map((a) => (a === 0 ? 1e-30 : a));
  const x = Float32Array.from({ length: B * C * N * T }, () => 2 * rng.next() - 1);
  const y = Float32Array.from({ length: B * 2 * N * (T - 1) }, () => rng.next());
  for (const kernels of ['wasm', 'reference'] as const) {
    const run = (supports: Float32Array): { out: Float32Array; grads: Float32Array; sparseCalls: number } => {
      const model = Model.compile(spec, { batch: B, kernels, seed: 8 });
      let sparseCalls = 0;
      const original = model.kernels.sparseDiffuse.bind(model.kernels);
      model.kernels.sparseDiffuse = (...args) => {
        sparseCalls++;
        original(...args);
      };
      model.view(model.stateViews[0]!).set(supports);
      model.view(model.input).set(x);
      model.view(model.target).set(y);
      model.forward(true, 1);
      model.loss();
      model.backward();
      const data = model.kernels.data;
      return { out: Float32Array.from(model.view(model.output)), grads: Float32Array.from(data.subarray(model.runs.grads, model.runs.grads + model.runs.count)), sparseCalls };
    };
    const s = run(sparse);
    const d = run(dense);
    assert.ok(s.sparseCalls > 0, `${kernels}: the sparse supports used the sparse kernel`);
    assert.equal(d.sparseCalls, 0, `${kernels}: the dense twin used the GEMM`);
    for (const [what, a, b] of [['output', s.out, d.out], ['gradient', s.grads, d.grads]] as const) {
      for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `${kernels} ${what}[${i}]: ${a[i]} vs ${b[i]}`);
    }
  }
});
