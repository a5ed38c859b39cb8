/**
 * Conformance suite every registered layer runs through (a kind without a case generator fails to type-check):
 * (1) gradients of parameters and input against central finite differences in float64 on random shapes
 * including odd sizes and batch 1; (2) the WASM kernels against the float32 reference kernels on the same
 * weights and data (forward output and every gradient).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LAYERS, type LayerKindName, type LayerSpec } from './registry.js';
import { compileFloat64, gradCheck, randomFill } from '../testing/grad-check.js';
import { Model } from '../model.js';
import { createReferenceKernels } from '../kernels/reference/index.js';
import { createRng } from '../../core/rng.js';
import { convOutputLength } from './conv1d.js';

interface LayerCase {
  readonly inputShape: readonly number[];
  readonly spec: LayerSpec;
}

const dim = fc.integer({ min: 1, max: 9 });
const act = fc.constantFrom('identity', 'relu', 'sigmoid', 'tanh', 'gelu') as fc.Arbitrary<'identity' | 'relu' | 'sigmoid' | 'tanh' | 'gelu'>;

const CASES: { readonly [K in LayerKindName]: fc.Arbitrary<LayerCase> } = {
  linear: fc.record({ inF: dim, units: dim, activation: act, bias: fc.boolean(), dropConnect: fc.constantFrom(0, 0, 0.3) }).map(({ inF, units, activation, bias, dropConnect }) => ({
    inputShape: [inF],
    spec: { kind: 'linear', units, activation, bias, dropConnect },
  })),
  activation: fc.record({ n: dim, fn: act }).map(({ n, fn }) => ({ inputShape: [n], spec: { kind: 'activation', fn } })),
  dropout: fc.record({ n: dim, rate: fc.constantFrom(0, 0.2, 0.5) }).map(({ n, rate }) => ({ inputShape: [n], spec: { kind: 'dropout', rate } })),
  conv1d: fc
    .record({ cin: fc.integer({ min: 1, max: 5 }), length: fc.integer({ min: 1, max: 13 }), channels: fc.integer({ min: 1, max: 5 }), kernel: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 3 }), padding: fc.integer({ min: 0, max: 2 }), dilation: fc.integer({ min: 1, max: 3 }), activation: act, bias: fc.boolean() })
    .filter((c) => c.length + 2 * c.padding - c.dilation * (c.kernel - 1) >= 1)
    .map(({ cin, length, ...spec }) => ({ inputShape: [cin, length], spec: { kind: 'conv1d', ...spec } })),
  conv_transpose1d: fc
    .record({ cin: fc.integer({ min: 1, max: 5 }), length: fc.integer({ min: 1, max: 9 }), channels: fc.integer({ min: 1, max: 5 }), kernel: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 3 }), padding: fc.integer({ min: 0, max: 2 }), dilation: fc.integer({ min: 1, max: 2 }), outputPadding: fc.integer({ min: 0, max: 2 }), activation: act, bias: fc.boolean() })
    .filter((c) => c.outputPadding < Math.max(c.stride, c.dilation) && (c.length - 1) * c.stride - 2 * c.padding + c.dilation * (c.kernel - 1) + c.outputPadding + 1 >= 1)
    .map(({ cin, length, ...spec }) => ({ inputShape: [cin, length], spec: { kind: 'conv_transpose1d', ...spec } })),
  batch_norm: fc
    .record({ channels: fc.integer({ min: 1, max: 5 }), length: fc.integer({ min: 0, max: 7 }), momentum: fc.constantFrom(0.1, 0.5) })
    .map(({ channels, length, momentum }) => ({ inputShape: length === 0 ? [channels] : [channels, length], spec: { kind: 'batch_norm', momentum } })),
  layer_norm: fc
    .record({ rows: fc.integer({ min: 0, max: 4 }), features: fc.integer({ min: 1, max: 9 }) })
    .map(({ rows, features }) => ({ inputShape: rows === 0 ? [features] : [rows, features], spec: { kind: 'layer_norm' } })),
  gated_temporal_conv: fc
    .record({ cin: fc.integer({ min: 1, max: 3 }), nodes: fc.integer({ min: 1, max: 4 }), time: fc.integer({ min: 1, max: 7 }), channels: fc.integer({ min: 1, max: 3 }), kernel: fc.integer({ min: 1, max: 3 }), dilation: fc.integer({ min: 1, max: 2 }) })
    .filter((c) => c.time - c.dilation * (c.kernel - 1) >= 1)
    .map(({ cin, nodes, time, ...spec }) => ({ inputShape: [cin, nodes, time], spec: { kind: 'gated_temporal_conv', ...spec } })),
  graph_diffusion_conv: fc
    .record({ cin: fc.integer({ min: 1, max: 3 }), nodes: fc.integer({ min: 1, max: 6 }), time: fc.integer({ min: 1, max: 5 }), channels: fc.integer({ min: 1, max: 3 }), supports: fc.integer({ min: 0, max: 2 }), order: fc.integer({ min: 1, max: 3 }), adaptiveRank: fc.integer({ min: 0, max: 3 }) })
    .filter((c) => c.supports + (c.adaptiveRank > 0 ? 1 : 0) >= 1)
    .map(({ cin, nodes, time, ...spec }) => ({ inputShape: [cin, nodes, time], spec: { kind: 'graph_diffusion_conv', ...spec } })),
  // dense and convolutional bodies, and a nested block (AD-NEv's skip connections are nested residuals)
  residual: fc.oneof(
    fc.record({ n: dim, activation: act }).map(({ n, activation }): LayerCase => ({
      inputShape: [n],
      spec: { kind: 'residual', layers: [{ kind: 'linear', units: n, activation }, { kind: 'linear', units: n }] },
    })),
    fc.record({ cin: fc.integer({ min: 1, max: 4 }), length: fc.integer({ min: 2, max: 9 }), channels: fc.integer({ min: 1, max: 4 }), stride: fc.integer({ min: 1, max: 2 }) }).map(({ cin, length, channels, stride }): LayerCase => {
      const down = convOutputLength(length, 3, stride, 1, 1);
      const outputPadding = length - ((down - 1) * stride - 2 + 3);
      return {
        inputShape: [cin, length],
        spec: {
          kind: 'residual',
          layers: [
            { kind: 'conv1d', channels, kernel: 3, stride, padding: 1, activation: 'tanh' },
            { kind: 'residual', layers: [{ kind: 'linear', units: channels * down, activation: 'tanh' }, { kind: 'reshape', shape: [channels, down] }] },
            { kind: 'conv_transpose1d', channels: cin, kernel: 3, stride, padding: 1, outputPadding },
          ],
        },
      };
    }),
  ),
  branch_product: fc
    .record({ first: dim, second: dim, hidden: dim, units: fc.integer({ min: 1, max: 3 }), combine: fc.constantFrom('product', 'sum') as fc.Arbitrary<'product' | 'sum'>, outActivation: fc.constantFrom('identity', 'tanh') as fc.Arbitrary<'identity' | 'tanh'> })
    .map(({ first, second, ...spec }) => ({ inputShape: [first + second], spec: { kind: 'branch_product', split: first, ...spec } })),
  reshape: fc.record({ a: dim, b: dim }).map(({ a, b }) => ({ inputShape: [a, b], spec: { kind: 'reshape', shape: [b, a] } })),
  // the whole network on tiny widths: 1–3 blocks, short inputs (left-padded) or longer ones, with and without
  // the adaptive adjacency, dropout and the output affine
  graph_wavenet: fc
    .record({
      cin: fc.integer({ min: 1, max: 2 }), nodes: fc.integer({ min: 1, max: 4 }), time: fc.integer({ min: 1, max: 6 }),
      residualChannels: fc.integer({ min: 1, max: 3 }), dilationChannels: fc.integer({ min: 1, max: 3 }), skipChannels: fc.integer({ min: 1, max: 3 }), endChannels: fc.integer({ min: 1, max: 3 }),
      horizons: fc.integer({ min: 1, max: 3 }), dilations: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 1, maxLength: 3 }),
      supports: fc.integer({ min: 0, max: 2 }), order: fc.integer({ min: 1, max: 2 }), adaptiveRank: fc.integer({ min: 0, max: 2 }),
      dropout: fc.constantFrom(0, 0.3), outputScale: fc.constantFrom(1, 2.5), outputShift: fc.constantFrom(0, -1),
    })
    .map(({ cin, nodes, time, ...spec }) => ({ inputShape: [cin, nodes, time], spec: { kind: 'graph_wavenet', ...spec } })),
};

const batchSize = fc.constantFrom(1, 1, 2, 3, 5);

for (const kind of Object.keys(LAYERS) as LayerKindName[]) {
  test(`${kind}: gradients match central finite differences in float64`, () => {
    fc.assert(
      fc.property(CASES[kind], batchSize, fc.integer({ min: 0, max: 1e6 }), (c, batch, seed) => {
        const model = compileFloat64({ inputShape: c.inputShape, layers: [c.spec], loss: { kind: 'mse' } }, batch, seed);
        randomFill(model, seed, (rng) => 2 * rng.next() - 1);
        const result = gradCheck(model);
        assert.ok(result.worst < 1e-6, `${JSON.stringify(c)} batch ${batch}: ${result.where} (relative error ${result.worst})`);
      }),
      { numRuns: 25 },
    );
  });

  test(`${kind}: WASM kernels match the float32 reference kernels`, () => {
    fc.assert(
      fc.property(CASES[kind], batchSize, fc.integer({ min: 0, max: 1e6 }), (c, batch, seed) => {
        const spec = { inputShape: c.inputShape, layers: [c.spec], loss: { kind: 'mse' } } as const;
        const wasm = Model.compile(spec, { batch, kernels: 'wasm', inputGrad: true, seed });
        const ref = Model.compile(spec, { batch, kernels: (floats) => createReferenceKernels(floats), inputGrad: true, seed });
        const exact = compileFloat64(spec, batch, seed);
        exact.params.forEach((p, i) => exact.view(p).set(ref.view(ref.params[i]!)));
        for (const model of [wasm, ref, exact]) {
          const rng = createRng('layer-wasm-vs-ref', seed);
          model.view(model.input).set(Array.from({ length: model.input.size }, () => 2 * rng.next() - 1));
          model.view(model.target).set(Array.from({ length: model.target.size }, () => 2 * rng.next() - 1));
          for (const v of model.stateViews) model.view(v).set(Array.from({ length: v.size }, () => rng.next()));
          model.forward(true, 3);
          model.loss();
          model.backward();
        }
        // norm-wise, plus the float32 reference's own distance from float64: normalisation over two or three
        // nearly equal values (batch 2, one node, one time step) amplifies float32 rounding by up to 1/√eps, and
        // then both float32 paths are allowed to be as far from each other as the reference is from exact
        const close = (a: ArrayLike<number>, b: ArrayLike<number>, truth: ArrayLike<number>, what: string): void => {
          let scale = 1;
          let refError = 0;
          for (let i = 0; i < b.length; i++) {
            scale = Math.max(scale, Math.abs(b[i]!));
            refError = Math.max(refError, Math.abs(b[i]! - truth[i]!));
          }
          const tolerance = 2e-5 * scale + 4 * refError;
          for (let i = 0; i < a.length; i++) {
            assert.ok(Math.abs(a[i]! - b[i]!) <= tolerance, `${what}[${i}]: wasm ${a[i]} vs reference ${b[i]} (exact ${truth[i]}; ${JSON.stringify(c)}, batch ${batch})`);
          }
        };
        close(wasm.view(wasm.output), ref.view(ref.output), exact.view(exact.output), 'output');
        close(wasm.view(wasm.inputGrad!), ref.view(ref.inputGrad!), exact.view(exact.inputGrad!), 'input gradient');
        wasm.params.forEach((p, i) => close(wasm.view(p.grad), ref.view(ref.params[i]!.grad), exact.view(exact.params[i]!.grad), `${p.name} gradient`));
      }),
      { numRuns: 25 },
    );
  });
}
