/**
 * The continual MLP as src/continual trained it with tfjs before the engine port (issue #22): forward, masked
 * cross-entropy and seeded variables. Kept only as the previous implementation the engine is compared
 * against (test/nn/tfjs-gradients.test.ts, bench/nn-train.ts); src/continual no longer imports tfjs.
 */
import { tf } from './tfjs/tf.js';
import { matMul } from './tfjs/matmul.js';
import { initMlpWeights } from '../../src/continual/mlp.js';

export { classMask } from '../../src/continual/mlp.js';

/** The same seeded U(±1/√fan_in) weights as the engine run starts from, as trainable tfjs variables. */
export function initTfMlpWeights(sizes: readonly number[], seed: number): tf.Variable<tf.Rank.R2>[] {
  return initMlpWeights(sizes, seed).map((values, l) => {
    // unnamed: tfjs gives unique names, so several runs can live in one process
    const initial = tf.tensor2d(values, [sizes[l + 1]!, sizes[l]!]);
    const variable = tf.variable(initial, true);
    initial.dispose();
    return variable;
  });
}

export function mlpForward(weights: readonly tf.Tensor2D[], x: tf.Tensor2D): { logits: tf.Tensor2D; inputs: tf.Tensor2D[] } {
  const inputs: tf.Tensor2D[] = [];
  let h = x;
  weights.forEach((w, l) => {
    inputs.push(h);
    const z: tf.Tensor2D = matMul(h, w, false, true);
    h = l + 1 < weights.length ? (tf.relu(z) as tf.Tensor2D) : z;
  });
  return { logits: h, inputs };
}

/** Mean softmax cross-entropy over logits + mask. */
export function maskedCrossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(tf.add(logits, mask))), 1))) as tf.Scalar);
}
