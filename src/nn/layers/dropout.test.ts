/**
 * Dropout with a runtime rate (dropout.ts `runtimeRate`, graph_wavenet `runtimeDropout`): the rate read from a
 * state slot each forward. Checked: the masks' statistics at two rates set on one compiled model (drop fraction
 * within 5σ of the rate, kept entries scaled by exactly 1/(1 − p)), gradients against central finite
 * differences in float64 at both rates, and Graph WaveNet with the slot set to p computing bit for bit what a
 * model compiled with the fixed rate p computes (same seed and layer names, hence the same masks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, type ModelSpec } from '../model.js';
import { createRng } from '../../core/rng.js';
import { compileFloat64, gradCheck } from '../testing/grad-check.js';
import type { View } from '../arena.js';

const slotOf = (model: Model, suffix: string): View => {
  const view = model.stateViews.find((v) => v.name.endsWith(suffix));
  assert.ok(view, `no state buffer ending in ${suffix}`);
  return view;
};

test('runtime-rate dropout: one compiled model drops ≈ p of the entries at p = 0.2 and p = 0.7 and scales the rest by 1/(1 − p)', () => {
  const n = 40_000;
  const model = Model.compile({ inputShape: [n], layers: [{ kind: 'dropout', rate: 0.5, runtimeRate: true }], loss: { kind: 'mse' } }, { batch: 1, kernels: 'wasm', seed: 11 });
  const slot = slotOf(model, '.rate');
  assert.equal(model.view(slot)[0], 0.5, 'the slot starts at the spec rate');
  const x = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
  model.view(model.input).set(x);
  for (const [step, p] of [[1, 0.2], [2, 0.7]] as const) {
    model.view(slot)[0] = p;
    model.forward(true, step);
    const y = model.view(model.output);
    let dropped = 0;
    const scale = 1 / (1 - Math.fround(p));
    for (let i = 0; i < n; i++) {
      if (y[i] === 0) dropped++;
      else assert.ok(Math.abs(y[i]! - x[i]! * scale) <= 1e-6 * x[i]! * scale, `kept entry ${i}: ${y[i]} vs ${x[i]! * scale}`);
    }
    const sigma = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(dropped / n - p) < 5 * sigma, `rate ${p}: dropped fraction ${dropped / n}`);
  }
  model.view(slot)[0] = 0.7;
  model.forward(false);
  assert.deepEqual(Array.from(model.view(model.output)), Array.from(x), 'inference mode ignores the rate');
});

test('runtime-rate dropout: gradients match central finite differences in float64 at p = 0.25 and p = 0.6', () => {
  const spec: ModelSpec = {
    inputShape: [7],
    layers: [{ kind: 'linear', units: 9, activation: 'tanh' }, { kind: 'dropout', rate: 0, runtimeRate: true }, { kind: 'linear', units: 3 }],
    loss: { kind: 'mse' },
  };
  for (const p of [0.25, 0.6]) {
    const model = compileFloat64(spec, 3, 5);
    const rng = createRng('dropout-runtime-grad', p);
    model.view(model.input).set(Array.from({ length: model.input.size }, () => 2 * rng.next() - 1));
    model.view(model.target).set(Array.from({ length: model.target.size }, () => 2 * rng.next() - 1));
    model.view(slotOf(model, '.rate'))[0] = p;
    const result = gradCheck(model);
    assert.ok(result.worst < 1e-6, `p ${p}: ${result.where} (relative error ${result.worst})`);
    // the rate is really in effect: some hidden unit is dropped at step 1
    model.forward(true, 1);
    assert.ok(Array.from(model.view(model.layerOutputs[1]!)).some((v) => v === 0), `p ${p}: nothing dropped`);
  }
});

test('graph_wavenet with runtimeDropout and the slot at p equals the model compiled with dropout p (outputs and gradients)', () => {
  const base = {
    kind: 'graph_wavenet' as const, residualChannels: 3, dilationChannels: 3, skipChannels: 4, endChannels: 4, horizons: 2,
    dilations: [1, 2, 1], supports: 2, order: 2, adaptiveRank: 2,
  };
  const specOf = (layer: Record<string, unknown>): ModelSpec => ({ inputShape: [2, 4, 5], layers: [{ ...base, ...layer } as ModelSpec['layers'][number]], loss: { kind: 'mse' } });
  const runtime = Model.compile(specOf({ dropout: 0.3, runtimeDropout: true }), { batch: 3, kernels: 'wasm', seed: 9 });
  const rng = createRng('gwn-runtime-dropout');
  const input = Float32Array.from({ length: runtime.input.size }, () => 2 * rng.next() - 1);
  const target = Float32Array.from({ length: runtime.target.size }, () => 2 * rng.next() - 1);
  const run = (model: Model, step: number): { out: number[]; grads: number[] } => {
    model.view(model.input).set(input);
    model.view(model.target).set(target);
    model.forward(true, step);
    model.loss();
    model.backward();
    return { out: Array.from(model.view(model.output)), grads: Array.from(model.kernels.data.subarray(model.runs.grads, model.runs.grads + model.runs.count)) };
  };
  const slot = slotOf(runtime, '.dropout_rate');
  assert.equal(runtime.view(slot)[0], Math.fround(0.3));
  let previous: number[] | undefined;
  for (const [step, p] of [[1, 0.3], [2, 0.55], [3, 0]] as const) {
    const fixed = Model.compile(specOf({ dropout: p }), { batch: 3, kernels: 'wasm', seed: 9 });
    const fixedParams = fixed.kernels.data.subarray(fixed.runs.params, fixed.runs.params + fixed.runs.count);
    fixedParams.set(runtime.kernels.data.subarray(runtime.runs.params, runtime.runs.params + runtime.runs.count));
    runtime.view(slot)[0] = p;
    const [a, b] = [run(runtime, step), run(fixed, step)];
    assert.deepEqual(a.out, b.out, `outputs at p ${p}`);
    assert.deepEqual(a.grads, b.grads, `gradients at p ${p}`);
    if (previous) assert.notDeepEqual(a.out, previous, 'changing the rate changes the forward');
    previous = a.out;
  }
});
