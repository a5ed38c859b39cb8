/**
 * The spec's MLP for (permuted) Fashion-MNIST: 784-100-100-10, ReLU, no biases (GPM's PMNIST network,
 * fs-dgpm.md §1.1), weights stored [out, in] so projections multiply gradients on the right. A task-incremental
 * head is the same 10 logits with an additive mask (−1e9 on classes the task may not predict).
 */
import { createRng } from '../core/rng.js';
import { tf } from '../train/tf.js';
import { matMul } from '../train/matmul.js';
import type { LabelledSet } from '../tasks/fashion-mnist/streams.js';

export const MLP_HIDDEN = [100, 100] as const;
const MASKED_LOGIT = -1e9;

/** PyTorch nn.Linear's default scale, U(±1/√fan_in), from a seeded stream per layer. */
export function initMlpWeights(sizes: readonly number[], seed: number): tf.Variable<tf.Rank.R2>[] {
  const weights: tf.Variable<tf.Rank.R2>[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l]!;
    const fanOut = sizes[l + 1]!;
    const rng = createRng(seed, 'mlp-init', l);
    const bound = 1 / Math.sqrt(fanIn);
    const values = Float32Array.from({ length: fanOut * fanIn }, () => (2 * rng.next() - 1) * bound);
    // unnamed: tfjs gives unique names, so several runs can live in one process
    const initial = tf.tensor2d(values, [fanOut, fanIn]);
    weights.push(tf.variable(initial, true));
    initial.dispose();
  }
  return weights;
}

export interface MlpForward {
  logits: tf.Tensor2D;
  /** the input of every layer (x, h1, h2, ...): the representations GPM needs */
  inputs: tf.Tensor2D[];
}

export function mlpForward(weights: readonly tf.Tensor2D[], x: tf.Tensor2D): MlpForward {
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

/** Additive logit mask for `rows` samples whose allowed classes are `classes` (null = all). */
export function classMask(classes: readonly number[] | null, numClasses: number, rows: number): Float32Array {
  const mask = new Float32Array(rows * numClasses);
  if (classes === null) return mask;
  for (let r = 0; r < rows; r++) for (let c = 0; c < numClasses; c++) if (!classes.includes(c)) mask[r * numClasses + c] = MASKED_LOGIT;
  return mask;
}

export function oneHot(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  for (let r = 0; r < labels.length; r++) out[r * numClasses + labels[r]!] = 1;
  return out;
}

/** Fraction of `set` classified correctly, predictions restricted to `classes`. */
export function evaluateAccuracy(weights: readonly tf.Tensor2D[], set: LabelledSet, classes: readonly number[] | null, numClasses: number, chunk = 1000): number {
  if (set.n === 0) return NaN;
  const dim = set.x.length / set.n;
  let correct = 0;
  for (let start = 0; start < set.n; start += chunk) {
    const rows = Math.min(chunk, set.n - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor2d(set.x.subarray(start * dim, (start + rows) * dim), [rows, dim]);
      const logits = mlpForward(weights, x).logits;
      return tf.argMax(tf.add(logits, tf.tensor2d(classMask(classes, numClasses, rows), [rows, numClasses])), 1);
    });
    const labels = predicted.dataSync();
    predicted.dispose();
    for (let r = 0; r < rows; r++) if (labels[r] === set.y[start + r]) correct++;
  }
  return correct / set.n;
}

/** Every layer's inputs for `n` rows of `x` (row-major), as typed arrays, layer by layer. */
export function collectLayerInputs(weights: readonly tf.Tensor2D[], x: Float32Array, n: number): Float32Array[] {
  const dim = x.length / n;
  const tensors = tf.tidy(() => mlpForward(weights, tf.tensor2d(x, [n, dim])).inputs);
  const arrays = tensors.map((t) => t.dataSync() as Float32Array);
  tensors.forEach((t) => t.dispose());
  return arrays;
}
