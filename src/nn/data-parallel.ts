/**
 * Data-parallel training of one model over 2 replicas (issue #22): the calling thread is replica 0, one
 * worker thread is replica 1. Each compiles the same spec at its share of the batch (⌈B/2⌉ and ⌊B/2⌋) into its
 * own arena of one shared WebAssembly.Memory; the gradient is all-reduced in that memory, each replica updates
 * one half of the parameters (a SIMD pass), and barriers on Atomics.wait/notify order the phases
 * (data-parallel-sync.ts) — no postMessage per step. Arena 0 (`model`) holds the truth. Both replicas read and
 * update one parameter run, arena 0's (replica 1 is compiled with `sharedParamsAt`), so no parameter is copied
 * per step and any edit made to `model` between steps (a loaded checkpoint) is what replica 1 reads; replica 0
 * copies only the persistent state (running statistics, graph supports: small) into arena 1 before each step
 * (profile().pushMs).
 *
 * Equivalence: a mean loss over B examples is Σ_r (n_r / B)·(mean over replica r's n_r), so each replica's
 * gradient is weighted by its share of the loss's denominator (rows, or unmasked targets for masked MAE);
 * the result equals single-thread training at batch B up to float32 summation order, and is bit-identical
 * across runs (fixed shards, fixed operand order).
 *
 * Batch norm: per-replica batch statistics, as PyTorch's DistributedDataParallel without SyncBatchNorm
 * (normalisation uses each half's own mean and variance). The running statistics are replaced after every
 * step by the batch-size-weighted mean of the two replicas' running statistics (in arena 0, pushed to arena 1
 * before the next step; equal states average to themselves, so fixed graph supports stay exact): the running
 * mean then gets exactly the full-batch update; the running variance gets the mean of the two halves'
 * variances (it misses the spread between the halves' means).
 *
 * Dropout: replica 1 draws its masks from a seed derived from the model seed, so the halves get independent
 * masks (a single-thread run at batch B draws different ones: with dropout the runs agree in distribution only).
 *
 * The optimiser state of parameter shard r lives in replica r's arena (arena 0's momentum/Adam moments cover
 * the first shard only: a checkpoint of optimiser state would need both); parameters and persistent state are
 * complete in arena 0, i.e. in `model`.
 */
import type { Worker } from 'node:worker_threads';
import { ModelevoError } from '../core/errors.js';
import { startWorker } from '../core/worker-start.js';
import { Model, type ModelSpec } from './model.js';
import type { OptimizerSpec } from './optim/registry.js';
import type { WasmKernels } from './kernels/wasm/index.js';
import { learningRate, type ScheduleSpec } from './optim/schedule.js';
import { checkLength } from './trainer.js';
import type { LossSpec } from './losses/registry.js';
import type { View } from './arena.js';
import { COMMANDS, ControlBlock, type Phase, ReplicaArithmetic, clipScale, createControlBuffer, planSharedArenas, replicaKernels, shardsOf, type SharedArenas } from './data-parallel-sync.js';
import type { ReplicaHello, ReplicaWorkerData } from './data-parallel-worker.js';

export interface DataParallelOptions {
  /** the full batch B, split ⌈B/2⌉ + ⌊B/2⌋ */
  readonly batch: number;
  readonly optimizer: OptimizerSpec;
  readonly seed?: number;
  readonly lr: number;
  readonly schedule?: ScheduleSpec;
  readonly clipNorm?: number;
}

/** Profile counters of the calling thread (replica 0), and both replicas' ms per phase. */
export interface DataParallelProfile {
  /** barriers passed */
  readonly barriers: number;
  /** ms spent waiting at barriers */
  readonly waitedMs: number;
  /** ms spent in the all-reduce, the sharded update and the state average */
  readonly syncMs: number;
  /** ms spent copying the persistent state into arena 1 (the parameters are shared, never copied) */
  readonly pushMs: number;
  /**
   * ms per phase on each replica (index = replica): input (replica 0 writes both halves of the batch),
   * compute (forward, loss, backward), wait (at barriers inside a step), reduce (its shard of the all-reduce),
   * update (the optimiser over its shard), copy (parameters/state between the arenas), idle (replica 1
   * waiting for the next step)
   */
  readonly replicas: readonly [Record<Phase, number>, Record<Phase, number>];
}

export class DataParallelTrainer {
  steps = 0;
  lastGradNorm = 0;
  private closed = false;
  private syncMs = 0;
  private pushMs = 0;
  private workerError: { message: string; code?: string } | undefined;
  private readonly batches: readonly [number, number];
  private readonly data: Float32Array;
  /** replica 1's regions (absolute offsets) */
  private readonly replica1: Pick<Model['layout'], 'regions'>;
  private readonly offsets: { readonly input: number; readonly target: number; readonly output: number };
  private readonly sampleFloats: { readonly input: number; readonly target: number; readonly output: number };
  private readonly predictions: Float32Array;
  /** the full batch's input and target shapes, for the length checks */
  private readonly fullBatch: { readonly input: View; readonly target: View };
  private readonly exited: Promise<number>;

  private constructor(
    /** replica 0: its parameters (read by replica 1 too) and persistent state (copied to replica 1) are the model's */
    readonly model: Model,
    private readonly replica: ReplicaArithmetic,
    private readonly control: ControlBlock,
    private readonly worker: Worker,
    hello: ReplicaHello,
    private readonly lossSpec: LossSpec,
    private readonly options: DataParallelOptions,
  ) {
    this.batches = [Math.ceil(options.batch / 2), Math.floor(options.batch / 2)];
    this.data = model.kernels.data as Float32Array;
    this.replica1 = hello;
    this.offsets = { input: hello.input, target: hello.target, output: hello.output };
    const b0 = this.batches[0];
    this.sampleFloats = { input: model.input.size / b0, target: model.target.size / b0, output: model.output.size / b0 };
    this.predictions = new Float32Array(this.sampleFloats.output * options.batch);
    const full = (v: View, perExample: number): View => ({ ...v, shape: [options.batch, ...v.shape.slice(1)], size: perExample * options.batch });
    this.fullBatch = { input: full(model.input, this.sampleFloats.input), target: full(model.target, this.sampleFloats.target) };
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (m: { error?: { message: string; code?: string } }) => {
      if (m.error) this.workerError = m.error;
    });
  }

  static async open(spec: ModelSpec, options: DataParallelOptions): Promise<DataParallelTrainer> {
    const { batch } = options;
    if (!Number.isInteger(batch) || batch < 2) {
      throw new ModelevoError('CONFIG_INVALID', `data-parallel training over 2 workers needs batch ≥ 2, got ${batch}`, {
        hint: 'use workers: 1 for batch 1',
        details: { batch },
      });
    }
    const seed = options.seed ?? 0;
    let arenas: SharedArenas | undefined;
    const kernels = (floats: number): ReturnType<typeof replicaKernels> => {
      arenas = planSharedArenas(floats);
      return replicaKernels(arenas, 0, floats);
    };
    const model = Model.compile(spec, { batch: Math.ceil(batch / 2), kernels, optimizer: options.optimizer, seed });
    const shared = arenas!;
    const shards = shardsOf(model.runs.count);
    const controlBuffer = createControlBuffer();
    const control = new ControlBlock(controlBuffer, 0);
    const workerData: ReplicaWorkerData = {
      spec,
      batch: Math.floor(batch / 2),
      optimizer: options.optimizer,
      seed: replicaSeed(seed),
      paramsAt: model.runs.params,
      control: controlBuffer,
      arenas: shared,
      shard: shards[1],
      clipNorm: options.clipNorm,
    };
    const worker = startWorker(import.meta.url, './data-parallel-worker', { workerData });
    let hello: ReplicaHello;
    try {
      hello = await firstReply(worker);
      checkSameLayout(model, hello, shared);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    const replica = new ReplicaArithmetic(model, 0, shards[0], [shared.placements[0].base, shared.placements[1].base]);
    const trainer = new DataParallelTrainer(model, replica, control, worker, hello, spec.loss, options);
    // a forgotten close() must not keep the process alive; the worker sleeps in Atomics.wait between steps
    worker.unref();
    return trainer;
  }

  /** One step on exactly one batch of B examples; returns the batch's mean loss before the update. */
  step(inputs: ArrayLike<number>, targets: ArrayLike<number>): number {
    this.assertOpen();
    const model = this.model;
    const control = this.control;
    checkLength(inputs, this.fullBatch.input, 'inputs');
    checkLength(targets, this.fullBatch.target, 'targets');
    let t = performance.now();
    const data = this.data;
    const [b0] = this.batches;
    const cutIn = b0 * this.sampleFloats.input;
    const cutT = b0 * this.sampleFloats.target;
    // replica 1's half first: it starts computing at GO while this thread copies its own half
    copyRange(inputs, cutIn, inputs.length, data, this.offsets.input);
    copyRange(targets, cutT, targets.length, data, this.offsets.target);
    const w0 = lossShare(this.lossSpec, targets, cutT);
    const w1 = 1 - w0;
    this.steps++;
    const lr = learningRate(this.options.schedule ?? { kind: 'constant' }, this.options.lr, this.steps);
    control.command = COMMANDS.train;
    control.step = this.steps;
    control.lr = lr;
    control.setWeights(w0, w1);
    t = control.lap('input', t);
    this.replica.pushStateToReplica1();
    const pushStart = t;
    t = control.lap('copy', t);
    this.pushMs += t - pushStart;
    control.barrier(true); // GO
    copyRange(inputs, 0, cutIn, data, model.input.offset);
    copyRange(targets, 0, cutT, data, model.target.offset);
    t = control.lap('input', t);
    control.setLoss(this.replica.forwardBackward(this.steps));
    t = control.lap('compute', t);
    control.barrier(); // GRADS
    t = performance.now();
    const start = t;
    control.setSquares(this.replica.reduceShard(w0, w1, this.options.clipNorm !== undefined)); // (own, other) weights
    t = control.lap('reduce', t);
    if (this.options.clipNorm !== undefined) {
      control.barrier(); // NORM
      t = performance.now();
    }
    const { norm, scale } = clipScale(control, this.options.clipNorm);
    this.lastGradNorm = this.options.clipNorm !== undefined ? norm : 0;
    this.replica.updateShard(lr, scale, this.steps);
    t = control.lap('update', t);
    this.replica.averageState(this.batches[0] / this.options.batch, this.batches[1] / this.options.batch);
    control.lap('copy', t);
    this.syncMs += performance.now() - start;
    control.barrier(); // DONE
    return w0 * control.loss(0) + w1 * control.loss(1);
  }

  /**
   * Forward, loss and backward on both halves and the all-reduced gradient of the whole batch in `model`'s
   * gradient run (arena 0), the running statistics averaged into `model` as after a step — but no update: for
   * callers that transform the whole gradient (masks, weight decay, frozen tensors) and run their optimiser on
   * `model` themselves (`model.optimizer` covers the whole parameter run). `step` seeds the dropout masks.
   * Returns the batch's mean loss.
   */
  gradients(inputs: ArrayLike<number>, targets: ArrayLike<number>, step: number): number {
    const w0 = this.loadBatch(inputs, targets);
    const w1 = 1 - w0;
    const control = this.control;
    control.command = COMMANDS.gradients;
    control.step = step;
    control.setWeights(w0, w1);
    this.replica.pushStateToReplica1();
    control.barrier(true); // GO
    control.setLoss(this.replica.forwardBackward(step));
    control.barrier(); // GRADS
    this.replica.reduceShard(w0, w1, false);
    this.replica.averageState(this.batches[0] / this.options.batch, this.batches[1] / this.options.batch);
    control.barrier(); // DONE: replica 1's shard is in arena 0
    return w0 * control.loss(0) + w1 * control.loss(1);
  }

  /** A training-mode forward of both halves (no loss, no gradient), the running statistics averaged into `model`. */
  statistics(inputs: ArrayLike<number>, step: number): void {
    this.assertOpen();
    checkLength(inputs, this.fullBatch.input, 'inputs');
    const cut = this.batches[0] * this.sampleFloats.input;
    copyRange(inputs, 0, cut, this.data, this.model.input.offset);
    copyRange(inputs, cut, inputs.length, this.data, this.offsets.input);
    this.control.command = COMMANDS.statistics;
    this.control.step = step;
    this.replica.pushStateToReplica1();
    this.control.barrier(true); // GO
    this.model.forward(true, step);
    this.control.barrier(); // DONE
    this.replica.averageState(this.batches[0] / this.options.batch, this.batches[1] / this.options.batch);
  }

  /** both halves of a batch into the replicas' input and target buffers; returns replica 0's loss share */
  private loadBatch(inputs: ArrayLike<number>, targets: ArrayLike<number>): number {
    this.assertOpen();
    checkLength(inputs, this.fullBatch.input, 'inputs');
    checkLength(targets, this.fullBatch.target, 'targets');
    const cutIn = this.batches[0] * this.sampleFloats.input;
    const cutT = this.batches[0] * this.sampleFloats.target;
    copyRange(inputs, 0, cutIn, this.data, this.model.input.offset);
    copyRange(inputs, cutIn, inputs.length, this.data, this.offsets.input);
    copyRange(targets, 0, cutT, this.data, this.model.target.offset);
    copyRange(targets, cutT, targets.length, this.data, this.offsets.target);
    return lossShare(this.lossSpec, targets, cutT);
  }

  /** Forward only, inference mode, both halves in parallel; returns the B outputs (valid until the next call). */
  predict(inputs: ArrayLike<number>): Float32Array {
    this.assertOpen();
    const model = this.model;
    const full = this.sampleFloats.input * this.options.batch;
    checkLength(inputs, this.fullBatch.input, 'inputs');
    const data = this.data;
    const cut = this.batches[0] * this.sampleFloats.input;
    copyRange(inputs, 0, cut, data, model.input.offset);
    copyRange(inputs, cut, full, data, this.offsets.input);
    this.control.command = COMMANDS.predict;
    this.replica.pushStateToReplica1();
    this.control.barrier(true); // GO
    model.forward(false);
    this.control.barrier(); // DONE
    const out0 = this.batches[0] * this.sampleFloats.output;
    this.predictions.set(data.subarray(model.output.offset, model.output.offset + out0));
    this.predictions.set(data.subarray(this.offsets.output, this.offsets.output + this.predictions.length - out0), out0);
    return this.predictions;
  }

  /** A copy of the parameters or persistent state a replica reads (replica 1's parameters are replica 0's). */
  region(replica: 0 | 1, region: 'param' | 'state'): Float32Array {
    const { start, end } = (replica === 0 ? this.model.layout : this.replica1).regions[region];
    return this.data.slice(start, end);
  }

  /** the shared memory of both arenas */
  get memory(): WebAssembly.Memory {
    return (this.model.kernels as WasmKernels).memory;
  }

  profile(): DataParallelProfile {
    return { barriers: this.control.barriers, waitedMs: this.control.waitedMs, syncMs: this.syncMs, pushMs: this.pushMs, replicas: [this.control.phases(0), this.control.phases(1)] };
  }

  /** Stops the worker and waits for it to exit; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.worker.ref();
    if (!this.control.failed) {
      this.control.command = COMMANDS.stop;
      this.control.barrier(true);
    } else {
      await this.worker.terminate();
    }
    await this.exited;
  }

  private assertOpen(): void {
    if (this.workerError || this.control.failed) {
      const why = this.workerError?.message ?? 'see its error event';
      throw new ModelevoError('INTERNAL', `data-parallel replica 1 failed (${why}), expected a running replica`, {
        hint: 'close() this trainer and open a new one',
        details: { code: this.workerError?.code },
      });
    }
    if (this.closed) throw new ModelevoError('CONFIG_INVALID', 'the data-parallel trainer was closed, expected an open one', { hint: 'open a new trainer' });
  }
}

/** replica 1's seed: distinct dropout masks from the same model seed (its parameters are copied from replica 0) */
function replicaSeed(seed: number): number {
  return (seed ^ 0x5bd1e995) >>> 0;
}

/**
 * Replica 0's share of the loss's denominator (replica 1 has the rest): rows for mean losses (cross-entropy
 * over rows, MSE over elements — both proportional to rows), unmasked targets for masked MAE (all masked:
 * both losses and gradients are 0, any share will do). A new loss whose denominator is not proportional to
 * rows needs its own case (the switch is exhaustive, so a new kind fails type-checking until it has one).
 */
export function lossShare(loss: LossSpec, targets: ArrayLike<number>, cut: number): number {
  switch (loss.kind) {
    case 'softmax_cross_entropy':
    case 'mse':
    case 'mae':
      return cut / targets.length;
    case 'masked_mae': {
      const nullValue = loss.nullValue ?? 0;
      let c0 = 0;
      let c1 = 0;
      for (let i = 0; i < cut; i++) if (targets[i] !== nullValue) c0++;
      for (let i = cut; i < targets.length; i++) if (targets[i] !== nullValue) c1++;
      return c0 + c1 === 0 ? 0.5 : c0 / (c0 + c1);
    }
    default: {
      // a loss added to the registry fails type-checking here until its denominator is handled
      const unhandled: never = loss;
      throw new ModelevoError('INTERNAL', `no data-parallel loss share for '${(unhandled as LossSpec).kind}'`);
    }
  }
}

function copyRange(from: ArrayLike<number>, start: number, end: number, to: Float32Array, at: number): void {
  if (ArrayBuffer.isView(from)) to.set((from as unknown as Float32Array).subarray(start, end), at);
  else for (let i = start; i < end; i++) to[at + i - start] = from[i]!;
}

function firstReply(worker: Worker): Promise<ReplicaHello> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number): void => reject(new ModelevoError('INTERNAL', `data-parallel worker exited with ${code} before starting`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m: ReplicaHello & { error?: { message: string } }) => {
      worker.off('exit', onExit);
      worker.off('error', reject);
      if (m.error) reject(new ModelevoError('INTERNAL', `data-parallel worker failed to start: ${m.error.message}`, { details: { ...m.error } }));
      else resolve(m);
    });
  });
}

/** replica 1 reads replica 0's parameter run; its other regions lie at the same offsets from its own base */
function checkSameLayout(model: Model, hello: ReplicaHello, arenas: SharedArenas): void {
  const shift = arenas.placements[1].base - arenas.placements[0].base;
  for (const region of ['param', 'grad', 'optimizer', 'state'] as const) {
    const a = model.layout.regions[region];
    const by = region === 'param' ? 0 : shift;
    const b = { start: hello.regions[region].start - by, end: hello.regions[region].end - by };
    if (a.start !== b.start || a.end !== b.end) {
      throw new ModelevoError('INTERNAL', `replica arenas disagree on the ${region} region: [${a.start}, ${a.end}) vs [${b.start}, ${b.end})`, {
        hint: 'a layer planned a parameter or state buffer whose size depends on the batch',
      });
    }
  }
}
