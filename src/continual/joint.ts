/**
 * Joint (multitask) training: the upper bound of a continual-learning table (GPM's "multitask" row, Saha et
 * al. ICLR 2021). One fresh MLP is trained on the shuffled union of every task's training set, each row with
 * its own task's logit mask, for `config.epochs` epochs with plain SGD — as many gradient steps as the
 * sequential runs take over the whole stream — and then evaluated on every task. It sees no sequence, so its
 * accuracy "matrix" is the one final row and BWT / forgetting are not defined (NaN).
 */
import { createRng } from '../core/rng.js';
import { seededPermutation, type TaskStream } from '../tasks/fashion-mnist/streams.js';
import type { ContinualConfig } from './config.js';
import { classMask } from './mlp.js';
import { continualNet, type ContinualRunResult } from './run.js';
import type { KernelsName } from '../nn/kernels/kernels.js';
import { sgdStep, type TrainBatch } from './strategy.js';
import { fitLoop } from '../nn/fit.js';

export function runJoint(stream: TaskStream, config: ContinualConfig, kernels: KernelsName = 'wasm'): ContinualRunResult {
  const net = continualNet(stream, { ...config, method: 'naive' }, kernels);
  const dim = stream.inputDim;
  const classes = stream.numClasses;
  // (task, row) of every training example
  const owners: [number, number][] = stream.tasks.flatMap((task, t) => Array.from({ length: task.train.n }, (_, r) => [t, r] as [number, number]));
  const masks = stream.tasks.map((task) => classMask(task.classes, classes, 1));
  const started = performance.now();
  const trained = fitLoop(
    {
      trainOn: (rows) => {
        const n = rows.length;
        const batch: TrainBatch = { x: new Float32Array(n * dim), y: new Int32Array(n), mask: new Float32Array(n * classes), n, taskId: -1 };
        for (let i = 0; i < n; i++) {
          const [t, r] = owners[rows[i]!]!;
          const set = stream.tasks[t]!.train;
          batch.x.set(set.x.subarray(r * dim, (r + 1) * dim), i * dim);
          batch.y[i] = set.y[r]!;
          batch.mask.set(masks[t]!, i * classes);
        }
        return sgdStep(net, batch, config.lr);
      },
    },
    owners.length,
    {
      epochs: config.epochs,
      batch: config.batchSize,
      seed: config.seed,
      order: (epoch) => seededPermutation(owners.length, createRng(config.seed, 'joint-batches', epoch)),
      lastBatch: 'keep',
      divergence: 'continue',
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const row = stream.tasks.map((t) => net.evaluateAccuracy(t.test, t.classes));
  return {
    method: 'joint',
    benchmark: config.benchmark,
    seed: config.seed,
    accuracy: [row],
    summary: { acc: row.reduce((a, b) => a + b, 0) / row.length, bwt: NaN, bwtAll: NaN, forgetting: NaN },
    secondsPerTask: [seconds / stream.tasks.length],
    updateSecondsPerTask: [0],
    basisSizes: new Array<number>(net.layers).fill(0),
    meanLoss: [trained.meanLoss],
  };
}
