/**
 * The continual-learning strategy interface (fs-dgpm.md §3) and the pieces strategies share: batches, the
 * SGD step with an optional gradient plug-in, and representation collection after a task.
 *
 * A gradient plug-in is a function from the step's gradients to new gradients; the step applies what it
 * returns, so a plug-in never reaches into the trainer's weights or optimiser.
 */
import type { Matrix } from 'ml-matrix';
import { createRng } from '../core/rng.js';
import { tf } from '../train/tf.js';
import type { ContinualTask, TaskStream } from '../tasks/fashion-mnist/streams.js';
import type { ContinualConfig, ContinualMethod } from './config.js';
import { classMask, collectLayerInputs, maskedCrossEntropy, mlpForward, oneHot } from './mlp.js';
import { denseRepresentation } from './representation.js';

/** One minibatch as plain arrays: rows of x, labels, and each row's additive logit mask. */
export interface TrainBatch {
  x: Float32Array;
  y: Int32Array;
  mask: Float32Array;
  n: number;
  taskId: number;
}

export interface StrategyContext {
  config: ContinualConfig;
  stream: TaskStream;
  weights: tf.Variable<tf.Rank.R2>[];
  /** layers whose gradients are projected (all, or all but a task-incremental head) */
  protectedLayers: readonly number[];
  taskId: number;
  epoch: number;
}

export interface ContinualStrategy {
  readonly name: ContinualMethod;
  beginTask(ctx: StrategyContext): void;
  /** one update on `batch`; returns the loss it minimised */
  trainStep(batch: TrainBatch, ctx: StrategyContext): number;
  endTask(task: ContinualTask, ctx: StrategyContext): void;
  /** stored bases per layer (0 for unprotected layers), for reports */
  basisSizes(): number[];
  /** Λ per layer (empty for layers without bases; GPM's are all 1) */
  importances(): number[][];
  /** the stored bases per layer (input dim × rank), for inspection */
  bases(): (Matrix | null)[];
  dispose(): void;
}

export type GradientPlugin = (gradients: readonly tf.Tensor2D[]) => tf.Tensor2D[];

export interface BatchTensors {
  x: tf.Tensor2D;
  labels: tf.Tensor2D;
  mask: tf.Tensor2D;
}

export function batchTensors(batch: TrainBatch, numClasses: number): BatchTensors {
  const dim = batch.x.length / batch.n;
  return {
    x: tf.tensor2d(batch.x, [batch.n, dim]),
    labels: tf.tensor2d(oneHot(batch.y, numClasses), [batch.n, numClasses]),
    mask: tf.tensor2d(batch.mask, [batch.n, numClasses]),
  };
}

export function disposeBatch(t: BatchTensors): void {
  t.x.dispose();
  t.labels.dispose();
  t.mask.dispose();
}

/** Loss of the MLP with `weights` (possibly perturbed tensors, not variables) on a batch. */
export function batchLoss(weights: readonly tf.Tensor2D[], t: BatchTensors): tf.Scalar {
  return maskedCrossEntropy(mlpForward(weights, t.x).logits, t.labels, t.mask);
}

/** Plain SGD: w ← w − lr·plugin(∇w). */
export function sgdStep(weights: tf.Variable<tf.Rank.R2>[], batch: TrainBatch, lr: number, numClasses: number, plugin?: GradientPlugin): number {
  const tensors = batchTensors(batch, numClasses);
  const { value, grads } = tf.variableGrads(() => batchLoss(weights, tensors), weights);
  const ordered = weights.map((w) => grads[w.name] as tf.Tensor2D);
  const applied = plugin ? plugin(ordered) : ordered;
  weights.forEach((w, l) => {
    const next: tf.Tensor2D = tf.tidy(() => tf.sub(w, tf.mul(applied[l]!, lr)));
    w.assign(next);
    next.dispose(); // the variable keeps the data; this drops the extra handle
  });
  const loss = value.dataSync()[0]!;
  value.dispose();
  if (plugin) applied.forEach((g) => g.dispose());
  Object.values(grads).forEach((g) => g.dispose());
  disposeBatch(tensors);
  return loss;
}

/** Rows `indices` of a task's training set as a batch with that task's mask. */
export function taskBatch(task: ContinualTask, indices: ArrayLike<number>, numClasses: number): TrainBatch {
  const dim = task.train.x.length / task.train.n;
  const x = new Float32Array(indices.length * dim);
  const y = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const row = indices[r]!;
    x.set(task.train.x.subarray(row * dim, (row + 1) * dim), r * dim);
    y[r] = task.train.y[row]!;
  }
  return { x, y, mask: classMask(task.classes, numClasses, indices.length), n: indices.length, taskId: task.id };
}

/** Representation matrices (inputs × samples) of every layer for `n` rows of x. */
export function layerRepresentations(weights: readonly tf.Tensor2D[], x: Float32Array, n: number): Matrix[] {
  const inputs = collectLayerInputs(weights, x, n);
  return inputs.map((rows, l) => denseRepresentation(rows, n, weights[l]!.shape[1]));
}

/** GPM's sample: `count` seeded rows of the task's training data (fs-dgpm.md §1.1). */
export function taskRepresentations(weights: readonly tf.Tensor2D[], task: ContinualTask, count: number, seed: number): Matrix[] {
  const rng = createRng(seed, 'representation', task.id);
  const n = Math.min(count, task.train.n);
  const order = Int32Array.from({ length: task.train.n }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(task.train.n - i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const batch = taskBatch(task, order.subarray(0, n), 1);
  return layerRepresentations(weights, batch.x, n);
}
