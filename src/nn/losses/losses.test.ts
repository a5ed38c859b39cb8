/**
 * Losses: golden values computed by hand, and gradients against central finite differences (float64) through
 * a linear layer on random shapes including batch 1 (the loss conformance suite, every registered loss).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LOSSES, type LossSpec } from './registry.js';
import { createReferenceKernels } from '../kernels/reference/index.js';
import { compileFloat64, gradCheck, randomFill } from '../testing/grad-check.js';
import { lossShare } from '../data-parallel.js';

test('softmax cross-entropy, MSE and masked MAE equal hand-computed values', () => {
  const k = createReferenceKernels(64, 'float64');
  const d = k.data;
  // logits [[1, 2, 3], [0, 0, 0]], labels [2, 0]: (log(e + e² + e³) − 3 + log 3) / 2
  d.set([1, 2, 3, 0, 0, 0, 2, 0], 0);
  const ce = k.softmaxCrossEntropy(0, 6, 2, 3, 10);
  assert.ok(Math.abs(ce - (Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3 + Math.log(3)) / 2) < 1e-12);
  // gradient row 2 = (softmax − onehot)/2 = ([1/3, 1/3, 1/3] − [1, 0, 0]) / 2
  assert.deepEqual(Array.from(d.subarray(13, 16)).map((x) => Math.round(x * 1e12) / 1e12), [-1 / 3, 1 / 6, 1 / 6].map((x) => Math.round(x * 1e12) / 1e12));
  d.set([1, 2, 3, 1, 0, 5], 20);
  assert.ok(Math.abs(k.meanSquaredError(20, 23, 3, 30) - (0 + 4 + 4) / 3) < 1e-12);
  // targets 1, 0 (missing), 5 against predictions 1, 2, 3: (0 + 2) / 2, the missing one has no gradient
  assert.equal(k.maskedMeanAbsoluteError(20, 23, 3, 0, 30), 1);
  assert.deepEqual(Array.from(d.subarray(30, 33)), [0, 0, -0.5]);
  d.fill(0, 23, 26);
  assert.equal(k.maskedMeanAbsoluteError(20, 23, 3, 0, 30), 0);
});

test('mae: the mean of |p − t| over every element, zeros included, with gradient sign(p − t)/n', () => {
  const model = compileFloat64({ inputShape: [3], layers: [{ kind: 'activation', fn: 'identity' }], loss: { kind: 'mae' } }, 1, 0);
  model.view(model.input).set([1, 2, 3]);
  model.view(model.target).set([0, 2, 5]);
  model.forward(true);
  // (|1 − 0| + 0 + |3 − 5|) / 3; the zero target is not masked
  assert.equal(model.loss(), 1);
  model.backward();
  assert.deepEqual(Array.from(model.view(model.inputGrad!)), [1 / 3, 0, -1 / 3]);
});

test('mae: the data-parallel share of the first rows weights the two halves back to the whole batch mean', () => {
  const [pred, target] = [[1, 2, 3, 4, 5], [0, 2, 5, 1, 1]];
  const mean = (from: number, to: number): number => pred.slice(from, to).reduce((s, p, i) => s + Math.abs(p - target[from + i]!), 0) / (to - from);
  const w0 = lossShare({ kind: 'mae' }, target, 2);
  assert.equal(w0, 2 / 5);
  assert.ok(Math.abs(w0 * mean(0, 2) + (1 - w0) * mean(2, 5) - mean(0, 5)) < 1e-12);
});

const CASES: { readonly [K in LossSpec['kind']]: { spec: LossSpec; target: (classes: number) => (rng: { next(): number; int(n: number): number }, i: number) => number } } = {
  softmax_cross_entropy: { spec: { kind: 'softmax_cross_entropy' }, target: (classes) => (rng) => rng.int(classes) },
  mse: { spec: { kind: 'mse' }, target: () => (rng) => 2 * rng.next() - 1 },
  // a quarter of the targets missing (exactly the null value 0)
  masked_mae: { spec: { kind: 'masked_mae', nullValue: 0 }, target: () => (rng) => (rng.next() < 0.25 ? 0 : 2 * rng.next() - 1) },
  mae: { spec: { kind: 'mae' }, target: () => (rng) => 2 * rng.next() - 1 },
};

for (const kind of Object.keys(LOSSES) as LossSpec['kind'][]) {
  test(`${kind}: gradients through a linear layer match central finite differences`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom(1, 2, 5), fc.nat(1e6), (inF, classes, batch, seed) => {
        const model = compileFloat64({ inputShape: [inF], layers: [{ kind: 'linear', units: classes }], loss: CASES[kind].spec }, batch, seed);
        randomFill(model, seed, CASES[kind].target(classes));
        const result = gradCheck(model);
        assert.ok(result.worst < 1e-6, `${kind} in ${inF} classes ${classes} batch ${batch}: ${result.where}`);
      }),
      { numRuns: 25 },
    );
  });
}
