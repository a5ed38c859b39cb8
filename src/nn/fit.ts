/**
 * The one training loop (issue #22 item 2): epochs, a seeded batch order, batches (the last partial one
 * dropped, padded or kept), an optional step cap, a validation metric every N steps or every epoch, early
 * stopping (patience, min delta, restore the best parameters), checkpoints to safetensors (atomic) and an
 * exact resume, progress callbacks and a divergence check.
 *
 * Three entry points share the loop: `fitLoop` drives any per-batch update (a `FitTarget`: continual
 * learning's strategies step their own way), `fitLoopAsync` the same with updates and metrics that return
 * promises (Graph WaveNet's sessions), `fit` an engine session (`openTrainer`) over row-major data.
 *
 * Determinism: the default order is one stream `createRng(shuffleKey, seed)` that shuffles a persistent
 * index array in place at the start of every epoch (Fisher–Yates from the end), so a resumed run replays the
 * earlier epochs' shuffles (no training) and continues with the very batches an uninterrupted run would see.
 */
import { createRng } from '../core/rng.js';
import { ModelevoError } from '../core/errors.js';
import { SafetensorsFile } from '../io/safetensors/reader.js';
import { BEST_TENSOR, readState, stateMetadata, type LoopState } from './fit-state.js';
import { EarlyStopping } from './fit-early-stop.js';
import { epochOrders } from './fit-order.js';
import { loadModel, saveModel, type ExtraTensor } from './checkpoint.js';
import type { ArenaArray } from './kernels/kernels.js';
import type { Model } from './model.js';
import type { TrainingSession } from './session.js';
import { Trainer, type GradientHook } from './trainer.js';
import type { AsyncFitLoopOptions, AsyncFitTarget, EpochSummary, FitLoopOptions, FitResult, FitTarget } from './fit-options.js';

// the options and results live in fit-options.ts; the ones callers use are re-exported here
export type { AsyncFitLoopOptions, AsyncFitTarget, EpochSummary, FitLoopOptions, FitResult, FitTarget } from './fit-options.js';

/** A non-finite training loss: the run diverged. */
export class TrainingDivergedError extends ModelevoError {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly epoch: number,
  ) {
    super('VALUE_INVALID', `training diverged at step ${step} (loss ${loss})`, {
      hint: 'lower the learning rate',
      details: { step, epoch, expected: 'a finite loss', actual: loss },
    });
  }
}

function configError(message: string, hint: string): ModelevoError {
  return new ModelevoError('CONFIG_INVALID', message, { hint });
}

function checkOptions(count: number, o: AsyncFitLoopOptions): void {
  const positive = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v > 0);
  if (!Number.isInteger(count) || count < 0) throw new ModelevoError('VALUE_INVALID', `the example count must be a non-negative integer, got ${count}`, { hint: 'pass the number of training examples' });
  if (!positive(o.batch)) throw configError(`batch must be a positive integer, got ${o.batch}`, 'pass the batch size the model was compiled for');
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw configError(`epochs must be a non-negative integer, got ${o.epochs}`, 'pass e.g. epochs: 10');
  if (o.maxSteps !== undefined && (!Number.isInteger(o.maxSteps) || o.maxSteps < 0)) throw configError(`maxSteps must be a non-negative integer, got ${o.maxSteps}`, 'omit it for no cap');
  if (!positive(o.maxStepsPerEpoch)) throw configError(`maxStepsPerEpoch must be a positive integer, got ${o.maxStepsPerEpoch}`, 'omit it for whole epochs');
  const v = o.validation;
  if (v && (typeof v.every === 'number' && !positive(v.every))) throw configError(`validation.every must be 'epoch' or a positive step count, got ${v.every}`, "use 'epoch' or e.g. 100");
  const c = o.continueFrom;
  if (c && (!Number.isInteger(c.epoch) || c.epoch < 0 || (c.sinceBest !== undefined && (!Number.isInteger(c.sinceBest) || c.sinceBest < 0)))) throw configError(`continueFrom needs a non-negative integer epoch and sinceBest, got ${JSON.stringify(c)}`, 'pass the number of epochs already run');
  if (c && o.resumeFrom) throw configError('continueFrom and resumeFrom both set a start', 'resume from a checkpoint or continue from your own records, not both');
  if (v && v.patience !== undefined && !positive(v.patience)) throw configError(`validation.patience must be a positive integer, got ${v.patience}`, 'omit it to never stop early');
  if (o.checkpoint && typeof o.checkpoint.every === 'number' && !positive(o.checkpoint.every)) throw configError(`checkpoint.every must be 'epoch' or a positive step count, got ${o.checkpoint.every}`, "use 'epoch' or e.g. 500");
}

/**
 * A request from the loop to its driver: train on `rows` (answer: the loss), evaluate the validation metric
 * (answer: the metric) or report an epoch's `summary` to onEpoch. One object, reused for every request.
 */
interface LoopRequest {
  kind: 'train' | 'metric' | 'epoch';
  rows: Int32Array;
  epoch: number;
  summary: EpochSummary | undefined;
}

/** The loop itself, as a generator so that one body serves the synchronous and the asynchronous driver. */
function* loop(target: AsyncFitTarget, count: number, options: AsyncFitLoopOptions): Generator<LoopRequest, FitResult, number> {
  checkOptions(count, options);
  const { batch, validation } = options;
  const lastBatch = options.lastBatch ?? 'drop';
  if ((options.checkpoint && !target.save) || (options.resumeFrom && !target.restore)) {
    throw configError('this training target cannot write or read checkpoints', 'checkpoint through fit() on a one-thread engine Trainer');
  }
  const c = options.continueFrom;
  let state: LoopState = { epoch: c?.epoch ?? 0, batchInEpoch: 0, steps: 0, best: c?.best && { ...c.best, step: 0 }, sinceBest: c?.sinceBest ?? 0, metrics: [] };
  let resumedBest: Float32Array | undefined;
  if (options.resumeFrom) {
    const read = readState(options.resumeFrom, count, batch);
    state = read.state;
    target.restore!(options.resumeFrom, state.steps);
    resumedBest = read.best;
  }
  const early = new EarlyStopping(state, validation, target.restorable && (() => target.restorable!()), resumedBest);
  if (options.resumeFrom && options.rng) throw configError('resumeFrom cannot replay a caller-owned rng stream', 'resume with shuffleKey and seed instead of rng');
  const rng = options.rng ?? createRng(options.shuffleKey ?? 'fit-order', options.seed);
  const epochOrder = epochOrders(count, options, rng);
  // a resumed run replays the earlier epochs' shuffles so the stream is where an uninterrupted run has it
  if (!options.order && !options.rng) for (let e = 0; e < state.epoch; e++) epochOrder(e);

  const fullBatches = Math.floor(count / batch);
  const remainder = count - fullBatches * batch;
  const batches = fullBatches + (remainder > 0 && lastBatch !== 'drop' ? 1 : 0);
  const rows = new Int32Array(batch);
  const shortRows = rows.subarray(0, remainder);
  let finalLoss = NaN;
  let lossSum = 0;
  let callSteps = 0;
  let stopped: FitResult['stopped'] = 'epochs';
  let epochsDone = state.epoch;

  const request: LoopRequest = { kind: 'train', rows: new Int32Array(0), epoch: 0, summary: undefined };
  const ask = (kind: LoopRequest['kind'], rows: Int32Array, epoch: number): LoopRequest => {
    request.kind = kind;
    request.rows = rows;
    request.epoch = epoch;
    return request;
  };
  /** records `metric`; true when early stopping says stop */
  const judge = (metric: number, epoch: number): boolean => {
    if (!early.judge(metric, epoch)) return false;
    stopped = 'patience';
    return true;
  };
  const save = (epoch: number, batchInEpoch: number): void => {
    const extra: ExtraTensor[] = early.bestRun ? [{ name: BEST_TENSOR, values: early.bestRun }] : [];
    target.save!(options.checkpoint!.path, stateMetadata({ ...state, epoch, batchInEpoch }, count, batch), extra);
  };

  outer: for (let epoch = state.epoch; epoch < options.epochs; epoch++) {
    const order = epochOrder(epoch);
    const bestBefore = state.best;
    let epochSum = 0;
    let epochSteps = 0;
    const skip = epoch === state.epoch ? state.batchInEpoch : 0;
    for (let b = skip; b < batches; b++) {
      if (options.maxStepsPerEpoch !== undefined && b >= options.maxStepsPerEpoch) break;
      if (options.deadline !== undefined && b > skip && performance.now() >= options.deadline) break;
      if (options.maxSteps !== undefined && state.steps >= options.maxSteps) {
        stopped = 'max_steps';
        break outer;
      }
      const start = b * batch;
      let batchRows = rows;
      if (b < fullBatches) rows.set(order.subarray(start, start + batch));
      else if (lastBatch === 'keep') {
        shortRows.set(order.subarray(start, count));
        batchRows = shortRows;
      } else {
        // pad: the leftovers, then the epoch's first examples again (wrapping if the batch exceeds the data)
        for (let r = 0; r < batch; r++) rows[r] = order[r < remainder ? start + r : (r - remainder) % count]!;
      }
      const loss = yield ask('train', batchRows, epoch);
      state.steps++;
      if (!Number.isFinite(loss) && options.divergence !== 'continue') throw new TrainingDivergedError(state.steps, loss, epoch);
      finalLoss = loss;
      lossSum += loss;
      epochSum += loss;
      callSteps++;
      epochSteps++;
      options.onStep?.(loss, state.steps, epoch);
      if (validation && typeof validation.every === 'number' && state.steps % validation.every === 0) {
        if (judge(yield ask('metric', rows, epoch), epoch)) break outer;
      }
      if (options.checkpoint && typeof options.checkpoint.every === 'number' && state.steps % options.checkpoint.every === 0) save(epoch, b + 1);
    }
    const stop = validation !== undefined && (validation.every ?? 'epoch') === 'epoch' && judge(yield ask('metric', rows, epoch), epoch);
    epochsDone = epoch + 1;
    if (options.onEpoch) {
      request.summary = { epoch, steps: state.steps, meanLoss: epochSum / Math.max(epochSteps, 1), metric: early.lastMetric, improved: state.best !== bestBefore };
      yield ask('epoch', rows, epoch);
    }
    if (stop) break;
    if (options.checkpoint && (options.checkpoint.every ?? 'epoch') === 'epoch') save(epoch + 1, 0);
    if (options.deadline !== undefined && performance.now() >= options.deadline) {
      stopped = 'deadline';
      break;
    }
  }
  early.restoreBest();
  return { steps: state.steps, epochs: epochsDone, finalLoss, meanLoss: lossSum / Math.max(callSteps, 1), stopped, best: state.best, metrics: state.metrics };
}

/** Runs the loop over a synchronous target (see the module comment). */
export function fitLoop(target: FitTarget, count: number, options: FitLoopOptions): FitResult {
  const steps = loop(target, count, options);
  let next = steps.next();
  while (!next.done) {
    const r = next.value;
    if (r.kind === 'epoch') options.onEpoch!(r.summary!);
    next = steps.next(r.kind === 'train' ? target.trainOn(r.rows, r.epoch) : r.kind === 'metric' ? options.validation!.metric() : 0);
  }
  return next.value;
}


/** The same loop, awaiting each update and each metric (`rows` stays valid until the update resolves). */
export async function fitLoopAsync(target: AsyncFitTarget, count: number, options: AsyncFitLoopOptions): Promise<FitResult> {
  const steps = loop(target, count, options);
  let next = steps.next();
  while (!next.done) {
    const r = next.value;
    if (r.kind === 'epoch') await options.onEpoch!(r.summary!);
    next = steps.next(r.kind === 'train' ? await target.trainOn(r.rows, r.epoch) : r.kind === 'metric' ? await options.validation!.metric() : 0);
  }
  return next.value;
}

/** Row-major training data: `count` examples, inputs and targets each a fixed number of floats per example. */
export interface FitData {
  readonly count: number;
  readonly inputs: Float32Array;
  /** may be `inputs` itself (an autoencoder) */
  readonly targets: Float32Array;
}

export interface FitOptions extends FitLoopOptions {
  /** edits the gradient run between backward and the update (one-thread Trainer only) */
  readonly beforeUpdate?: GradientHook;
}

function strideOf(values: Float32Array, count: number, what: string): number {
  const stride = values.length / count;
  if (!Number.isInteger(stride) || stride < 1) {
    throw new ModelevoError('SHAPE_MISMATCH', `${what} holds ${values.length} floats, not a whole row for each of ${count} examples`, { details: { expected: `a multiple of ${count}`, actual: values.length } });
  }
  return stride;
}

/** the model's flat parameter run and persistent state, as live views (what restoring the best puts back) */
export function restorableViews(model: Model): ArenaArray[] {
  const data = model.kernels.data;
  const { runs } = model;
  const { state } = model.layout.regions;
  return [data.subarray(runs.params, runs.params + runs.count), data.subarray(state.start, state.end)];
}

function optimizerState(model: Model): ArenaArray {
  const { start, end } = model.layout.regions.optimizer;
  return model.kernels.data.subarray(start, end);
}

const OPTIMIZER_TENSOR = 'fit.optimizer_state';

/** Trains an engine session on `data` with the one loop; the batch buffers are allocated once. */
export function fit(session: TrainingSession, data: FitData, options: FitOptions): FitResult {
  const { batch } = options;
  if (data.count < 1) throw new ModelevoError('VALUE_INVALID', `no examples to train on (count ${data.count}), expected at least one`, { hint: 'provide a non-empty training set' });
  const inStride = strideOf(data.inputs, data.count, 'inputs');
  const outStride = strideOf(data.targets, data.count, 'targets');
  if (options.lastBatch === 'keep') throw configError("lastBatch 'keep' cannot train an engine session: its model is compiled for one batch size", "use 'drop' or 'pad'");
  const trainer = session instanceof Trainer ? session : undefined;
  if (!trainer && (options.beforeUpdate || options.checkpoint || options.resumeFrom)) {
    throw configError('beforeUpdate, checkpoint and resumeFrom need a one-thread Trainer (the data-parallel optimiser state and gradient are split over two arenas)', 'open the session with workers: 1');
  }
  const inputs = new Float32Array(batch * inStride);
  const targets = data.targets === data.inputs ? inputs : new Float32Array(batch * outStride);
  const gather = (from: Float32Array, into: Float32Array, rows: Int32Array, stride: number) => {
    for (let r = 0; r < rows.length; r++) into.set(from.subarray(rows[r]! * stride, (rows[r]! + 1) * stride), r * stride);
  };
  const model = session.model;
  const target: FitTarget = {
    trainOn(rows) {
      gather(data.inputs, inputs, rows, inStride);
      if (targets !== inputs) gather(data.targets, targets, rows, outStride);
      return session.step(inputs, targets);
    },
    restorable: () => restorableViews(model),
    save(path, metadata, extra) {
      saveModel(model, path, metadata, [...extra, { name: OPTIMIZER_TENSOR, values: optimizerState(model) }]);
    },
    restore(path, steps) {
      loadModel(model, path);
      const file = SafetensorsFile.open(path);
      try {
        const saved = file.readFloat32(OPTIMIZER_TENSOR);
        const live = optimizerState(model);
        if (saved.length !== live.length) throw new ModelevoError('CHECKPOINT_INVALID', `${path} holds ${saved.length} optimiser floats, this model's optimiser has ${live.length}`, { hint: 'resume with the same optimiser kind' });
        live.set(saved);
      } finally {
        file.close();
      }
      trainer!.steps = steps;
    },
  };
  const previousHook = trainer?.beforeUpdate;
  if (trainer && options.beforeUpdate) trainer.beforeUpdate = options.beforeUpdate;
  try {
    return fitLoop(target, data.count, options);
  } finally {
    if (trainer) trainer.beforeUpdate = previousHook;
  }
}
