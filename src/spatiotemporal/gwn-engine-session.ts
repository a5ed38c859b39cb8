/**
 * A Graph WaveNet training session on the training engine (src/nn; issue #22 item 3): the same contract as the
 * previous tfjs `GwnTrainingSession` (now test/support/gwn-tfjs-session.ts; spatiotemporal.md §1 "Training defaults") for the plain network —
 * seeded init or given weights, frozen tensors, per-epoch L2 weight decay and DropConnect probability, Adam
 * (PyTorch's order: the raw gradient clipped by global norm, then Adam's L2 term λ·w added), masked MAE on inverse-scaled
 * forecasts, BatchNorm momentum 0.1, forecasts, gradients by tensor name and snapshots in the tfjs names and
 * layouts (gwn-engine.ts), so results, checkpoints and ComS2T's weight split read them unchanged.
 *
 * Masked steps (DropConnect) never feed the BatchNorm running statistics: as in the tfjs session, the statistics
 * come from an unmasked training-mode forward on the same batch with the pre-update weights (issue #14); the
 * masked pass's own statistics update is undone. DropConnect masks every dense weight matrix (start, TCN
 * filter/gate, skip, graph-convolution mix, end convs) entrywise, scaled by 1/(1 − p); the masked weights' gradient
 * is the mask times the gradient at the masked weights.
 *
 * Activation dropout at a rate chosen per epoch (`activationDropout`, SynEVO's 'activation' reading of Def. 4.2):
 * the model keeps its dropout rate in a state slot (graph_wavenet `runtimeDropout`), set for the step and put
 * back afterwards. As in the tfjs session, a step with activationDropout p > 0 is masked: its BatchNorm
 * statistics come from an extra pass at the configured dropout rate; with p = 0 the step runs without dropout.
 *
 * Not supported here (still on the tfjs session): custom forwards and extra tensors (ComS2T's prompt encoder).
 *
 * A model is compiled per batch size (the arena is planned for one). Forecasts and gradients run in chunks on
 * the training model (inference mode) once there is one, otherwise on one inference model of at most
 * INFERENCE_BATCH examples: at 207 nodes an arena holds ~13 MiB per example, so a batch-64 copy would take
 * ~860 MiB.
 *
 * `workers: 2` trains data-parallel (src/nn/data-parallel.ts): each batch is split over this thread and one
 * worker, which run forward and backward on their halves (BatchNorm on each half's own statistics, running
 * statistics averaged; dropout masks differ per half) and all-reduce the gradient into the training model's
 * arena; everything after that — DropConnect's gradient mask, frozen tensors, weight decay, clipping, Adam —
 * runs here on the whole gradient, exactly as on one thread, and DropConnect masks and the dropout rate reach
 * the worker through the shared parameter run and the state pushed before each pass. Forecasts run on both
 * halves too. Batches of 1 (and `step()` called with another batch size) run on this thread. `dispose()`
 * stops the worker. The default 'auto' picks 2 workers for batches big enough to pay (autoWorkers).
 * `onGradients` sees the whole gradient at the same point on 1 or 2 workers.
 */
import { availableParallelism } from 'node:os';
import { createRng, type Rng } from '../core/rng.js';
import { ModelevoError } from '../core/errors.js';
import { Model, type ModelSpec } from '../nn/model.js';
import { DataParallelTrainer } from '../nn/data-parallel.js';
import { restorableViews } from '../nn/fit.js';
import type { ArenaArray } from '../nn/kernels/kernels.js';
import { HORIZON_STEPS, INPUT_STEPS } from '../tasks/traffic/windows.js';
import { defaultGwnConfig, initialGwnWeights, transitionMatrices, type GraphWaveNetConfig, type GwnWeights } from './gwn-config.js';
import { GWN_LAYER, engineTensor, getGwnWeights, gwnModelSpec, gwnTensorMappings, setGwnSupports, setGwnWeights } from './gwn-engine.js';
import { maskedMetrics, type ForecastMetrics } from './metrics.js';
import { InferenceCopies, chunkedGradients, forecastChunks, forecastChunksParallel } from './gwn-engine-inference.js';
import { DropConnectMasks, FrozenRanges } from './gwn-update-ranges.js';
import { engineInputs, targetsOf, type PreparedTraffic } from './gwn-data.js';
import type { GwnStepOptions, GwnTrainable } from './gwn-fit.js';

// moved to gwn-data.ts; still exported here for the callers that import it from the session
export { engineInputs } from './gwn-data.js';

export interface GwnEngineSessionOptions {
  readonly seed: number | string;
  readonly learningRate: number;
  readonly clipNorm: number;
  readonly config?: Partial<GraphWaveNetConfig>;
  /** start from these weights instead of a seeded initialisation (tfjs names and layouts) */
  readonly initialWeights?: GwnWeights;
  /** tensors (tfjs names) that receive no update (their values stay bit-identical) */
  readonly frozen?: (name: string) => boolean;
  /**
   * 1: train on this thread; 2: data-parallel over this thread and one worker (batches ≥ 2); 'auto'
   * (default): 2 when the machine has ≥ 2 cores and a batch holds ≥ DATA_PARALLEL_MIN node-examples
   */
  readonly workers?: GwnWorkers;
  /**
   * called on every training step once the whole batch's gradient is in `model`'s gradient run (all-reduced
   * when data-parallel, DropConnect's mask applied), before frozen tensors, weight decay, clipping and Adam:
   * the place for a method's own gradient edits (engine names; `engineTensor(model, name, true)`)
   */
  readonly onGradients?: (model: Model) => void;
}

export type GwnWorkers = 1 | 2 | 'auto';

/**
 * Batches of fewer node-examples (nodes × batch) train on one thread under 'auto': their steps take
 * milliseconds, so the worker's start-up (~1 s) and the per-step barriers cost more than the halved step saves.
 * METR-LA's 207 nodes pass from batch 3 on.
 */
export const DATA_PARALLEL_MIN = 512;

/** the thread count 'auto' picks for a batch of `batch` windows over `nodes` nodes */
export function autoWorkers(nodes: number, batch: number): 1 | 2 {
  return availableParallelism() >= 2 && nodes * batch >= DATA_PARALLEL_MIN ? 2 : 1;
}

/**
 * What the trainers need of a Graph WaveNet session (GwnEngineSession, the tfjs GwnTrainingSession): steps for
 * the one loop (gwn-fit.ts) and evaluation.
 */
export interface GwnSession extends GwnTrainable {
  readonly config: GraphWaveNetConfig;
  evaluate(samples: readonly number[]): Promise<ForecastMetrics>;
  forecast(samples: readonly number[], batchSize?: number): Promise<Float64Array>;
  gradients(samples: readonly number[]): Promise<Record<string, Float32Array>>;
  snapshot(): Promise<GwnWeights>;
  /** releases the session (and stops a data-parallel worker: await it) */
  dispose(): void | Promise<void>;
}

export class GwnEngineSession implements GwnSession {
  readonly config: GraphWaveNetConfig;
  private readonly supports: [Float32Array, Float32Array];
  /** tensors the engine does not build (the last block's graph convolution and BN), kept as given */
  private readonly rest: GwnWeights;
  private readonly initial: GwnWeights;
  /** the model holding the parameters and Adam state once training started, compiled for `trainingBatch` */
  private training: Model | undefined;
  private trainingBatch = 0;
  /** when training is data-parallel: its trainer (whose `model` is `training`) and full-batch buffers */
  private parallel: { trainer: DataParallelTrainer; inputs: Float32Array } | undefined;
  /** data-parallel trainers being stopped (a batch-size change); dispose() waits for them */
  private readonly closing: Promise<void>[] = [];
  private readonly inference = new InferenceCopies((batch) => this.compile(batch));
  readonly batchOrder: Rng;
  /** the frozen tensors, and the DropConnect-masked weight matrices, as ranges of the flat parameter run */
  private readonly frozenRanges: FrozenRanges;
  private readonly dropConnectMasks: DropConnectMasks;
  private stepCount = 0;

  constructor(private readonly prepared: PreparedTraffic, private readonly options: GwnEngineSessionOptions) {
    this.config = defaultGwnConfig(prepared.network.sensorIds.length, options.config);
    this.supports = transitionMatrices(prepared.network.adjacency, this.config.nodes);
    this.initial = options.initialWeights ?? initialGwnWeights(this.config, 2, options.seed);
    this.rest = this.initial;
    this.batchOrder = createRng('gwn-order', options.seed);
    // ranges in the flat parameter run are the same in every compiled copy: measure them on a batch-1 model
    const probe = this.compile(1);
    const start = probe.runs.params;
    const rangeOf = (engineName: string): [number, number] => {
      const p = probe.params.find((q) => q.name === engineName)!;
      return [p.offset - start, p.offset - start + p.size];
    };
    const frozen = options.frozen ?? (() => false);
    const mappings = gwnTensorMappings(this.config, 2);
    this.frozenRanges = new FrozenRanges([...mappings].filter(([name]) => frozen(name) && !name.includes('running_')).flatMap(([, m]) => m.engine.map(rangeOf)));
    this.dropConnectMasks = new DropConnectMasks([...mappings].filter(([name]) => name.endsWith('.weight') && !name.includes('.bn.')).flatMap(([, m]) => m.engine.map(rangeOf)));
    this.inference.add(1, probe);
  }

  private get spec(): ModelSpec {
    return gwnModelSpec(this.config, 2, this.prepared.scaler, INPUT_STEPS, { runtimeDropout: true });
  }

  /** the dropout masks' seed */
  private get maskSeed(): number {
    return createRng('gwn-engine-dropout', this.options.seed).nextUint32();
  }

  private compile(batch: number, optimizer = false): Model {
    const model = Model.compile(this.spec, { batch, kernels: 'wasm', seed: this.maskSeed, ...(optimizer ? { optimizer: { kind: 'adam' as const } } : {}) });
    return this.initialise(model);
  }

  /** supports, and parameters and state from the training model (or the initial weights) */
  private initialise(model: Model): Model {
    setGwnSupports(model, this.supports);
    if (this.training) copyModelState(this.training, model);
    else setGwnWeights(model, this.config, 2, this.initial);
    return model;
  }

  /** the training model for this batch size, on this thread unless it is the data-parallel one already open */
  private trainingModel(batch: number): Model {
    if (this.training && this.trainingBatch === batch) return this.training;
    return this.adopt(this.compile(batch, true), batch);
  }

  /** threads the current training model runs on (2 once a data-parallel trainer is open) */
  get activeWorkers(): 1 | 2 {
    return this.parallel ? 2 : 1;
  }

  /**
   * Opens the training model for `batch` (data-parallel with `workers: 2` and batch ≥ 2); the loop (gwn-fit.ts)
   * does this itself, other callers of `step()` do it first to train data-parallel.
   */
  async ready(batch: number): Promise<void> {
    if (this.training && this.trainingBatch === batch) return;
    const workers = this.options.workers ?? 'auto';
    if ((workers === 'auto' ? autoWorkers(this.config.nodes, batch) : workers) !== 2 || batch < 2) {
      this.trainingModel(batch);
      return;
    }
    const trainer = await DataParallelTrainer.open(this.spec, { batch, optimizer: { kind: 'adam' }, lr: this.options.learningRate, seed: this.maskSeed });
    this.adopt(this.initialise(trainer.model), batch, trainer);
  }

  /** makes `model` the training model (Adam state carried over) and stops a data-parallel trainer it replaces */
  private adopt(model: Model, batch: number, trainer?: DataParallelTrainer): Model {
    const previous = this.training;
    if (previous) {
      const from = previous.layout.regions.optimizer;
      const to = model.layout.regions.optimizer;
      model.kernels.data.set(previous.kernels.data.subarray(from.start, from.end), to.start);
    }
    if (this.parallel) this.closing.push(this.parallel.trainer.close());
    this.parallel = trainer ? { trainer, inputs: new Float32Array(batch * this.spec.inputShape.reduce((a, b) => a * b, 1)) } : undefined;
    this.training = model;
    this.trainingBatch = batch;
    return model;
  }

  /** the model chunks of forecasts and gradients run on: the training one, or one of at most INFERENCE_BATCH */
  private chunkModel(wanted: number): Model {
    return this.training ?? this.inference.for(wanted);
  }

  /** Names (tfjs) of the tensors the optimiser updates. */
  trainableNames(): string[] {
    const frozen = this.options.frozen ?? (() => false);
    return [...gwnTensorMappings(this.config, 2).keys()].filter((n) => !n.includes('running_') && !frozen(n));
  }

  /** the training model's parameters and persistent state (none before the first step) */
  restorable(): readonly ArenaArray[] {
    return this.training ? restorableViews(this.training) : [];
  }

  /** One optimiser step on a batch; returns its loss. */
  step(batch: readonly number[], epoch: GwnStepOptions): number {
    const model = this.trainingModel(batch.length);
    const data = model.kernels.data;
    const parallel = this.parallel;
    const targets = targetsOf(this.prepared, batch);
    if (parallel) engineInputs(this.prepared, batch, parallel.inputs);
    else {
      engineInputs(this.prepared, batch, model.view(model.input));
      model.view(model.target).set(targets);
    }
    // the whole batch's loss and gradient in `model` (both halves all-reduced when data-parallel)
    const lossAndGradients = (step: number): number => {
      if (parallel) return parallel.trainer.gradients(parallel.inputs, targets, step);
      model.forward(true, step);
      const loss = model.loss();
      model.backward();
      return loss;
    };
    const step = ++this.stepCount;
    const dropConnect = epoch.dropConnect ?? 0;
    const activationDropout = epoch.activationDropout ?? 0;
    const { params, grads, count } = model.runs;
    const rateSlot = engineTensor(model, `${GWN_LAYER}.dropout_rate`);
    let statistics: Float32Array | undefined;
    if (dropConnect > 0 || activationDropout > 0) {
      // the running statistics of the network inference runs: unmasked, same batch, weights before the update
      // (the slot holds the configured rate here, and the saved state puts it back)
      if (parallel) parallel.trainer.statistics(parallel.inputs, step);
      else model.forward(true, step);
      statistics = this.saveState(model);
      if (dropConnect > 0) this.dropConnectMasks.apply(model, dropConnect, createRng('gwn-dropconnect', this.options.seed, step));
    }
    if (epoch.activationDropout !== undefined) rateSlot[0] = activationDropout;
    const loss = lossAndGradients(step);
    if (statistics) {
      this.restoreState(model, statistics);
      if (dropConnect > 0) this.dropConnectMasks.undo(model);
    }
    rateSlot[0] = this.config.dropout;
    this.options.onGradients?.(model);
    this.frozenRanges.zeroGradients(model);
    const norm = Math.sqrt(model.kernels.sumSquares(grads, count));
    let scale = norm > this.options.clipNorm ? this.options.clipNorm / norm : 1;
    if (epoch.weightDecay > 0) {
      // the raw gradient is clipped first, then λ·w is added unscaled: clip_grad_norm_ runs before optimizer.step(),
      // inside which PyTorch's Adam adds weight_decay·w (the Graph WaveNet and ComS2T training scripts)
      for (let i = 0; i < count; i++) data[grads + i] = data[grads + i]! * scale + epoch.weightDecay * data[params + i]!;
      this.frozenRanges.zeroGradients(model);
      scale = 1;
    }
    this.frozenRanges.save(model);
    model.optimizer!.step(model.kernels, model.runs, this.options.learningRate, scale, step);
    this.frozenRanges.restore(model);
    if (!Number.isFinite(loss)) throw new ModelevoError('VALUE_INVALID', `graph wavenet training diverged at step ${step} (loss ${loss})`, { hint: 'lower the learning rate' });
    return loss;
  }

  private saveState(model: Model): Float32Array {
    const { start, end } = model.layout.regions.state;
    return Float32Array.from(model.kernels.data.subarray(start, end));
  }

  private restoreState(model: Model, saved: Float32Array): void {
    model.kernels.data.set(saved, model.layout.regions.state.start);
  }

  /** Forecasts [samples, 12, N] in original units (inference mode: running BatchNorm statistics, no dropout). */
  async forecast(samples: readonly number[], batchSize = 64): Promise<Float64Array> {
    const nodes = this.config.nodes;
    const out = new Float64Array(samples.length * HORIZON_STEPS * nodes);
    const parallel = this.parallel;
    if (parallel) return forecastChunksParallel(parallel.trainer, parallel.inputs, this.trainingBatch, this.prepared, nodes, samples, out);
    return forecastChunks(this.chunkModel(Math.min(batchSize, samples.length)), this.prepared, nodes, samples, out);
  }

  async evaluate(samples: readonly number[]): Promise<ForecastMetrics> {
    return maskedMetrics(await this.forecast(samples), targetsOf(this.prepared, samples));
  }

  /** Gradients of the masked MAE on `samples` (inference-mode BN, no dropout), by tfjs name (chunkedGradients). */
  async gradients(samples: readonly number[]): Promise<Record<string, Float32Array>> {
    return chunkedGradients(this.chunkModel(samples.length), this.prepared, this.config, this.trainableNames(), samples);
  }

  /** Every tensor in tfjs names and layouts. */
  async snapshot(): Promise<GwnWeights> {
    return getGwnWeights(this.training ?? this.inference.for(1), this.config, 2, { rest: this.rest });
  }

  async dispose(): Promise<void> {
    if (this.parallel) this.closing.push(this.parallel.trainer.close());
    this.parallel = undefined;
    this.training = undefined;
    this.trainingBatch = 0;
    this.inference.clear();
    await Promise.all(this.closing.splice(0));
  }
}

/** parameters and persistent state (running statistics, supports) of one compiled copy into another */
function copyModelState(from: Model, to: Model): void {
  const fd = from.kernels.data;
  to.kernels.data.set(fd.subarray(from.runs.params, from.runs.params + from.runs.count), to.runs.params);
  const fs = from.layout.regions.state;
  to.kernels.data.set(fd.subarray(fs.start, fs.end), to.layout.regions.state.start);
}
