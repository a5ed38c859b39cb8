/**
 * 1-D convolution layers written with ops whose gradients every backend has (slice, reshape, concat,
 * transpose, matMul): tfjs-wasm 4.22 has no `Conv2DBackpropFilter`, so its conv weight gradients throw
 * (engines.md §2). Layout follows PyTorch: activations [batch, channels, length], Conv1d weights
 * [out, in, kernel], ConvTranspose1d weights [in, out, kernel], so saved tensors read like torch's.
 */
import { ModelevoError } from '../../../src/core/errors.js';
import { tf } from './tf.js';
import { matMul } from './matmul.js';

export interface Conv1dOptions {
  readonly stride: number;
  readonly padding: number;
}

/** Output length of a Conv1d (PyTorch formula, dilation 1). */
export function conv1dOutputLength(length: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((length + 2 * padding - kernel) / stride) + 1;
}

/** Output length of a ConvTranspose1d with output padding. */
export function convTranspose1dOutputLength(length: number, kernel: number, stride: number, padding: number, outputPadding: number): number {
  return (length - 1) * stride - 2 * padding + kernel + outputPadding;
}

/**
 * Conv1d as im2col + matMul. x: [B, Cin, L], weight: [Cout, Cin, K], bias: [Cout] → [B, Cout, Lout].
 * A stride-s tap is a contiguous slice of length s·Lout reshaped to [.., Lout, s] keeping column 0, so no
 * strided-slice gradient is needed.
 */
export function conv1d(x: tf.Tensor3D, weight: tf.Tensor3D, bias: tf.Tensor1D | undefined, options: Conv1dOptions): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, inChannels, length] = x.shape;
    const [outChannels, weightIn, kernel] = weight.shape;
    if (weightIn !== inChannels) throw new ModelevoError('SHAPE_MISMATCH', `conv1d: expected an input with ${weightIn} channels (the weight's), got ${inChannels}`, { hint: 'the layer before must output as many channels as this layer takes in', details: { weightIn, inChannels } });
    const { stride, padding } = options;
    const outLength = conv1dOutputLength(length, kernel, stride, padding);
    if (outLength < 1) throw new ModelevoError('SHAPE_MISMATCH', `conv1d: expected an input long enough for kernel ${kernel} with padding ${padding} and stride ${stride}, got length ${length}`, { hint: 'use a longer window or a smaller kernel / stride', details: { length, kernel, padding, stride } });
    // pad enough on the right that every tap can take stride·outLength elements
    const needed = (kernel - 1) + stride * outLength;
    const rightPad = Math.max(0, needed - (length + padding));
    const padded = padding > 0 || rightPad > 0 ? tf.pad(x, [[0, 0], [0, 0], [padding, rightPad]]) : x;
    const taps: tf.Tensor3D[] = [];
    for (let k = 0; k < kernel; k++) {
      let tap = tf.slice(padded, [0, 0, k], [batch, inChannels, stride * outLength]) as tf.Tensor3D;
      if (stride > 1) {
        tap = tf.reshape(tf.slice(tf.reshape(tap, [batch, inChannels, outLength, stride]), [0, 0, 0, 0], [batch, inChannels, outLength, 1]), [batch, inChannels, outLength]);
      }
      taps.push(tap);
    }
    // columns [B, Cin, K, Lout] ordered (ci, k) to match the weight's flattening
    const columns = tf.stack(taps, 2) as tf.Tensor4D;
    const rows = tf.reshape(tf.transpose(columns, [0, 3, 1, 2]), [batch * outLength, inChannels * kernel]);
    const flatWeight = tf.reshape(weight, [outChannels, inChannels * kernel]);
    let out = matMul(rows as tf.Tensor2D, flatWeight as tf.Tensor2D, false, true);
    if (bias) out = tf.add(out, bias);
    return tf.transpose(tf.reshape(out, [batch, outLength, outChannels]), [0, 2, 1]) as tf.Tensor3D;
  });
}

/**
 * ConvTranspose1d as a stride-1 Conv1d over the zero-dilated input with the flipped, transposed kernel.
 * x: [B, Cin, L], weight: [Cin, Cout, K] → [B, Cout, (L−1)s − 2p + K + outputPadding]; requires p ≤ K − 1.
 */
export function convTranspose1d(
  x: tf.Tensor3D,
  weight: tf.Tensor3D,
  bias: tf.Tensor1D | undefined,
  options: Conv1dOptions & { readonly outputPadding: number },
): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, inChannels, length] = x.shape;
    const [weightIn, , kernel] = weight.shape;
    if (weightIn !== inChannels) throw new ModelevoError('SHAPE_MISMATCH', `convTranspose1d: expected an input with ${weightIn} channels (the weight's), got ${inChannels}`, { hint: 'the layer before must output as many channels as this layer takes in', details: { weightIn, inChannels } });
    const { stride, padding, outputPadding } = options;
    if (padding > kernel - 1) throw new ModelevoError('CONFIG_INVALID', `convTranspose1d: expected padding ≤ kernel − 1 = ${kernel - 1}, got ${padding}`, { hint: 'lower the padding or widen the kernel', details: { padding, kernel } });
    let dilated: tf.Tensor3D = x;
    if (stride > 1) {
      const zeros = tf.zeros([batch, inChannels, length, stride - 1]);
      const interleaved = tf.reshape(tf.concat([tf.expandDims(x, 3), zeros], 3), [batch, inChannels, length * stride]);
      dilated = tf.slice(interleaved, [0, 0, 0], [batch, inChannels, (length - 1) * stride + 1]) as tf.Tensor3D;
    }
    const edge = kernel - 1 - padding;
    const padded = tf.pad(dilated, [[0, 0], [0, 0], [edge, edge + outputPadding]]) as tf.Tensor3D;
    const flipped = tf.transpose(tf.reverse(weight, 2), [1, 0, 2]) as tf.Tensor3D;
    return conv1d(padded, flipped, bias, { stride: 1, padding: 0 });
  });
}

/**
 * BatchNorm1d over [B, C, L] with batch statistics (biased variance, as torch normalises in training).
 * Returns the normalised output and the batch mean/variance for the running averages.
 */
export function batchNorm1dTrain(
  x: tf.Tensor3D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = 1e-5,
): { output: tf.Tensor3D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const moments = tf.moments(x, [0, 2]);
  const output = normalise(x, moments.mean as tf.Tensor1D, moments.variance as tf.Tensor1D, gamma, beta, epsilon);
  return { output, mean: moments.mean as tf.Tensor1D, variance: moments.variance as tf.Tensor1D };
}

/** BatchNorm1d with fixed (running) statistics, for scoring. */
export function batchNorm1dEval(
  x: tf.Tensor3D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = 1e-5,
): tf.Tensor3D {
  return normalise(x, mean, variance, gamma, beta, epsilon);
}

function normalise(x: tf.Tensor3D, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): tf.Tensor3D {
  return tf.tidy(() => {
    const channels = x.shape[1];
    const scale = tf.reshape(tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon))), [1, channels, 1]);
    const shift = tf.reshape(beta, [1, channels, 1]);
    return tf.add(tf.mul(tf.sub(x, tf.reshape(mean, [1, channels, 1])), scale), shift) as tf.Tensor3D;
  });
}

/** Fully connected layer: x [B, in], weight [out, in] (torch layout), bias [out]. */
export function dense(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.add(matMul(x, weight, false, true), bias) as tf.Tensor2D);
}
