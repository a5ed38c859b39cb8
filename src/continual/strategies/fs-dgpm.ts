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
 *
 * On the engine the step's derivatives are written out (no autodiff tape): with G_c the all-tasks gradient at
 * w + v_c, ∂/∂w = mean_c G_c (v does not depend on w: inner gradients are detached), and, since
 * v_c = Σ_{c′≤c} clip(η₁·g_{c′}·M·Λ·Mᵀ), ∂/∂λ_k = η₁·Σ_{c′} Σ_i (g_{c′}·M)[i,k]·((A_{c′} ⊙ U_{c′})·M)[i,k] with
 * A_{c′} = Σ_{c≥c′} G_c / C and U_{c′} the 0/1 mask of entries the clip let through (bounds inclusive, as tfjs's
 * clipByValue gradient).
 */
import type { Matrix } from 'ml-matrix';
import { createRng, type Rng } from '../../core/rng.js';
import { thresholdFor, type ContinualConfig } from '../config.js';
import { recomputeBasis } from '../bases.js';
import { classMask, type ContinualMlp } from '../mlp.js';
import { ProjectionWorkspace, squashImportance } from '../projection.js';
import { ReservoirBuffer } from '../replay.js';
import type { ContinualStrategy, StrategyContext, TrainBatch } from '../strategy.js';
import { layerRepresentations, sgdStep } from '../strategy.js';
import { seededPermutation } from '../../tasks/fashion-mnist/streams.js';
import { layerOf, SharpnessScratch, sharpnessGradients } from './fs-dgpm-sharpness.js';

export { sharpnessGradients } from './fs-dgpm-sharpness.js';

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
 * SGD with momentum μ in PyTorch's convention, on one vector: b ← g (first step) or μ·b + g; returns the new
 * value x − lr·b and the new buffer. μ = 0 is plain SGD. Pure: inputs are left alone. (The weights take the
 * same step in the engine's fused SGD kernel; this one moves λ.)
 */
export function momentumStep(x: ArrayLike<number>, gradient: ArrayLike<number>, buffer: ArrayLike<number> | null, lr: number, momentum: number): { value: Float32Array; buffer: Float32Array } {
  const next = Float32Array.from(gradient, (g, i) => (buffer === null || momentum === 0 ? g : momentum * buffer[i]! + g));
  return { value: Float32Array.from(next, (b, i) => x[i]! - lr * b), buffer: next };
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
  // per layer: the stored basis (reports), λ and its momentum buffer; null for layers without a basis
  const bases: (Matrix | null)[] = new Array<Matrix | null>(layers).fill(null);
  const lambdas: (Float32Array | null)[] = new Array<Float32Array | null>(layers).fill(null);
  let lambdaBuffers: (Float32Array | null)[] = new Array<Float32Array | null>(layers).fill(null);
  let workspace: ProjectionWorkspace | null = null;
  let scratch: SharpnessScratch | null = null;
  let buffer: ReservoirBuffer | null = null;
  let rng: Rng | null = null;

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
    const { net, config } = ctx;
    scratch ??= new SharpnessScratch(net);
    const gradients = sharpnessGradients(net, workspace!, lambdas, current, all, config, scratch);
    const spaced = lambdas.map((lambda, l) => (lambda ? l : -1)).filter((l) => l >= 0);
    // λ ← sigmoid(10·(λ − η₂·b)), b the λ momentum buffer (b = ∇λ without momentum); kept inside (0, 1)
    spaced.forEach((l) => {
      const { value, buffer: next } = momentumStep(lambdas[l]!, gradients.lambdas[l]!, lambdaBuffers[l] ?? null, config.eta2, config.momentum);
      lambdaBuffers[l] = next;
      lambdas[l] = squashImportance(value);
    });
    // w ← w − lr·(g − g·M·Λ·Mᵀ) with the new Λ, through the engine's SGD (momentum buffer in its arena)
    for (const l of spaced) {
      const g = layerOf(net, gradients.weights, l);
      const coordinates = gradients.weightCoordinates[l];
      if (coordinates) workspace!.projectWithCoordinates(l, g, coordinates, lambdas[l]!);
      else workspace!.project(l, g, lambdas[l]!);
    }
    net.step(config.lr, gradients.weights);
    return gradients.loss;
  };

  return {
    name: 'fs-dgpm',
    beginTask(ctx) {
      ctx.net.resetOptimizer();
      lambdaBuffers = new Array<Float32Array | null>(layers).fill(null);
      workspace ??= new ProjectionWorkspace(
        Array.from({ length: layers }, (_, l) => ({ out: ctx.net.sizes[l + 1]!, in: ctx.net.sizes[l]! })),
        ctx.net.kernels,
      );
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
        // the first task (no bases): a momentum SGD step on the all-tasks loss
        loss = lambdas.some((s) => s !== null) ? sharpnessStep(current, all, ctx) : sgdStep(ctx.net, all, ctx.config.lr);
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
      const representations = layerRepresentations(ctx.net, x, slots.length);
      for (const l of ctx.protectedLayers) {
        const basis = recomputeBasis(representations[l]!, thresholdFor(ctx.config, l, ctx.taskId)).basis;
        bases[l] = basis;
        workspace!.setBasis(l, basis);
        lambdas[l] = basis === null ? null : new Float32Array(basis.columns).fill(1);
      }
    },
    bases: () => bases.map((b) => b?.clone() ?? null),
    basisSizes: () => bases.map((b) => b?.columns ?? 0),
    importances: () => lambdas.map((lambda) => (lambda ? [...lambda] : [])),
    dispose() {},
  };
}
