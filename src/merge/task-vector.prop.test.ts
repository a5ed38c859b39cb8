import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MergeMethod, ParamValue } from './method.js';
import { breadcrumbsTies } from './methods/breadcrumbs-ties.js';
import { dareLinear } from './methods/dare-linear.js';
import { dareTies } from './methods/dare-ties.js';
import { della } from './methods/della.js';
import { dellaLinear } from './methods/della-linear.js';
import { taskArithmetic } from './methods/task-arithmetic.js';
import { ties } from './methods/ties.js';
import { breadcrumbsBand, sparsify } from './sparsify.js';
import { makeMergeInput } from './test-support.js';
import { counterStream } from '../core/counter-rng.js';

const value = fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true });
/** multiples of 1/64: with dyadic weights every product and sum is exact, so no rounding depends on order */
const dyadic = fc.integer({ min: -256, max: 256 }).map((i) => i / 64);
/** magnitudes drawn from a small set so equal |δ| (and ±0) occur often */
const tiedValue = fc.constantFrom(0, -0, 0.5, -0.5, 1, -1, 0.25, 2);

function tensors(count: number, element = value) {
  return fc.integer({ min: 1, max: 64 }).chain((n) => fc.array(fc.array(element, { minLength: n, maxLength: n }), { minLength: count + 1, maxLength: count + 1 }));
}

function run(method: MergeMethod, base: number[], models: number[][], modelParams: Record<string, ParamValue>[], params: Record<string, ParamValue> = {}, refs?: string[]) {
  const input = makeMergeInput(method, { base, models, modelParams, params, modelRefs: refs, seed: 3 });
  return { out: method.mergeTensor(input), warnings: input.warnings };
}

test('task_arithmetic: one model, weight 1, λ 1 → that model (to float32 rounding of X − B); λ 0 → the base exactly', () => {
  fc.assert(
    fc.property(tensors(1), ([base, model]) => {
      const { out } = run(taskArithmetic, base!, [model!], [{ weight: 1 }]);
      out.forEach((v, j) => assert.ok(Math.abs(v - Math.fround(model![j]!)) <= 2 ** -22 * Math.max(Math.abs(base![j]!), Math.abs(model![j]!))));
      // numerically equal (a −0 base entry may come back as +0: −0 + 0 = +0)
      const unchanged = run(taskArithmetic, base!, [model!], [{ weight: 1 }], { lambda: 0 }).out;
      unchanged.forEach((v, j) => assert.ok(v === Math.fround(base![j]!)));
    }),
  );
});

test('ties with one model at density 1 equals task_arithmetic with the same weight and normalize', () => {
  fc.assert(
    fc.property(tensors(1), fc.double({ min: -2, max: 2, noNaN: true }), fc.boolean(), ([base, model], weight, normalize) => {
      const params = { normalize };
      assert.deepEqual(run(ties, base!, [model!], [{ weight, density: 1 }], params).out, run(taskArithmetic, base!, [model!], [{ weight }], params).out);
    }),
  );
});

test('ties at density 1 with unit weights and disjoint supports equals task_arithmetic (normalize false)', () => {
  fc.assert(
    fc.property(tensors(3), ([base, ...offsets]) => {
      const models = offsets.map((offset, i) => base!.map((b, j) => (j % 3 === i ? b + offset[j]! : b)));
      const modelParams = models.map(() => ({ weight: 1, density: 1 }));
      const params = { normalize: false };
      assert.deepEqual(run(ties, base!, models, modelParams, params).out, run(taskArithmetic, base!, models, modelParams, params).out);
    }),
  );
});

test('dare_linear / dare_ties / della_* at density 1 equal task_arithmetic / ties', () => {
  fc.assert(
    fc.property(tensors(2), fc.boolean(), ([base, ...models], normalize) => {
      const modelParams = [{ weight: 0.7, density: 1 }, { weight: 1.3, density: 1 }];
      const params = { normalize };
      const linear = run(taskArithmetic, base!, models, modelParams, params).out;
      const consensus = run(ties, base!, models, modelParams, params).out;
      assert.deepEqual(run(dareLinear, base!, models, modelParams, params).out, linear);
      assert.deepEqual(run(dellaLinear, base!, models, modelParams, params).out, linear);
      assert.deepEqual(run(dareTies, base!, models, modelParams, params).out, consensus);
      assert.deepEqual(run(della, base!, models, modelParams, params).out, consensus);
    }),
  );
});

test('order invariance: permuting models with their parameters and refs (streams keyed by ref) keeps the output exactly', () => {
  // Dyadic inputs and weights make every float64 sum exact, so the check is bit-exact; with general floats
  // the elected sign of a sum that cancels to within rounding can depend on summation order.
  fc.assert(
    fc.property(tensors(3, fc.oneof(dyadic, tiedValue)), fc.constantFrom(ties, dareTies, dareLinear, della, breadcrumbsTies), ([base, ...models], method) => {
      const refs = ['a', 'b', 'c'];
      const modelParams = [
        { weight: 1, density: 0.4 },
        { weight: 0.5, density: 0.6 },
        { weight: 0.75, density: 0.5 },
      ];
      const order = [2, 0, 1];
      const first = run(method, base!, models, modelParams, { rescale: false }, refs).out;
      const permuted = run(method, base!, order.map((i) => models[i]!), order.map((i) => modelParams[i]!), { rescale: false }, order.map((i) => refs[i]!)).out;
      assert.deepEqual(permuted, first, method.name);
    }),
    { numRuns: 100 },
  );
});

test('breadcrumbs band on heavily tied inputs matches the stable ascending-rank reference', () => {
  fc.assert(
    fc.property(
      fc.array(tiedValue, { minLength: 1, maxLength: 120 }),
      fc.double({ min: 0, max: 0.99, noNaN: true }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      (list, density, gamma) => {
        const delta = Float32Array.from(list);
        const kept = sparsify('magnitude_outliers', delta, { density, gamma, rescale: 'none', shape: [delta.length], tensorName: 't', modelRef: 'm' });
        const { nBottom, nTop } = breadcrumbsBand(delta.length, density, gamma);
        const order = Array.from(delta, (_, j) => j).sort((a, b) => Math.abs(delta[a]!) - Math.abs(delta[b]!) || a - b);
        order.forEach((j, rank) => assert.ok(Object.is(kept[j], rank >= nBottom && rank < delta.length - nTop ? delta[j] : 0) || (kept[j] === 0 && delta[j] === 0)));
      },
    ),
    { numRuns: 200 },
  );
});

test('l1 rescale: every random-sparsified task vector keeps the L1 norm of its unmasked delta', () => {
  fc.assert(
    fc.property(fc.array(value, { minLength: 20, maxLength: 200 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.nat(), (list, density, seed) => {
      const delta = Float32Array.from(list);
      const norm = (a: Float32Array) => a.reduce((s, x) => s + Math.abs(x), 0);
      const kept = sparsify('random', delta, { density, rescale: 'l1', shape: [delta.length], stream: counterStream(seed), tensorName: 't', modelRef: 'm' });
      if (norm(kept) < 1e-7 || norm(delta) < 1e-7) return; // rescale is skipped by definition
      assert.ok(Math.abs(norm(kept) - norm(delta)) <= 1e-6 * norm(delta));
    }),
  );
});

test('ties with k = 0 (density·N < 1) keeps nothing for that model and warns', () => {
  const { out, warnings } = run(ties, [0, 0, 0], [[1, 2, 3], [-1, 0, 0]], [{ weight: 1, density: 0.2 }, { weight: 1, density: 1 }]);
  assert.deepEqual([...out], [-1, 0, 0]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /model-0/);
});
