import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { classMask, ContinualMlp } from './mlp.js';

test('a loss at given weights on a batch of the training size leaves the current weights alone (the step applies to them)', () => {
  const sizes = [6, 100, 100, 3];
  const rng = createRng('mlp-probe');
  const batch = { x: Float32Array.from({ length: 10 * 6 }, () => rng.next()), y: Int32Array.from({ length: 10 }, (_, i) => i % 3), mask: classMask(null, 3, 10), n: 10 };
  const net = new ContinualMlp(sizes, 1, { batch: 10 });
  const twin = new ContinualMlp(sizes, 1, { batch: 10 });
  const w = net.flatWeights();
  const perturbed = Float32Array.from(w, (v) => v + 0.01);
  const atPerturbed = Float32Array.from(net.lossAndGradients(batch, perturbed).grads);
  assert.deepEqual(net.flatWeights(), w);
  // the gradient is the one at the perturbed weights, not at w
  assert.notDeepEqual(Float32Array.from(twin.lossAndGradients(batch).grads), atPerturbed);
  // a step from w with that gradient: w − 0.5·g, exactly as on a net that never evaluated the perturbed weights
  net.step(0.5, atPerturbed);
  twin.step(0.5, atPerturbed);
  assert.deepEqual(net.flatWeights(), twin.flatWeights());
  assert.deepEqual(net.flatWeights(), Float32Array.from(w, (v, i) => v - 0.5 * atPerturbed[i]!));
});
