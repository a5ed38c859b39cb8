/**
 * Gradient clipping by global norm in the Trainer (g ← g·min(1, c/‖g‖₂), Pascanu et al., ICML 2013) against a
 * gradient computed outside the trainer: the same model compiled again, one forward/backward, the norm summed
 * in float64. With plain SGD the update is then p₁ = p₀ − lr·min(1, c/‖g‖)·g, checked for a clip that binds,
 * one that does not, and one across two parameter tensors of a deeper model (the norm is global, not per tensor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, type ModelSpec } from './model.js';
import { Trainer } from './trainer.js';
import { createRng } from '../core/rng.js';

const BATCH = 4;
const SPECS: readonly ModelSpec[] = [
  { inputShape: [5], layers: [{ kind: 'linear', units: 3 }], loss: { kind: 'mse' } },
  { inputShape: [6], layers: [{ kind: 'linear', units: 4, activation: 'tanh' }, { kind: 'linear', units: 2 }], loss: { kind: 'mse' } },
];

function batchFor(model: Model, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = createRng('trainer-clip', seed);
  return {
    x: Float32Array.from({ length: model.input.size }, () => 2 * rng.next() - 1),
    y: Float32Array.from({ length: model.target.size }, () => 4 * rng.next() - 2),
  };
}

/** the batch gradient of the freshly initialised model (seed 7) and its global norm, in float64 */
function gradientOf(spec: ModelSpec, x: Float32Array, y: Float32Array): { grad: Float64Array; norm: number } {
  const model = Model.compile(spec, { batch: BATCH, kernels: 'wasm', seed: 7 });
  model.view(model.input).set(x);
  model.view(model.target).set(y);
  model.forward(true, 1);
  model.loss();
  model.backward();
  const { grads, count } = model.runs;
  const grad = Float64Array.from(model.kernels.data.subarray(grads, grads + count));
  return { grad, norm: Math.sqrt(grad.reduce((s, g) => s + g * g, 0)) };
}

for (const [index, spec] of SPECS.entries()) {
  test(`clipNorm (model ${index + 1}, ${spec.layers.length} layer(s)): a binding clip scales the SGD step by c/‖g‖, a loose one leaves it alone`, () => {
    const lr = 0.1;
    const probe = Model.compile(spec, { batch: BATCH, kernels: 'wasm', seed: 7 });
    const { x, y } = batchFor(probe, index);
    const { grad, norm } = gradientOf(spec, x, y);
    assert.ok(norm > 0.1, `a gradient worth clipping (‖g‖ = ${norm})`);
    for (const clip of [norm / 4, 4 * norm]) {
      const model = Model.compile(spec, { batch: BATCH, kernels: 'wasm', optimizer: { kind: 'sgd' }, seed: 7 });
      const { params, count } = model.runs;
      const before = Float64Array.from(model.kernels.data.subarray(params, params + count));
      const trainer = new Trainer(model, { lr, clipNorm: clip });
      trainer.step(x, y);
      assert.ok(Math.abs(trainer.lastGradNorm - norm) <= 1e-6 * norm, `lastGradNorm ${trainer.lastGradNorm} vs ${norm}`);
      const scale = Math.min(1, clip / norm);
      const after = model.kernels.data.subarray(params, params + count);
      for (let i = 0; i < count; i++) {
        const expected = before[i]! - lr * scale * grad[i]!;
        assert.ok(Math.abs(after[i]! - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `param ${i} with clip ${clip}: ${after[i]} vs ${expected}`);
      }
    }
  });
}

test('without clipNorm the step is the unscaled SGD step even for a large gradient, and lastGradNorm is not computed', () => {
  const spec = SPECS[0]!;
  const probe = Model.compile(spec, { batch: BATCH, kernels: 'wasm', seed: 7 });
  const { x, y } = batchFor(probe, 5);
  const { grad } = gradientOf(spec, x, y);
  const model = Model.compile(spec, { batch: BATCH, kernels: 'wasm', optimizer: { kind: 'sgd' }, seed: 7 });
  const { params, count } = model.runs;
  const before = Float64Array.from(model.kernels.data.subarray(params, params + count));
  const trainer = new Trainer(model, { lr: 0.1 });
  trainer.step(x, y);
  assert.equal(trainer.lastGradNorm, 0);
  const after = model.kernels.data.subarray(params, params + count);
  for (let i = 0; i < count; i++) assert.ok(Math.abs(after[i]! - (before[i]! - 0.1 * grad[i]!)) <= 1e-6, `param ${i}`);
});
