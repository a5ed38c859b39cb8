/**
 * One continual-learning run: train a fresh MLP on each task of a stream in turn with a strategy, and after
 * every task measure test accuracy on all tasks (the accuracy matrix, fs-dgpm.md §6). Seeded: weights,
 * batch order, representation samples and replay all come from `config.seed`.
 */
import { createRng } from '../core/rng.js';
import type { TaskStream } from '../tasks/fashion-mnist/streams.js';
import type { ContinualConfig } from './config.js';
import { summarize, type ContinualSummary } from './metrics.js';
import { ContinualMlp, MLP_HIDDEN } from './mlp.js';
import type { KernelsName } from '../nn/kernels/kernels.js';
import { createStrategy } from './registry.js';
import { taskBatch, type ContinualStrategy, type StrategyContext } from './strategy.js';
import { seededPermutation } from '../tasks/fashion-mnist/streams.js';
import { fitLoop } from '../nn/fit.js';

export interface ContinualRunResult {
  method: string;
  benchmark: string;
  seed: number;
  /** R[i][j]: accuracy on task j after training task i */
  accuracy: number[][];
  summary: ContinualSummary;
  /** wall seconds per task: training plus the end-of-task memory update (evaluation excluded) */
  secondsPerTask: number[];
  /** of which the end-of-task memory update (representations, SVD, bases) */
  updateSecondsPerTask: number[];
  /** stored bases per layer after the last task */
  basisSizes: number[];
  /** mean training loss per task */
  meanLoss: number[];
}

export interface RunHooks {
  /** after each task, with that task's row of the accuracy matrix */
  onTask?: (taskId: number, row: number[], seconds: number, view: { weights: readonly Float32Array[]; strategy: ContinualStrategy }) => void;
  /** after every training step (tests use it to inspect the strategy) */
  onStep?: (strategy: ContinualStrategy, taskId: number) => void;
}

/** The net a run trains: the MLP at the run's batch size; momentum only where the method honours it (config.ts). */
export function continualNet(stream: TaskStream, config: ContinualConfig, kernels: KernelsName = 'wasm'): ContinualMlp {
  const sizes = [stream.inputDim, ...MLP_HIDDEN, stream.numClasses];
  return new ContinualMlp(sizes, config.seed, { batch: config.batchSize, momentum: config.method === 'fs-dgpm' ? config.momentum : 0, kernels });
}

export function runContinual(stream: TaskStream, config: ContinualConfig, hooks: RunHooks = {}, kernels: KernelsName = 'wasm'): ContinualRunResult {
  const net = continualNet(stream, config, kernels);
  const layers = net.layers;
  const strategy = createStrategy(config.method, layers);
  const protectedLayers = Array.from({ length: stream.sharedHead ? layers : layers - 1 }, (_, l) => l);
  const accuracy: number[][] = [];
  const secondsPerTask: number[] = [];
  const updateSecondsPerTask: number[] = [];
  const meanLoss: number[] = [];
  try {
    for (const task of stream.tasks) {
      const started = performance.now();
      const ctx: StrategyContext = { config, stream, net, protectedLayers, taskId: task.id, epoch: 0 };
      strategy.beginTask(ctx);
      // the batches of epoch e are a fresh permutation keyed (seed, 'batches', task, e); the last one runs short
      const trained = fitLoop(
        {
          trainOn: (rows, epoch) => {
            ctx.epoch = epoch;
            const loss = strategy.trainStep(taskBatch(task, rows, stream.numClasses), ctx);
            hooks.onStep?.(strategy, task.id);
            return loss;
          },
        },
        task.train.n,
        {
          epochs: config.epochs,
          batch: config.batchSize,
          seed: config.seed,
          order: (epoch) => seededPermutation(task.train.n, createRng(config.seed, 'batches', task.id, epoch)),
          lastBatch: 'keep',
          // a diverged method is a result to report (NaN loss, chance accuracy), not a crash
          divergence: 'continue',
        },
      );
      // endTask sees the last epoch, as after a hand-written loop
      ctx.epoch = config.epochs - 1;
      const updateStarted = performance.now();
      strategy.endTask(task, ctx);
      updateSecondsPerTask.push((performance.now() - updateStarted) / 1000);
      const seconds = (performance.now() - started) / 1000;
      secondsPerTask.push(seconds);
      meanLoss.push(trained.meanLoss);
      const row = stream.tasks.map((t) => net.evaluateAccuracy(t.test, t.classes));
      accuracy.push(row);
      if (hooks.onTask) hooks.onTask(task.id, row, seconds, { weights: net.weightsCopy(), strategy });
    }
    return {
      method: config.method,
      benchmark: config.benchmark,
      seed: config.seed,
      accuracy,
      summary: summarize(accuracy),
      secondsPerTask,
      updateSecondsPerTask,
      basisSizes: strategy.basisSizes(),
      meanLoss,
    };
  } finally {
    strategy.dispose();
  }
}
