/**
 * The continual-learning strategy interface (fs-dgpm.md §3) and the pieces strategies share: batches, the
 * SGD step with an optional gradient plug-in, and representation collection after a task.
 *
 * A gradient plug-in is a pass over the step's flat gradient run (per layer views, between the engine's
 * backward and its optimiser step); it changes gradients in place and never touches weights or optimiser.
 */
import type { Matrix } from 'ml-matrix';
import { createRng } from '../core/rng.js';
import type { ArenaArray } from '../nn/kernels/kernels.js';
import type { ContinualTask, TaskStream } from '../tasks/fashion-mnist/streams.js';
import type { ContinualConfig, ContinualMethod } from './config.js';
import { classMask, type ContinualMlp } from './mlp.js';
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
  /** the network being trained (its weights, compiled engine models and optimiser) */
  net: ContinualMlp;
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

/** Called with each layer's live gradient view (out × in) after backward; edits them in place. */
export type GradientPlugin = (gradients: readonly ArenaArray[]) => void;

/** Live per-layer views of a flat gradient run. */
export function layerViews(net: ContinualMlp, flat: ArenaArray): ArenaArray[] {
  return net.layerOffsets.map((offset, l) => flat.subarray(offset, offset + net.layerSize(l)));
}

/** Plain SGD with the engine: w ← w − lr·plugin(∇w). */
export function sgdStep(net: ContinualMlp, batch: TrainBatch, lr: number, plugin?: GradientPlugin): number {
  const { loss, grads } = net.lossAndGradients(batch);
  if (plugin) plugin(layerViews(net, grads));
  net.step(lr, grads);
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
export function layerRepresentations(net: ContinualMlp, x: Float32Array, n: number): Matrix[] {
  return net.layerInputs(x, n).map((rows, l) => denseRepresentation(rows, n, net.sizes[l]!));
}

/** GPM's sample: `count` seeded rows of the task's training data (fs-dgpm.md §1.1). */
export function taskRepresentations(net: ContinualMlp, task: ContinualTask, count: number, seed: number): Matrix[] {
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
  return layerRepresentations(net, batch.x, n);
}
