/**
 * 2-D matMul whose forward and backward passes use only plain (non-transposed) matMuls.
 * tfjs-wasm 4.22 runs `matMul` with transposeA/transposeB 10–20× slower than a plain matMul of the same size
 * (207×207 by 207×1536: 3.7 ms plain, 79 ms transposeA, 39 ms transposeB), and tfjs's own matMul gradient
 * uses exactly those flags, so every backward pass through a dense layer paid it. Explicit transposes cost
 * a copy and keep the product on the fast path. Measured in BENCHMARKS.md ("train").
 */
import { tf } from './tf.js';

const plainProduct = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedA, savedB] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(savedB)), tf.matMul(tf.transpose(savedA), dy as tf.Tensor2D)];
    },
  };
});

/** a·b, or a·bᵀ / aᵀ·b with the flags, for 2-D tensors; gradients flow to both operands. */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  const left = transposeA ? tf.transpose(a) : a;
  const right = transposeB ? tf.transpose(b) : b;
  return plainProduct(left, right) as tf.Tensor2D;
}
