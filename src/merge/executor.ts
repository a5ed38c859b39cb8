/**
 * Streaming merge executor (merge-methods.md §0 numerics, §1.6 dtypes, §5.5 memory): runs a `MergePlan`
 * tensor by tensor. Each input is read as late as possible, rounded to `dtype` when one is set
 * (decode → encode → decode), checked for NaN/±Inf, handed to the method's pure `mergeTensor` with its
 * resolved parameters and keyed RNG streams, encoded to the output dtype and passed to the sink; nothing but
 * the current tensor's inputs is kept resident. The caller owns the sink and aborts it on failure.
 */
import { DTYPE_BITS, numelOf, type DType, type FloatDType } from '../core/dtype.js';
import { CheckpointError, ConfigError, ModelevoError, invariant } from '../core/errors.js';
import { counterStream } from '../core/counter-rng.js';
import { createRng } from '../core/rng.js';
import { bytesToFloat32, float32ToBytes } from '../io/convert.js';
import type { KernelPool } from '../kernels/pool.js';
import { zeroPadTo } from './extra-channels.js';
import { MergeFastPath, fastKindOf } from './fast-path.js';
import type { TensorMergeInput } from './method.js';
import type { MergePlan, PlanModels, PlannedInput, PlannedTensor } from './plan.js';
import { TRIM_THRESHOLD_KEY, TRIM_TIE_QUOTA_KEY, computeModelTrimThresholds, uniformDensity } from './trim-scope.js';

/** Receives each merged tensor in plan order, already encoded in `dtype`. */
export interface TensorSink {
  writeTensor(name: string, bytes: Uint8Array, dtype: DType, shape: readonly number[]): void;
  /**
   * Optional, for sinks backed by files: the open descriptor and absolute position `name`'s bytes go to, so the
   * kernel workers can write them there directly (positional writes); the executor then calls `markWritten`.
   * A tensor whose direct write turns out unusable is passed to `writeTensor` instead, over the same bytes.
   */
  tensorTarget?(name: string): { readonly fd: number; readonly position: number };
  markWritten?(name: string): void;
}

export type { MergeArithmetic } from './method.js';
import type { MergeArithmetic } from './method.js';

export interface ProgressReporter {
  update(done: number, total: number, tensorName: string): void;
  finish(): void;
}

export interface ExecuteOptions {
  /** run seed for random methods (default 0) */
  readonly seed?: number;
  /** inputs are rounded to this dtype after loading (config `dtype`) */
  readonly inputDType?: FloatDType;
  readonly progress?: ProgressReporter;
  readonly warn?: (message: string) => void;
  /**
   * element-wise arithmetic of the linear fast path and of the task-vector mix (1–4 models): 'float32' is the
   * default of executePlanWithKernels, 'float64' of executePlan; the reference linear merge always sums in float64
   */
  readonly arithmetic?: MergeArithmetic;
}

export interface ExecuteStats {
  readonly tensors: number;
  /** tensor data bytes written */
  readonly bytes: number;
  readonly seconds: number;
}

/** Cuts a row-major 2-D tensor to its leading `[rows, cols]` block (§3.14). */
function cutTo(values: Float32Array, shape: readonly number[], target: readonly number[]): Float32Array {
  const [rows, cols] = [target[0]!, target[1]!];
  const stride = shape[1]!;
  if (cols === stride) return values.subarray(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * stride, r * stride + cols), r * cols);
  return out;
}

function roundTo(values: Float32Array, dtype: FloatDType | undefined): Float32Array {
  if (dtype === undefined || dtype === 'F32' || dtype === 'F64') return values;
  return bytesToFloat32(float32ToBytes(values, dtype), dtype);
}

/** Reads one planned input as float32: cut to the planned shape, rounded to `inputDType`, checked finite. */
export function loadPlannedInput(models: PlanModels, input: PlannedInput, shape: readonly number[], inputDType: FloatDType | undefined): Float32Array {
  const checkpoint = models.get(input.modelKey);
  let values = checkpoint.readFloat32(input.tensorName);
  if (values.length > numelOf(shape)) values = cutTo(values, input.shape, shape);
  // only the AnyFit channel rule (extra-channels.ts) plans a shape larger than an input
  else if (values.length < numelOf(shape)) values = zeroPadTo(values, input.shape, shape);
  values = roundTo(values, inputDType);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      const rounded = inputDType && inputDType !== 'F32' ? ` after rounding to ${inputDType}` : '';
      throw new CheckpointError(`non-finite value ${v} at flat index ${i} of tensor '${input.tensorName}' in model '${input.modelRef}'${rounded}`, {
        code: 'VALUE_INVALID',
        file: checkpoint.source,
        tensor: input.tensorName,
        hint: rounded ? 'the value overflows the configured dtype; merge in float32 or bfloat16' : 'the input model is corrupt or diverged; fix or drop it',
        details: { model: input.modelRef, index: i },
      });
    }
  }
  return values;
}

export function mergeOne(plan: MergePlan, models: PlanModels, tensor: PlannedTensor, options: ExecuteOptions): Uint8Array {
  if (tensor.copyOnly) {
    const donor = tensor.base ?? tensor.models[0]!;
    return models.get(donor.modelKey).readBytes(donor.tensorName);
  }
  const seed = options.seed ?? 0;
  const base = tensor.base ? loadPlannedInput(models, tensor.base, tensor.shape, options.inputDType) : undefined;
  const inputs = tensor.models.map((input) => loadPlannedInput(models, input, tensor.shape, options.inputDType));
  const modelRefs = tensor.models.map((input) => input.modelRef);
  const mergeInput: TensorMergeInput = {
    tensorName: tensor.name,
    shape: tensor.shape,
    base,
    models: inputs,
    modelRefs,
    modelParams: tensor.modelParams,
    params: tensor.params,
    rngFor: (index) => createRng(seed, tensor.name, modelRefs[index] ?? `#${index}`),
    streamFor: (index) => counterStream(seed, tensor.name, modelRefs[index] ?? `#${index}`),
    warn: (message) => options.warn?.(`${tensor.name}: ${message}`),
    arithmetic: options.arithmetic ?? 'float64',
  };
  let merged: Float32Array;
  try {
    merged = plan.method.mergeTensor(mergeInput);
  } catch (error) {
    if (error instanceof ModelevoError) throw error;
    throw new ModelevoError('INTERNAL', `merge method ${plan.method.name} failed on tensor '${tensor.name}': ${(error as Error).message}`, {
      cause: error,
      hint: 'this is a bug in the merge method; rerun with --debug and report it',
      details: { tensor: tensor.name },
    });
  }
  invariant(
    merged.length === numelOf(tensor.shape),
    () => `${plan.method.name} returned ${merged.length} values for '${tensor.name}' of shape [${tensor.shape.join(', ')}]`,
  );
  return float32ToBytes(merged, tensor.dtype as FloatDType);
}

/** Runs every planned tensor in order into `sink`. Throws on the first error (the caller aborts the sink). */
export function executePlan(plan: MergePlan, models: PlanModels, sink: TensorSink, options: ExecuteOptions = {}): ExecuteStats {
  const started = performance.now();
  let bytes = 0;
  const total = plan.tensors.length;
  plan.tensors.forEach((tensor, index) => {
    const encoded = mergeOne(plan, models, tensor, options);
    sink.writeTensor(tensor.name, encoded, tensor.dtype, tensor.shape);
    bytes += encoded.byteLength;
    options.progress?.update(index + 1, total, tensor.name);
  });
  options.progress?.finish();
  return { tensors: total, bytes, seconds: (performance.now() - started) / 1000 };
}

/**
 * `executePlan` with the WebAssembly fast paths (fast-path.ts) on `pool`: linear, ties and task_arithmetic
 * tensors run on the pool's workers while the main thread reads and writes; every other tensor runs the
 * reference path above. Output bytes equal the reference path's, except linear tensors in float32 arithmetic
 * (the default), which agree to float32 rounding (see fast-path.ts for the exact contract).
 */
export async function executePlanWithKernels(
  plan: MergePlan,
  models: PlanModels,
  sink: TensorSink,
  pool: KernelPool,
  options: ExecuteOptions & { readonly chunkElements?: number; readonly fileBlockElements?: number } = {},
): Promise<ExecuteStats> {
  const started = performance.now();
  options = { ...options, arithmetic: options.arithmetic ?? 'float32' };
  const fast = MergeFastPath.create(pool, plan, models, sink, {
    inputDType: options.inputDType,
    arithmetic: options.arithmetic,
    warn: options.warn,
    chunkElements: options.chunkElements,
    fileBlockElements: options.fileBlockElements,
    seed: options.seed,
  });
  if (fast === undefined) return executePlan(plan, models, sink, options);
  const reference = (tensor: PlannedTensor): Uint8Array => mergeOne(plan, models, tensor, options);
  let bytes = 0;
  const total = plan.tensors.length;
  for (let index = 0; index < total; index++) {
    const tensor = plan.tensors[index]!;
    if (!(await fast.tryMerge(tensor, fastKindOf(plan, tensor, options.inputDType), reference))) {
      await fast.flush();
      const encoded = reference(tensor);
      sink.writeTensor(tensor.name, encoded, tensor.dtype, tensor.shape);
    }
    bytes += outputBytes(tensor);
    options.progress?.update(index + 1, total, tensor.name);
  }
  await fast.flush();
  options.progress?.finish();
  return { tensors: total, bytes, seconds: (performance.now() - started) / 1000 };
}

function outputBytes(tensor: PlannedTensor): number {
  return Math.ceil((numelOf(tensor.shape) * DTYPE_BITS[tensor.dtype]) / 8);
}

/**
 * P4 `trim_scope: model`: before merging, finds each model's whole-model TIES threshold over its task vectors
 * (streamed, two or three passes reading one tensor pair at a time) and returns a plan whose per-model
 * parameters carry the threshold and per-tensor tie quota (trim-scope.ts contract). Plans without it are
 * returned unchanged.
 */
export async function prepareModelTrim(plan: MergePlan, models: PlanModels, inputDType: FloatDType | undefined): Promise<MergePlan> {
  const trimmed = plan.tensors.filter((t) => !t.copyOnly && t.params['trim_scope'] === 'model');
  if (trimmed.length === 0) return plan;
  const refs = trimmed[0]!.models.map((m) => m.modelKey);
  const odd = trimmed.find((t) => t.base === undefined || t.models.length !== refs.length || t.models.some((m, i) => m.modelKey !== refs[i]));
  if (odd) {
    throw new ConfigError([{ path: ['parameters', 'trim_scope'], message: `trim_scope: model needs the same base and models for every tensor; '${odd.name}' differs` }], {
      hint: 'use a models: config (one slice) with trim_scope: model, or trim_scope: tensor',
    });
  }
  const inputs = refs.map((_, i) => {
    const modelRef = trimmed[0]!.models[i]!.modelRef;
    const density = uniformDensity(
      modelRef,
      trimmed.map((t) => [t.name, Number(t.modelParams[i]?.['density'] ?? 1)] as const),
    );
    function* deltas(): Iterable<Float32Array> {
      for (const tensor of trimmed) {
        const base = loadPlannedInput(models, tensor.base!, tensor.shape, inputDType);
        const model = loadPlannedInput(models, tensor.models[i]!, tensor.shape, inputDType);
        const delta = new Float32Array(base.length);
        for (let k = 0; k < delta.length; k++) delta[k] = model[k]! - base[k]!;
        yield delta;
      }
    }
    return { modelRef, density, deltas };
  });
  const thresholds = await computeModelTrimThresholds(inputs, { tieQuotas: true });
  const streamIndex = new Map(trimmed.map((t, p) => [t.name, p]));
  const tensors = plan.tensors.map((tensor): PlannedTensor => {
    const p = streamIndex.get(tensor.name);
    if (p === undefined) return tensor;
    const modelParams = tensor.modelParams.map((params, i) => ({
      ...params,
      [TRIM_THRESHOLD_KEY]: thresholds[i]!.threshold,
      [TRIM_TIE_QUOTA_KEY]: thresholds[i]!.tieQuotas?.[p] ?? 0,
    }));
    return { ...tensor, modelParams };
  });
  return { ...plan, tensors };
}

/**
 * Progress on a stream: on a TTY one line rewritten in place; otherwise a line at every 10 % step, so logs
 * stay short.
 */
export function createStreamProgress(stream: NodeJS.WriteStream = process.stderr, label = 'merging'): ProgressReporter {
  const started = performance.now();
  let lastStep = -1;
  let wroteLine = false;
  return {
    update(done, total, tensorName) {
      const percent = total === 0 ? 100 : Math.floor((100 * done) / total);
      const elapsed = ((performance.now() - started) / 1000).toFixed(1);
      if (stream.isTTY) {
        const width = 24;
        const filled = Math.round((width * percent) / 100);
        const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
        const columns = stream.columns ?? 100;
        const line = `${label} [${bar}] ${done}/${total} ${elapsed}s ${tensorName}`.slice(0, Math.max(20, columns - 1));
        stream.write(`\r\x1b[2K${line}`);
        wroteLine = true;
        return;
      }
      const step = Math.floor(percent / 10);
      if (step > lastStep) {
        lastStep = step;
        stream.write(`${label}: ${done}/${total} tensors (${percent}%) ${elapsed}s\n`);
      }
    },
    finish() {
      if (wroteLine) stream.write('\n');
    },
  };
}
