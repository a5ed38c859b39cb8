/**
 * The spec's MLP for (permuted) Fashion-MNIST on the training engine (src/nn): 784-100-100-10, ReLU, no biases
 * (GPM's PMNIST network, fs-dgpm.md §1.1), weights stored [out, in] so projections multiply gradients on the
 * right. A task-incremental head is the same 10 logits with an additive mask (−1e9 on classes the task may not
 * predict).
 *
 * A compiled engine model serves one batch size, and continual learning needs several (the training batch,
 * FS-DGPM's inner chunks and replay-augmented batches, evaluation chunks, representation samples). So the net
 * keeps one compiled model per batch size and copies the weights (one flat run) into a model only when that
 * model does not hold the current version: plain training at one batch size never copies.
 */
import { createRng } from '../core/rng.js';
import { Model, type ModelSpec } from '../nn/model.js';
import type { ArenaArray, KernelsName } from '../nn/kernels/kernels.js';
import type { LabelledSet } from '../tasks/fashion-mnist/streams.js';

export const MLP_HIDDEN = [100, 100] as const;
const MASKED_LOGIT = -1e9;

/** The engine spec of the MLP with layer widths `sizes` (input first, classes last). */
export function continualMlpSpec(sizes: readonly number[]): ModelSpec {
  return {
    inputShape: [sizes[0]!],
    layers: sizes.slice(1).map((units, l) => (l + 2 < sizes.length ? { kind: 'linear' as const, units, activation: 'relu' as const, bias: false } : { kind: 'linear' as const, units, bias: false })),
    loss: { kind: 'softmax_cross_entropy' },
  };
}

/** PyTorch nn.Linear's default scale, U(±1/√fan_in), from a seeded stream per layer; each [out, in] row-major. */
export function initMlpWeights(sizes: readonly number[], seed: number): Float32Array[] {
  const weights: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l]!;
    const rng = createRng(seed, 'mlp-init', l);
    const bound = 1 / Math.sqrt(fanIn);
    weights.push(Float32Array.from({ length: sizes[l + 1]! * fanIn }, () => (2 * rng.next() - 1) * bound));
  }
  return weights;
}

/** Additive logit mask for `rows` samples whose allowed classes are `classes` (null = all). */
export function classMask(classes: readonly number[] | null, numClasses: number, rows: number): Float32Array {
  const mask = new Float32Array(rows * numClasses);
  if (classes === null) return mask;
  for (let r = 0; r < rows; r++) for (let c = 0; c < numClasses; c++) if (!classes.includes(c)) mask[r * numClasses + c] = MASKED_LOGIT;
  return mask;
}

/** Rows of inputs, labels and each row's additive logit mask (all zeros: no mask). */
export interface MaskedBatch {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  mask: ArrayLike<number>;
  n: number;
}

export interface ContinualMlpOptions {
  /** the training batch: its model carries the optimiser */
  batch: number;
  /** SGD momentum of the optimiser (PyTorch convention); 0 = plain SGD */
  momentum?: number;
  kernels?: KernelsName;
}

interface Held {
  model: Model;
  /** the weight version this model's parameter run holds (−1: stale or perturbed) */
  version: number;
}

export class ContinualMlp {
  readonly sizes: readonly number[];
  readonly layers: number;
  /** float offset of each layer's weight inside the flat parameter run */
  readonly layerOffsets: readonly number[];
  readonly paramCount: number;
  private readonly spec: ModelSpec;
  readonly kernels: KernelsName;
  private readonly models = new Map<number, Held>();
  /** models for losses at given weights whose batch size is the training batch's (the home model keeps w) */
  private readonly probes = new Map<number, Held>();
  private readonly home: Held;
  private version = 0;
  private owner: Held;

  constructor(sizes: readonly number[], seed: number, options: ContinualMlpOptions) {
    this.sizes = sizes;
    this.layers = sizes.length - 1;
    this.spec = continualMlpSpec(sizes);
    this.kernels = options.kernels ?? 'wasm';
    const model = Model.compile(this.spec, { batch: options.batch, kernels: this.kernels, optimizer: { kind: 'sgd', momentum: options.momentum ?? 0 } });
    this.home = { model, version: 0 };
    this.models.set(options.batch, this.home);
    this.owner = this.home;
    this.layerOffsets = model.params.map((p) => p.offset - model.runs.params);
    this.paramCount = model.runs.count;
    const initial = initMlpWeights(sizes, seed);
    initial.forEach((w, l) => model.param(model.params[l]!.name).set(w));
  }

  /** the compiled model for `n` rows (made on first use) */
  private held(n: number): Held {
    let held = this.models.get(n);
    if (!held) {
      held = { model: Model.compile(this.spec, { batch: n, kernels: this.kernels }), version: -1 };
      this.models.set(n, held);
    }
    return held;
  }

  private params(model: Model): ArenaArray {
    return model.kernels.data.subarray(model.runs.params, model.runs.params + model.runs.count);
  }

  private grads(model: Model): ArenaArray {
    return model.kernels.data.subarray(model.runs.grads, model.runs.grads + model.runs.count);
  }

  /** Makes `held` hold the current weights (one copy of the flat run when it does not). */
  private sync(held: Held): Model {
    if (held.version !== this.version) {
      this.params(held.model).set(this.params(this.owner.model));
      held.version = this.version;
    }
    return held.model;
  }

  /** The current weights of layer l, [out, in] row-major (a live view: valid until the weights change). */
  weight(l: number): ArenaArray {
    const model = this.owner.model;
    return model.kernels.data.subarray(model.runs.params + this.layerOffsets[l]!, model.runs.params + this.layerOffsets[l]! + this.layerSize(l));
  }

  layerSize(l: number): number {
    return this.sizes[l]! * this.sizes[l + 1]!;
  }

  /** A copy of all weights as one flat run (layer after layer). */
  flatWeights(): Float32Array {
    return Float32Array.from(this.params(this.owner.model));
  }

  /** Copies all weights as one flat run into `out` (paramCount floats): flatWeights without the allocation. */
  copyWeightsInto(out: Float32Array): void {
    out.set(this.params(this.owner.model));
  }

  /** Copies of every layer's weights. */
  weightsCopy(): Float32Array[] {
    return Array.from({ length: this.layers }, (_, l) => Float32Array.from(this.weight(l)));
  }

  private load(model: Model, batch: MaskedBatch): void {
    const data = model.kernels.data;
    data.set(batch.x, model.input.offset);
    data.set(batch.y, model.target.offset);
  }

  /**
   * Forward, masked softmax cross-entropy and backward on `batch`, with the current weights or with `params`
   * (a flat run, e.g. perturbed weights). Returns the mean loss and a live view of the flat gradient run
   * (valid until the next call with the same batch size).
   */
  lossAndGradients(batch: MaskedBatch, params?: ArrayLike<number>): { loss: number; grads: ArenaArray } {
    let held = this.held(batch.n);
    let model: Model;
    if (params) {
      // never overwrite the model that holds the current weights (the training batch's): evaluate on a twin
      if (held === this.owner) {
        held = this.probes.get(batch.n) ?? { model: Model.compile(this.spec, { batch: batch.n, kernels: this.kernels }), version: -1 };
        this.probes.set(batch.n, held);
      }
      model = held.model;
      this.params(model).set(params);
      held.version = -1;
    } else model = this.sync(held);
    this.load(model, batch);
    model.forward(true, 0);
    addMask(model, batch.mask);
    const loss = model.loss();
    model.backward();
    return { loss, grads: this.grads(model) };
  }

  /**
   * One SGD step of the engine's optimiser on the training-batch model: w ← w − lr·b with b the gradient `grads`
   * (a flat run; copied into the training model unless it already is that model's gradient) or its momentum
   * buffer.
   */
  step(lr: number, grads: ArenaArray | Float32Array): void {
    const model = this.sync(this.home);
    const own = this.grads(model);
    if (!(grads.buffer === own.buffer && grads.byteOffset === own.byteOffset)) own.set(grads);
    model.optimizer!.step(model.kernels, model.runs, lr, 1, 1);
    this.version++;
    this.home.version = this.version;
    this.owner = this.home;
  }

  /** Restarts the optimiser's momentum buffers (FS-DGPM's reference re-creates its optimisers per task). */
  resetOptimizer(): void {
    const { start, end } = this.home.model.layout.regions.optimizer;
    this.home.model.kernels.data.fill(0, start, end);
  }

  /** Inference on `n` rows of x; calls `read` with the masked logits (valid only during the call). */
  private infer(x: ArrayLike<number>, n: number, read: (model: Model) => void): void {
    const model = this.sync(this.held(n));
    model.kernels.data.set(x, model.input.offset);
    model.forward(false);
    read(model);
  }

  /** Fraction of `set` classified correctly, predictions restricted to `classes`. */
  evaluateAccuracy(set: LabelledSet, classes: readonly number[] | null, chunk = 1000): number {
    if (set.n === 0) return NaN;
    const dim = set.x.length / set.n;
    const numClasses = this.sizes[this.sizes.length - 1]!;
    let correct = 0;
    for (let start = 0; start < set.n; start += chunk) {
      const rows = Math.min(chunk, set.n - start);
      const mask = classMask(classes, numClasses, 1);
      this.infer(set.x.subarray(start * dim, (start + rows) * dim), rows, (model) => {
        const logits = model.view(model.output);
        for (let r = 0; r < rows; r++) {
          let best = 0;
          let bestValue = -Infinity;
          // argmax over logit + mask; ties go to the first class, as tf.argMax
          for (let c = 0; c < numClasses; c++) {
            const value = logits[r * numClasses + c]! + mask[c]!;
            if (value > bestValue) {
              bestValue = value;
              best = c;
            }
          }
          if (best === set.y[start + r]) correct++;
        }
      });
    }
    return correct / set.n;
  }

  /** Every layer's inputs (x, h1, h2, ...) for `n` rows of `x`, copied out of the engine's activation views. */
  layerInputs(x: ArrayLike<number>, n: number): Float32Array[] {
    const out: Float32Array[] = [];
    this.infer(x, n, (model) => {
      out.push(Float32Array.from(model.view(model.input)));
      // the engine's layer outputs (after the fused ReLU) are the next layer's inputs
      for (let l = 0; l + 1 < this.layers; l++) out.push(Float32Array.from(model.view(model.layerOutputs[l]!)));
    });
    return out;
  }
}

/**
 * Adds the additive logit mask to the logits in place before the loss. Safe because the last layer is linear
 * without activation: its backward reads only dLogits, never its output. The loss then sees logits + mask,
 * and d(logits + mask)/d logits = I, so the gradient is the masked cross-entropy's.
 */
function addMask(model: Model, mask: ArrayLike<number>): void {
  let any = false;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) any = true;
  if (!any) return;
  const logits = model.view(model.output);
  for (let i = 0; i < mask.length; i++) logits[i] = logits[i]! + mask[i]!;
}
