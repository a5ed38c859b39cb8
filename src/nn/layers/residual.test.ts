/**
 * Residual and reshape layers against hand-computed values (the conformance suite checks their gradients):
 * y = x + W·x + b for a linear body, the identity of reshape, and a block whose body changes the shape fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../model.js';
import { createReferenceKernels } from '../kernels/reference/index.js';
import { ModelevoError } from '../../core/errors.js';

const float64 = (floats: number) => createReferenceKernels(floats, 'float64');

test('residual: y = x + W·x + b; reshape keeps the row-major order', () => {
  const model = Model.compile(
    { inputShape: [2], layers: [{ kind: 'residual', layers: [{ kind: 'linear', units: 2 }] }, { kind: 'reshape', shape: [2, 1] }], loss: { kind: 'mse' } },
    { batch: 1, kernels: float64 },
  );
  model.param('0.residual.0.linear.weight').set([1, 2, 3, 4]);
  model.param('0.residual.0.linear.bias').set([0.5, -1]);
  model.view(model.input).set([1, -1]);
  model.forward(false);
  // W·x + b = [1 − 2 + 0.5, 3 − 4 − 1] = [−0.5, −2]; plus x = [0.5, −3]
  assert.deepEqual(Array.from(model.view(model.output)), [0.5, -3]);
  assert.deepEqual(model.output.shape, [1, 2, 1]);
});

test('residual: a body that changes the example shape is rejected with SHAPE_MISMATCH', () => {
  assert.throws(
    () => Model.compile({ inputShape: [3], layers: [{ kind: 'residual', layers: [{ kind: 'linear', units: 2 }] }], loss: { kind: 'mse' } }, { batch: 1, kernels: float64 }),
    (error: unknown) => error instanceof ModelevoError && error.code === 'SHAPE_MISMATCH',
  );
  assert.throws(
    () => Model.compile({ inputShape: [3], layers: [{ kind: 'reshape', shape: [2, 2] }], loss: { kind: 'mse' } }, { batch: 1, kernels: float64 }),
    (error: unknown) => error instanceof ModelevoError && error.code === 'SHAPE_MISMATCH',
  );
});
