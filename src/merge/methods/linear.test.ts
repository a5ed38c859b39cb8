import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelevoError } from '../../core/errors.js';
import { assertCloseToReference, makeMergeInput, readFixtureTensor } from '../test-support.js';
import { linear } from './linear.js';

/** Independent float64 reference: Σ w_i X_i (/ Σ w_i). */
function referenceLinear(models: ArrayLike<number>[], weights: number[], normalize: boolean): number[] {
  const out: number[] = [];
  const total = weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < models[0]!.length; j++) {
    let s = 0;
    for (let i = 0; i < models.length; i++) s += weights[i]! * models[i]![j]!;
    out.push(normalize ? s / total : s);
  }
  return out;
}

const a = Float32Array.from([1.5, -2.25, 3e-3, 7, 0]);
const b = Float32Array.from([0.1, 0.2, -0.3, 1e5, -4]);
const c = Float32Array.from([-9, 8.5, 0.125, -6, 1e-7]);

function run(weights: number[], normalize = true, models = [a, b, c]) {
  return linear.mergeTensor(
    makeMergeInput(linear, { models, modelParams: weights.map((weight) => ({ weight })), params: { normalize } }),
  );
}

describe('linear (§3.1)', () => {
  test('one-hot weights return that model exactly, with and without normalize', () => {
    for (const normalize of [true, false]) {
      assert.deepEqual(Array.from(run([0, 1, 0], normalize)), Array.from(b));
      assert.deepEqual(Array.from(run([0, 0, 1], normalize)), Array.from(c));
    }
  });

  test('scaling every weight by c > 0 with normalize changes nothing', () => {
    const reference = run([0.2, 0.5, 0.3]);
    assert.deepEqual(Array.from(run([0.4, 1, 0.6])), Array.from(reference)); // power of two: exact
    assertCloseToReference(run([0.2 * 3.7, 0.5 * 3.7, 0.3 * 3.7]), reference, 1e-7, 'c = 3.7');
  });

  test('uniform weights give the arithmetic mean; normalize false gives the plain weighted sum', () => {
    const mean = Array.from(a, (_, j) => (a[j]! + b[j]! + c[j]!) / 3);
    assertCloseToReference(run([1, 1, 1]), mean, 1e-7);
    assertCloseToReference(run([2, -1, 0.5], false), referenceLinear([a, b, c], [2, -1, 0.5], false), 1e-7);
  });

  test('zero weight sum with normalize is VALUE_INVALID naming the tensor (P8)', () => {
    assert.throws(
      () => run([1, -0.5, -0.5]),
      (error: unknown) =>
        error instanceof ModelevoError &&
        error.code === 'VALUE_INVALID' &&
        error.message.includes("'test.weight'") &&
        /normalize: false/.test(error.hint ?? ''),
    );
    assert.deepEqual(Array.from(run([1, -0.5, -0.5], false)), referenceLinear([a, b, c], [1, -0.5, -0.5], false).map(Math.fround));
  });

  test('golden: tiny-llama experts, q_proj and a norm weight, against the float64 reference', () => {
    for (const name of ['model.layers.1.self_attn.q_proj.weight', 'model.layers.3.post_attention_layernorm.weight']) {
      const experts = ['expert-literature', 'expert-code', 'expert-math'].map((m) => readFixtureTensor(m, name));
      const weights = [0.5, 0.3, 0.2];
      const out = linear.mergeTensor(
        makeMergeInput(linear, {
          models: experts.map((e) => e.data),
          shape: experts[0]!.shape,
          tensorName: name,
          modelParams: weights.map((weight) => ({ weight })),
        }),
      );
      assertCloseToReference(out, referenceLinear(experts.map((e) => e.data), weights, true), 1e-6, name);
    }
  });
});
