import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from './tf.js';
import { matMul } from './matmul.js';

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

test('matMul equals tf.matMul with the same flags in value and in both gradients', async () => {
  await useBackend('wasm');
  for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const a = tf.randomNormal([transposeA ? 5 : 3, transposeA ? 3 : 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomNormal([transposeB ? 4 : 5, transposeB ? 5 : 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const weights = tf.randomNormal([3, 4], 0, 1, 'float32', 3);
    const loss = (f: typeof matMul) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB), weights));
    const ours = tf.grads(loss(matMul));
    const reference = tf.grads(loss((x, y, ta, tb) => tf.matMul(x, y, ta, tb)));
    assert.ok(maxAbsDiff(matMul(a, b, transposeA, transposeB), tf.matMul(a, b, transposeA, transposeB)) < 1e-5);
    const [gaOurs, gbOurs] = ours([a, b]);
    const [gaRef, gbRef] = reference([a, b]);
    assert.deepEqual(gaOurs!.shape, a.shape);
    assert.deepEqual(gbOurs!.shape, b.shape);
    assert.ok(maxAbsDiff(gaOurs!, gaRef!) < 1e-5, `dA with flags ${transposeA}/${transposeB}`);
    assert.ok(maxAbsDiff(gbOurs!, gbRef!) < 1e-5, `dB with flags ${transposeA}/${transposeB}`);
    // the gradient is not trivially zero
    assert.ok(tf.max(tf.abs(gaOurs!)).dataSync()[0]! > 0.1);
  }
});
