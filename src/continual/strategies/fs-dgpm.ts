/**
 * FS-DGPM — Deng, Chen, Hao, Wang, Heng, "Flattening Sharpness for Dynamic Gradient Projection Memory
 * Benefits Continual Learning", NeurIPS 2021 (arXiv:2110.04593); fs-dgpm.md §1.4, §2, §3 (the `xdgpm
 * --sharpness` step, first-order).
 *
 * Per step: the current batch is split into `innerBatches` chunks; for each chunk the current-task gradient
 * at w + v (a detached value) moves v up the loss inside the important subspace, v += clip(η₁·g·M·Λ·Mᵀ);
 * the all-tasks loss (current + replayed batch) is evaluated at w + v; the mean of these losses is
 * differentiated w.r.t. w (through w + v) and λ (through v). Then λ ← sigmoid(10·(λ − η₂·∇λ)), and
 * w ← w − lr·(g − g·M·Λ·Mᵀ) with the new Λ. Before any basis exists v = 0, so the first task is SGD on the
 * all-tasks loss. After every task the bases are recomputed from scratch from replayed samples of all tasks
 * and λ restarts at 1.
 *
 * Glances and momentum (the paper's PMNIST setting, danruod/FS-DGPM `run_experiments.sh` and `observe` in
 * model/fsdgpm.py): each incoming batch is used for `glances` updates, reshuffled and with a fresh replay
 * draw each time, and enters the reservoir once, after its glances. Weights and λ step with SGD momentum μ
 * (PyTorch convention: b ← g on the first step, then b ← μ·b + g; x ← x − lr·b), buffers restarting with
 * every task as the reference re-creates its optimisers per task. Not reproduced: the reference replaces
 * each λ parameter after its squash, so its λ optimiser keeps stepping the replaced tensors; here λ is one
 * variable updated every step as the paper describes.
 */
import { Matrix } from 'ml-matrix';
import { createRng, type Rng } from '../../core/rng.js';
import { tf } from '../../train/tf.js';
import { thresholdFor } from '../config.js';
import { recomputeBasis } from '../bases.js';
import { classMask } from '../mlp.js';
import { protectedComponent, squashImportance } from '../projection.js';
import { ReservoirBuffer } from '../replay.js';
import type { ContinualStrategy, StrategyContext, TrainBatch } from '../strategy.js';
import { batchLoss, batchTensors, disposeBatch, layerRepresentations } from '../strategy.js';
import { seededPermutation } from '../../tasks/fashion-mnist/streams.js';

interface FsLayer {
  basis: tf.Tensor2D;
  lambda: tf.Variable<tf.Rank.R1>;
}

function sliceBatch(batch: TrainBatch, start: number, end: number): TrainBatch {
  const dim = batch.x.length / batch.n;
  const classes = batch.mask.length / batch.n;
  return {
    x: batch.x.subarray(start * dim, end * dim),
    y: batch.y.subarray(start, end),
    mask: batch.mask.subarray(start * classes, end * classes),
    n: end - start,
    taskId: batch.taskId,
  };
}

/** `batch` with its rows in the order `order` */
function reorderBatch(batch: TrainBatch, order: ArrayLike<number>): TrainBatch {
  const dim = batch.x.length / batch.n;
  const classes = batch.mask.length / batch.n;
  const x = new Float32Array(batch.x.length);
  const y = new Int32Array(batch.n);
  const mask = new Float32Array(batch.mask.length);
  for (let r = 0; r < batch.n; r++) {
    const from = order[r]!;
    x.set(batch.x.subarray(from * dim, (from + 1) * dim), r * dim);
    y[r] = batch.y[from]!;
    mask.set(batch.mask.subarray(from * classes, (from + 1) * classes), r * classes);
  }
  return { x, y, mask, n: batch.n, taskId: batch.taskId };
}

/**
 * SGD with momentum μ in PyTorch's convention, on one tensor: b ← g (first step) or μ·b + g; returns the new
 * value x − lr·b and the new buffer. μ = 0 is plain SGD. Pure: inputs are left alone.
 */
export function momentumStep(x: tf.Tensor, gradient: tf.Tensor, buffer: tf.Tensor | null, lr: number, momentum: number): { value: tf.Tensor; buffer: tf.Tensor } {
  return tf.tidy(() => {
    const next = buffer === null || momentum === 0 ? tf.clone(gradient) : tf.add(tf.mul(buffer, momentum), gradient);
    return { value: tf.sub(x, tf.mul(next, lr)), buffer: next };
  });
}

function concatBatches(a: TrainBatch, b: TrainBatch): TrainBatch {
  const join = <T extends Float32Array | Int32Array>(make: (n: number) => T, p: T, q: T): T => {
    const out = make(p.length + q.length);
    out.set(p);
    out.set(q, p.length);
    return out;
  };
  return {
    x: join((n) => new Float32Array(n), a.x, b.x),
    y: join((n) => new Int32Array(n), a.y, b.y),
    mask: join((n) => new Float32Array(n), a.mask, b.mask),
    n: a.n + b.n,
    taskId: a.taskId,
  };
}

export function createFsDgpmStrategy(layers: number): ContinualStrategy {
  const spaces: (FsLayer | null)[] = new Array<FsLayer | null>(layers).fill(null);
  let buffer: ReservoirBuffer | null = null;
  let rng: Rng | null = null;
  // momentum buffers of the weights and of each layer's λ (null until the task's first step)
  let weightBuffers: (tf.Tensor | null)[] = [];
  let lambdaBuffers: (tf.Tensor | null)[] = new Array<tf.Tensor | null>(layers).fill(null);
  const resetBuffers = (): void => {
    weightBuffers.forEach((b) => b?.dispose());
    lambdaBuffers.forEach((b) => b?.dispose());
    weightBuffers = [];
    lambdaBuffers = new Array<tf.Tensor | null>(layers).fill(null);
  };
  const stepWeight = (ctx: StrategyContext, l: number, gradient: tf.Tensor2D): void => {
    const w = ctx.weights[l]!;
    const { value, buffer: next } = momentumStep(w, gradient, weightBuffers[l] ?? null, ctx.config.lr, ctx.config.momentum);
    weightBuffers[l]?.dispose();
    weightBuffers[l] = next;
    w.assign(value as tf.Tensor2D);
    value.dispose();
  };

  /** the first task (no bases): a momentum SGD step on the all-tasks loss */
  const plainStep = (all: TrainBatch, ctx: StrategyContext): number => {
    const tensors = batchTensors(all, ctx.stream.numClasses);
    const { value, grads } = tf.variableGrads(() => batchLoss(ctx.weights, tensors), ctx.weights);
    ctx.weights.forEach((w, l) => stepWeight(ctx, l, grads[w.name] as tf.Tensor2D));
    const loss = value.dataSync()[0]!;
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    disposeBatch(tensors);
    return loss;
  };

  const replayBatch = (count: number, ctx: StrategyContext): TrainBatch | null => {
    if (!buffer || buffer.size === 0) return null;
    const slots = buffer.sample(count, rng!);
    const dim = buffer.dim;
    const numClasses = ctx.stream.numClasses;
    const x = new Float32Array(count * dim);
    const y = new Int32Array(count);
    const mask = new Float32Array(count * numClasses);
    slots.forEach((slot, r) => {
      x.set(buffer!.x.subarray(slot * dim, (slot + 1) * dim), r * dim);
      y[r] = buffer!.y[slot]!;
      mask.set(classMask(ctx.stream.tasks[buffer!.task[slot]!]!.classes, numClasses, 1), r * numClasses);
    });
    return { x, y, mask, n: count, taskId: -1 };
  };

  const sharpnessStep = (current: TrainBatch, all: TrainBatch, ctx: StrategyContext): number => {
    const { weights, config } = ctx;
    const numClasses = ctx.stream.numClasses;
    const chunks = Math.min(config.innerBatches, current.n);
    const bounds = Array.from({ length: chunks + 1 }, (_, c) => Math.round((c * current.n) / chunks));
    const lossTensor = tf.tidy(() => {
      const allTensors = batchTensors(all, numClasses);
      // inner gradients: values only (first-order), each at w + v accumulated so far
      const innerGradients: tf.Tensor2D[][] = [];
      let v = weights.map((w) => tf.zerosLike(w) as tf.Tensor2D);
      for (let c = 0; c < chunks; c++) {
        const chunk = batchTensors(sliceBatch(current, bounds[c]!, bounds[c + 1]!), numClasses);
        const perturbed = weights.map((w, l) => tf.add(w, v[l]!) as tf.Tensor2D);
        const gradients = tf.grads((...ws: tf.Tensor[]) => batchLoss(ws as tf.Tensor2D[], chunk))(perturbed) as tf.Tensor2D[];
        innerGradients.push(gradients);
        if (c === chunks - 1) break; // the last chunk's v is only needed on the tape below
        v = v.map((vl, l) => {
          const space = spaces[l];
          if (!space) return vl;
          const step = tf.clipByValue(tf.mul(protectedComponent(gradients[l]!, { basis: space.basis, importance: space.lambda }), config.eta1), -config.gradClip, config.gradClip);
          return tf.add(vl, step) as tf.Tensor2D;
        });
      }
      const lambdas = spaces.filter((s): s is FsLayer => s !== null).map((s) => s.lambda);
      const { value, grads } = tf.variableGrads(() => {
        let vTaped = weights.map((w) => tf.zerosLike(w) as tf.Tensor2D);
        const losses: tf.Scalar[] = [];
        for (let c = 0; c < chunks; c++) {
          vTaped = vTaped.map((vl, l) => {
            const space = spaces[l];
            if (!space) return vl;
            const component = protectedComponent(innerGradients[c]![l]!, { basis: space.basis, importance: space.lambda });
            return tf.add(vl, tf.clipByValue(tf.mul(component, config.eta1), -config.gradClip, config.gradClip)) as tf.Tensor2D;
          });
          losses.push(batchLoss(weights.map((w, l) => (spaces[l] ? (tf.add(w, vTaped[l]!) as tf.Tensor2D) : w)), allTensors));
        }
        return tf.mean(tf.stack(losses)) as tf.Scalar;
      }, [...weights, ...lambdas]);
      // λ ← sigmoid(10·(λ − η₂·b)), b the λ momentum buffer (b = ∇λ without momentum); kept inside (0, 1)
      spaces.forEach((space, l) => {
        if (!space) return;
        const gradient = grads[space.lambda.name];
        let stepped = space.lambda.dataSync();
        if (gradient) {
          const { value: next, buffer } = momentumStep(space.lambda, gradient, lambdaBuffers[l] ?? null, config.eta2, config.momentum);
          lambdaBuffers[l]?.dispose();
          lambdaBuffers[l] = tf.keep(buffer);
          stepped = next.dataSync();
        }
        space.lambda.assign(tf.tensor1d(squashImportance(stepped)));
      });
      weights.forEach((w, l) => {
        const g = grads[w.name] as tf.Tensor2D;
        const space = spaces[l];
        const projected = space ? tf.sub(g, protectedComponent(g, { basis: space.basis, importance: space.lambda })) : g;
        const { value: next, buffer } = momentumStep(w, projected, weightBuffers[l] ?? null, config.lr, config.momentum);
        weightBuffers[l]?.dispose();
        weightBuffers[l] = tf.keep(buffer);
        w.assign(next as tf.Tensor2D);
      });
      return value;
    });
    const loss = lossTensor.dataSync()[0]!;
    lossTensor.dispose();
    return loss;
  };

  return {
    name: 'fs-dgpm',
    beginTask(ctx) {
      resetBuffers();
      if (!buffer) {
        buffer = new ReservoirBuffer(ctx.config.memoriesPerTask * ctx.stream.tasks.length, ctx.stream.inputDim);
        rng = createRng(ctx.config.seed, 'fs-dgpm', 'replay');
      }
    },
    trainStep(batch, ctx) {
      let loss = NaN;
      for (let glance = 0; glance < ctx.config.glances; glance++) {
        // the first glance keeps the batch order (already a random draw); later ones reshuffle, as the reference does
        const current = glance === 0 ? batch : reorderBatch(batch, seededPermutation(batch.n, rng!));
        const replay = replayBatch(current.n, ctx);
        const all = replay ? concatBatches(current, replay) : current;
        loss = spaces.some((s) => s !== null) ? sharpnessStep(current, all, ctx) : plainStep(all, ctx);
      }
      if (ctx.epoch === 0) {
        const dim = ctx.stream.inputDim;
        for (let r = 0; r < batch.n; r++) buffer!.offer(batch.x.subarray(r * dim, (r + 1) * dim), batch.y[r]!, batch.taskId, rng!);
      }
      return loss;
    },
    endTask(_task, ctx) {
      const slots = buffer!.sampleDistinct(ctx.config.memoryBatch, rng!);
      const dim = buffer!.dim;
      const x = new Float32Array(slots.length * dim);
      slots.forEach((slot, r) => x.set(buffer!.x.subarray(slot * dim, (slot + 1) * dim), r * dim));
      const representations = layerRepresentations(ctx.weights, x, slots.length);
      for (const l of ctx.protectedLayers) {
        const basis: Matrix | null = recomputeBasis(representations[l]!, thresholdFor(ctx.config, l, ctx.taskId)).basis;
        spaces[l]?.basis.dispose();
        spaces[l]?.lambda.dispose();
        spaces[l] = null;
        if (basis === null) continue;
        spaces[l] = {
          basis: tf.tensor2d(Float32Array.from(basis.to1DArray()), [basis.rows, basis.columns]),
          lambda: tf.tidy(() => tf.variable(tf.ones([basis.columns]) as tf.Tensor1D, true)),
        };
      }
    },
    bases: () => spaces.map((s) => (s ? new Matrix(s.basis.arraySync()) : null)),
    basisSizes: () => spaces.map((s) => s?.basis.shape[1] ?? 0),
    importances: () => spaces.map((s) => (s ? [...s.lambda.dataSync()] : [])),
    dispose() {
      resetBuffers();
      for (const s of spaces) {
        s?.basis.dispose();
        s?.lambda.dispose();
      }
    },
  };
}
