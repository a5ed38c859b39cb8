/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf, arXiv:1708.07747) as continual-learning task streams
 * (fs-dgpm.md §4: modelevo's small-scale analogue of PMNIST).
 *
 * - `pfmnist` — Permuted Fashion-MNIST, domain-incremental: every task is the 10-way problem with its own
 *   fixed pixel permutation. **Task 0 is the identity** (the unpermuted images), tasks 1..T-1 use seeded
 *   random permutations, so the first column of the accuracy matrix is plain Fashion-MNIST.
 * - `split-fmnist` — Split Fashion-MNIST, task-incremental: 5 tasks of 2 classes ((0,1), (2,3), ... (8,9)).
 *   The head is shared in memory (10 logits) but each task only sees its own 2 logits (the others are masked
 *   out of the softmax and of the prediction), which is the multi-head setting written as one matrix.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { createRng, type Rng } from '../../core/rng.js';
import { readIdxFile } from './idx.js';

export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_PIXELS = 784;
export const FASHION_MNIST_CLASSES = 10;

/** Images as rows of `inputDim` floats in [0, 1]; labels as class indices. */
export interface LabelledSet {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

export interface FashionMnist {
  train: LabelledSet;
  test: LabelledSet;
}

export interface ContinualTask {
  id: number;
  name: string;
  train: LabelledSet;
  test: LabelledSet;
  /** the classes this task may predict (task-incremental head), or null for all classes */
  classes: number[] | null;
}

export type StreamName = 'pfmnist' | 'split-fmnist';

export interface TaskStream {
  name: StreamName;
  inputDim: number;
  numClasses: number;
  /** whether the output layer is shared across tasks (and so protected by projection methods) */
  sharedHead: boolean;
  tasks: ContinualTask[];
}

function findFile(dir: string, stem: string): string {
  for (const candidate of [join(dir, stem), join(dir, `${stem}.gz`)]) if (existsSync(candidate)) return candidate;
  throw new ConfigError([{ path: ['dataDir'], message: `no ${stem}(.gz) in ${dir}` }], {
    hint: 'install it with `apt-get install dataset-fashion-mnist` (files land in /usr/share/datasets/fashion-mnist)',
  });
}

function toLabelledSet(imagesPath: string, labelsPath: string): LabelledSet {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  const [n = 0, rows = 0, cols = 0] = images.dims;
  if (images.dims.length !== 3 || rows * cols !== FASHION_MNIST_PIXELS || labels.dims[0] !== n) {
    throw new ConfigError(
      [{ path: ['dataDir'], message: `expected images [n, 28, 28] and labels [n], got [${images.dims.join(', ')}] and [${labels.dims.join(', ')}]` }],
      { source: imagesPath },
    );
  }
  const x = new Float32Array(images.data.length);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  return { x, y: Int32Array.from(labels.data), n };
}

export function loadFashionMnist(dir = DEFAULT_FASHION_MNIST_DIR): FashionMnist {
  return {
    train: toLabelledSet(findFile(dir, 'train-images-idx3-ubyte'), findFile(dir, 'train-labels-idx1-ubyte')),
    test: toLabelledSet(findFile(dir, 't10k-images-idx3-ubyte'), findFile(dir, 't10k-labels-idx1-ubyte')),
  };
}

/** Fisher–Yates permutation of 0..n-1 */
export function seededPermutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Rows `indices` of `set`, with the pixels reordered by `pixelOrder` (out[k] = in[pixelOrder[k]]). */
export function selectRows(set: LabelledSet, indices: ArrayLike<number>, pixelOrder?: Int32Array): LabelledSet {
  const dim = set.x.length / Math.max(set.n, 1);
  const x = new Float32Array(indices.length * dim);
  const y = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const src = indices[r]! * dim;
    const dst = r * dim;
    if (pixelOrder) for (let k = 0; k < dim; k++) x[dst + k] = set.x[src + pixelOrder[k]!]!;
    else x.set(set.x.subarray(src, src + dim), dst);
    y[r] = set.y[indices[r]!]!;
  }
  return { x, y, n: indices.length };
}

function firstK(order: Int32Array, k: number): Int32Array {
  return order.subarray(0, Math.min(k, order.length));
}

export interface StreamOptions {
  seed: number;
  /** training examples per task (a seeded subset); Infinity = all */
  trainPerTask: number;
  /** test examples per task (a seeded subset); Infinity = all */
  testPerTask: number;
  /** pfmnist only; default 10 */
  tasks?: number;
}

export function permutedStream(data: FashionMnist, options: StreamOptions): TaskStream {
  const taskCount = options.tasks ?? 10;
  const dim = data.train.x.length / data.train.n;
  const tasks: ContinualTask[] = [];
  for (let t = 0; t < taskCount; t++) {
    const pixels = t === 0 ? undefined : seededPermutation(dim, createRng(options.seed, 'pfmnist', 'pixels', t));
    const trainRows = firstK(seededPermutation(data.train.n, createRng(options.seed, 'pfmnist', 'train-rows', t)), options.trainPerTask);
    const testRows = firstK(seededPermutation(data.test.n, createRng(options.seed, 'pfmnist', 'test-rows', t)), options.testPerTask);
    tasks.push({
      id: t,
      name: t === 0 ? 'identity' : `permutation ${t}`,
      train: selectRows(data.train, trainRows, pixels),
      test: selectRows(data.test, testRows, pixels),
      classes: null,
    });
  }
  return { name: 'pfmnist', inputDim: dim, numClasses: FASHION_MNIST_CLASSES, sharedHead: true, tasks };
}

function rowsOfClasses(set: LabelledSet, classes: readonly number[], rng: Rng, limit: number): Int32Array {
  const order = seededPermutation(set.n, rng);
  const picked: number[] = [];
  for (const row of order) {
    if (picked.length >= limit) break;
    if (classes.includes(set.y[row]!)) picked.push(row);
  }
  return Int32Array.from(picked);
}

export function splitStream(data: FashionMnist, options: StreamOptions): TaskStream {
  const dim = data.train.x.length / data.train.n;
  const tasks: ContinualTask[] = [];
  for (let t = 0; t < 5; t++) {
    const classes = [2 * t, 2 * t + 1];
    const trainRows = rowsOfClasses(data.train, classes, createRng(options.seed, 'split', 'train-rows', t), options.trainPerTask);
    const testRows = rowsOfClasses(data.test, classes, createRng(options.seed, 'split', 'test-rows', t), options.testPerTask);
    tasks.push({
      id: t,
      name: `classes ${classes.join('/')}`,
      train: selectRows(data.train, trainRows),
      test: selectRows(data.test, testRows),
      classes,
    });
  }
  return { name: 'split-fmnist', inputDim: dim, numClasses: FASHION_MNIST_CLASSES, sharedHead: false, tasks };
}

export function buildStream(name: StreamName, data: FashionMnist, options: StreamOptions): TaskStream {
  return name === 'pfmnist' ? permutedStream(data, options) : splitStream(data, options);
}
