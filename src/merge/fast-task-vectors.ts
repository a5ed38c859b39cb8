/**
 * The task-vector methods on the kernel pool (part of the merge executor's fast path, fast-path.ts): ties,
 * task_arithmetic, dare_ties/dare_linear, della/della_linear, breadcrumbs_ties/breadcrumbs with per-tensor
 * sparsifiers, bit-identical to the reference pipeline (task-vector.ts) for the same seed:
 * - inputs on disk: every worker reads its element range of the base and of each model from the shards and
 *   decodes it straight into float32 base and δ = X − B vectors, NaN/±Inf checked and the first level of the
 *   top-k select counted on the way (kernels/wasm/task-vector-from-files.ts); other inputs are read by the main
 *   thread, decoded by the wasm conversions and δ formed by the wasm weighted sum;
 * - the sparsifier on the workers (kernel-sparsify.ts: histogram select, counter-based DARE/DELLA masks);
 * - `tiesCombineF64`: the l1 rescale factors, sign election, disjoint mean and λ in float64 lanes;
 * - the output encoded by the wasm conversion and, into an output file, written by the workers, each its part.
 * A tensor with a non-finite input is redone on the reference path, which names the element.
 */
import { numelOf, type DType } from '../core/dtype.js';
import { counterStream } from '../core/counter-rng.js';
import type { KernelPool } from '../kernels/pool.js';
import {
  TASK_HISTOGRAM_BYTES,
  TASK_INPUT_BF16,
  TASK_INPUT_F16,
  TASK_INPUT_F32,
  taskVectorFromFilesArgs,
  taskVectorFromFilesScratchBytes,
} from '../kernels/wasm/task-vector-from-files.js';
import { combineToFileArgs, combineToFileScratchBytes } from '../kernels/wasm/task-vector-combine.js';
import { OUT_BF16, OUT_F16, OUT_F32 } from '../kernels/wasm/task-vector-passes.js';
import { float32MixApplies } from './consensus-f32.js';
import { FusedTaskVectors } from './fused-task-vectors.js';
import type { FileLocator, FusedTensor } from './fused-model-plan.js';
import { KernelSparsifier } from './kernel-sparsify.js';
import { booleanParam, numberParam } from './method-params.js';
import type { PlannedInput, PlannedTensor } from './plan.js';
import { readRescale } from './task-vector.js';
import type { FastPathDeclaration, MergeArithmetic } from './method.js';

export type RangeReader = (name: string, byteOffset: number, target: Uint8Array) => void;
export type { FileLocator } from './fused-model-plan.js';

const BYTES: Partial<Record<DType, number>> = { BF16: 2, F16: 2, F32: 4 };

/** The part of the executor's TensorSink this path uses (a local type: executor.ts imports fast-path.ts). */
export interface TaskVectorSink {
  writeTensor(name: string, bytes: Uint8Array, dtype: DType, shape: readonly number[]): void;
  /** where a tensor's bytes go in its shard, for workers that write them (fused-task-vectors.ts) */
  tensorTarget?(name: string): { readonly fd: number; readonly position: number };
  markWritten?(name: string): void;
}

export interface TaskVectorSizes {
  /** most inputs of one tensor, base included */
  readonly inputs: number;
  /** most elements of one tensor */
  readonly numel: number;
  /** longest DELLA row (0 when the method is not DELLA) */
  readonly dellaRow: number;
  /** elements a worker reads per input per block */
  readonly blockElements: number;
}

/** A tensor's mix parameters, as FusedTensor holds them. */
type MixParams = Pick<FusedTensor, 'lambda' | 'normalize' | 'rescale' | 'emptyBand' | 'refs' | 'weights' | 'plainDivisor'>;

export class TaskVectorKernels {
  private readonly vectors: readonly Float32Array[];
  private readonly raw: Uint8Array;
  private readonly pointerTable: Uint32Array;
  private readonly weightTable: Float64Array;
  private readonly factorTable: Float64Array;
  private readonly status: Int32Array;
  private readonly sparsifier: KernelSparsifier;
  /** per-thread read blocks and first-level select histograms (2048 u32 per model) of the file loader */
  private readonly taskScratch: { readonly base: number; readonly stride: number; readonly histograms: Uint32Array };
  private readonly blockElements: number;
  /** per-thread mix block and output staging of taskVectorCombineToFile */
  private readonly combineScratch: { readonly base: number; readonly stride: number };
  /** the block-wise passes for inputs on disk (the whole-vector path below covers the rest) */
  private readonly fused: FusedTaskVectors;

  /** Allocates one float32 tensor per input plus one raw 16-bit tensor and the per-thread scratch in the arena. */
  constructor(
    private readonly pool: KernelPool,
    /** the method's name (in messages) and its declared pipeline configuration (method.ts `fastPath`) */
    private readonly method: string,
    private readonly config: Extract<FastPathDeclaration, { kind: 'task_vector' }>,
    private readonly sink: TaskVectorSink,
    private readonly warn: (message: string) => void,
    private readonly seed: number,
    sizes: TaskVectorSizes,
    /** the fused FINAL mix's arithmetic (fused-task-vectors.ts); the whole-vector path always mixes in float64 */
    private readonly arithmetic: MergeArithmetic = 'float32',
  ) {
    const arena = pool.arena;
    this.vectors = Array.from({ length: sizes.inputs }, () => arena.f32(sizes.numel));
    // 4 bytes per element: also the fused path's output buffer, whatever the output dtype
    const raw = arena.u32(sizes.numel);
    this.raw = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    this.pointerTable = arena.u32(pool.partCount * sizes.inputs);
    this.weightTable = arena.f64(sizes.inputs);
    this.factorTable = arena.f64(sizes.inputs);
    const status = arena.u32(1);
    this.status = new Int32Array(status.buffer, status.byteOffset, 1);
    this.sparsifier = new KernelSparsifier(pool, sizes.numel, sizes.dellaRow);
    const stride = taskVectorFromFilesScratchBytes(sizes.blockElements);
    this.taskScratch = {
      base: arena.u32((pool.partCount * stride) / 4).byteOffset,
      stride,
      histograms: arena.u32(Math.max(1, (pool.partCount * (sizes.inputs - 1) * TASK_HISTOGRAM_BYTES) / 4)),
    };
    this.blockElements = sizes.blockElements;
    const combineStride = combineToFileScratchBytes(sizes.blockElements);
    this.combineScratch = { base: arena.u32((pool.partCount * combineStride) / 4).byteOffset, stride: combineStride };
    // the fused passes borrow the output buffer, status and tables (the two paths never overlap)
    const buffers = { inputs: sizes.inputs, out: this.raw, status: this.status, weightTable: this.weightTable, factorTable: this.factorTable };
    this.fused = new FusedTaskVectors(pool, method, config, buffers, seed, warn, sizes.numel);
  }

  /** The tensor's mix parameters (the method's checks and errors). */
  private mixParams(tensor: PlannedTensor): MixParams {
    const method = this.method;
    const lambda = numberParam(tensor.params, 'lambda', method, tensor.name);
    const normalize = booleanParam(tensor.params, 'normalize', method, tensor.name);
    const rescale = readRescale(tensor.params['rescale'] ?? this.config.rescale, method);
    const emptyBand = this.config.sparsifier === 'magnitude_outliers' && tensor.params['breadcrumbs_empty_band'] === true;
    const refs = tensor.models.map((m, i) => m.modelRef ?? `#${i}`);
    const weights = tensor.modelParams.map((params, i) => numberParam(params, 'weight', method, tensor.name, refs[i]));
    let weightSum = 0;
    for (const w of weights) weightSum += w;
    const plainDivisor = Math.abs(weightSum) < 1e-8 ? 1 : weightSum;
    return { lambda, normalize, rescale, emptyBand, refs, weights, plainDivisor };
  }

  /** The fused passes' job for `tensor`, or undefined when an input is not in a file or the passes do not cover it. */
  private fusedJob(tensor: PlannedTensor, locator: (input: PlannedInput) => FileLocator | undefined, params = this.mixParams(tensor)): FusedTensor | undefined {
    const inputs = [tensor.base!, ...tensor.models];
    const locators = inputs.map((input) => locator(input));
    if (!(locators.every((locate) => locate !== undefined) && this.fused.supports(params.rescale))) return undefined;
    const { weights, lambda, plainDivisor } = params;
    const arithmetic = this.arithmetic === 'float32' && float32MixApplies(weights, lambda, plainDivisor) ? 'float32' : 'float64';
    return { tensor, inputs, locators: locators as FileLocator[], ...params, arithmetic };
  }

  /**
   * Merges one task-vector tensor (fastKindOf 'task_vector') and hands its bytes to the sink. `next`: the task-vector
   * tensor merged after this one, if any (the fused passes look ahead to it).
   */
  async merge(
    tensor: PlannedTensor,
    reader: (input: PlannedInput) => RangeReader,
    locator: (input: PlannedInput) => FileLocator | undefined,
    reference: (tensor: PlannedTensor) => Uint8Array,
    next?: PlannedTensor,
  ): Promise<void> {
    const params = this.mixParams(tensor);
    const { lambda, normalize, rescale, emptyBand, refs, weights, plainDivisor } = params;
    const job = this.fusedJob(tensor, locator, params);
    if (job !== undefined) return this.fused.merge(job, this.sink, reference, next === undefined ? undefined : () => this.fusedJob(next, locator));
    const inputs = [tensor.base!, ...tensor.models];
    const locators = inputs.map((input) => locator(input));
    const method = this.method;
    const config = this.config;
    const n = numelOf(tensor.shape);
    const base = this.vectors[0]!.subarray(0, n);
    const deltas = tensor.models.map((_, j) => this.vectors[j + 1]!.subarray(0, n));
    this.status[0] = 0;
    const selects = config.sparsifier === 'magnitude' || config.sparsifier === 'magnitude_outliers';
    let topHistograms: Uint32Array[] | undefined;
    if (locators.every((locate) => locate !== undefined)) {
      topHistograms = await this.loadTaskVectorsFromFiles(inputs, locators as FileLocator[], [base, ...deltas], selects);
    } else {
      await this.loadFloat32(reader(tensor.base!), tensor.base!, base);
      for (let j = 0; j < deltas.length; j++) {
        await this.loadFloat32(reader(tensor.models[j]!), tensor.models[j]!, deltas[j]!);
        await this.pool.weightedSum(deltas[j]!, [deltas[j]!, base], [1, -1]); // δ = X − B, rounded to float32
      }
    }
    if (this.status[0] !== 0) {
      this.sink.writeTensor(tensor.name, reference(tensor), tensor.dtype, tensor.shape);
      return;
    }
    const factors: number[] = [];
    for (let j = 0; j < deltas.length; j++) {
      const delta = deltas[j]!;
      if (config.sparsifier === undefined) {
        factors.push(1);
        continue;
      }
      const params = tensor.modelParams[j] ?? {};
      const random = config.sparsifier === 'random' || config.sparsifier === 'della_magprune';
      // the same options as task-vector.ts's sparsify call; the kernels reproduce it bit for bit
      const factor = await this.sparsifier.sparsify(
        config.sparsifier,
        delta,
        {
        density: numberParam(params, 'density', method, tensor.name, refs[j]),
        rescale,
        shape: tensor.shape,
        ...(typeof params['gamma'] === 'number' ? { gamma: params['gamma'] } : {}),
        ...(typeof params['epsilon'] === 'number' ? { epsilon: params['epsilon'] } : {}),
        emptyBand,
        stream: random ? counterStream(this.seed, tensor.name, refs[j]!) : undefined,
        inPlace: true,
        tensorName: tensor.name,
        modelRef: refs[j]!,
        warn: (message) => this.warn(`${tensor.name}: ${message}`),
        },
        topHistograms?.[j],
      );
      factors.push(factor);
    }
    const count = deltas.length;
    const factorPointer = factors.every((f) => f === 1) ? 0 : this.factorTable.byteOffset;
    this.weightTable.set(weights);
    this.factorTable.set(factors);
    const combine = (kernel: 'tiesCombineF64' | 'tiesCombineF32', out: Float32Array): Promise<void> =>
      this.pool.runSplit(kernel, n, (offset, partLength, part) => {
        const table = part * count;
        for (let j = 0; j < count; j++) this.pointerTable[table + j] = deltas[j]!.byteOffset + offset * 4;
        const head = [out.byteOffset + offset * 4, base.byteOffset + offset * 4, this.pointerTable.byteOffset + table * 4, this.weightTable.byteOffset, count, partLength];
        const tail = [plainDivisor, lambda, config.consensus ? 1 : 0, normalize ? 1 : 0, factorPointer];
        return kernel === 'tiesCombineF32' ? [...head, ...tail, this.status.byteOffset] : [...head, ...tail];
      });
    // float32 (consensus-f32.ts): into the output file block by block, or into the raw buffer (free after
    // decoding); a result that is not finite: float64, written again over the same place
    if (this.arithmetic === 'float32' && float32MixApplies(weights, lambda, plainDivisor)) {
      const toFile = await this.combineToFile(tensor, base, deltas, factorPointer, { plainDivisor, lambda, normalize });
      if (toFile === 'written') return;
      if (toFile === 'no file') {
        const mixed = new Float32Array(this.raw.buffer, this.raw.byteOffset, n);
        this.status[0] = 0;
        await combine('tiesCombineF32', mixed);
        if (this.status[0] === 0) {
          // encoded into the base vector's bytes: the encode must not overlap its float32 source
          const encoded = await this.encode(mixed, tensor.dtype, new Uint8Array(base.buffer, base.byteOffset, base.byteLength));
          await this.write(tensor, encoded);
          return;
        }
      }
    }
    await combine('tiesCombineF64', base);
    await this.write(tensor, await this.encode(base, tensor.dtype));
  }

  /**
   * The float32 mix, encoded and written by the workers block by block (task-vector-combine.ts), when the sink
   * has an output file: 'written', 'no file' (nothing done), or 'not finite' (a result overflowed float32: the
   * caller mixes in float64 and writes again over the same place).
   */
  private async combineToFile(
    tensor: PlannedTensor,
    base: Float32Array,
    deltas: readonly Float32Array[],
    factors: number,
    mix: Pick<MixParams, 'plainDivisor' | 'lambda' | 'normalize'>,
  ): Promise<'written' | 'no file' | 'not finite'> {
    const n = numelOf(tensor.shape);
    if (this.sink.tensorTarget === undefined || this.sink.markWritten === undefined || n === 0) return 'no file';
    const { fd, position } = this.sink.tensorTarget(tensor.name);
    const outKind = tensor.dtype === 'F32' ? OUT_F32 : tensor.dtype === 'BF16' ? OUT_BF16 : OUT_F16;
    const width = BYTES[tensor.dtype]!;
    const { base: scratch, stride } = this.combineScratch;
    this.status[0] = 0;
    await this.pool.runSplit('taskVectorCombineToFile', n, (offset, length, part) =>
      combineToFileArgs({
        n: length,
        base: base.byteOffset + offset * 4,
        deltas: deltas.map((delta) => delta.byteOffset + offset * 4),
        weights: this.weightTable.byteOffset,
        factors,
        plainDivisor: mix.plainDivisor,
        lambda: mix.lambda,
        consensus: this.config.consensus ? 1 : 0,
        normalize: mix.normalize ? 1 : 0,
        status: this.status.byteOffset,
        scratch: scratch + part * stride,
        blockElements: this.blockElements,
        outKind,
        outFd: fd,
        outPosition: position + offset * width,
      }),
    );
    if (this.status[0] !== 0) return 'not finite';
    this.sink.markWritten(tensor.name);
    return 'written';
  }

  /** The encoded tensor into the sink; into an output file by the workers, each its part, when the sink has one. */
  private async write(tensor: PlannedTensor, encoded: Uint8Array): Promise<void> {
    if (this.sink.tensorTarget === undefined || this.sink.markWritten === undefined || encoded.length === 0) {
      this.sink.writeTensor(tensor.name, encoded, tensor.dtype, tensor.shape);
      return;
    }
    const { fd, position } = this.sink.tensorTarget(tensor.name);
    const n = numelOf(tensor.shape);
    const width = encoded.length / n;
    await this.pool.runSplit('writeToFile', n, (offset, length) => [fd, position + offset * width, encoded.byteOffset + offset * width, length * width]);
    this.sink.markWritten(tensor.name);
  }

  /**
   * Inputs on disk: every worker reads its element range of the base and each model from the shards and decodes
   * it into `vectors` (base values, then δ_j = X_j − B), flagging NaN/±Inf in status[0].
   */
  private async loadTaskVectorsFromFiles(
    inputs: readonly PlannedInput[],
    locators: readonly FileLocator[],
    vectors: readonly Float32Array[],
    countTop: boolean,
  ): Promise<Uint32Array[] | undefined> {
    const n = vectors[0]!.length;
    const dtype = inputs[0]!.dtype;
    const width = BYTES[dtype]!;
    const kind = dtype === 'F32' ? TASK_INPUT_F32 : dtype === 'BF16' ? TASK_INPUT_BF16 : TASK_INPUT_F16;
    const ranges = inputs.map((input, j) => locators[j]!(input.tensorName, 0, n * width));
    const { base, stride, histograms } = this.taskScratch;
    const models = inputs.length - 1;
    const perPart = models * (TASK_HISTOGRAM_BYTES / 4);
    if (countTop) histograms.fill(0, 0, this.pool.partCount * perPart);
    await this.pool.runSplit('taskVectorFromFiles', n, (offset, length, part) =>
      taskVectorFromFilesArgs({
        n: length,
        kind,
        status: this.status.byteOffset,
        scratch: base + part * stride,
        blockElements: this.blockElements,
        histograms: countTop ? histograms.byteOffset + part * perPart * 4 : 0,
        targets: vectors.map((vector) => vector.byteOffset + offset * 4),
        fds: ranges.map((range) => range.fd),
        positions: ranges.map((range) => range.position + offset * width),
      }),
    );
    if (!countTop) return undefined;
    const bins = TASK_HISTOGRAM_BYTES / 4;
    return Array.from({ length: models }, (_, j) => {
      const total = new Uint32Array(bins);
      for (let p = 0; p < this.pool.partCount; p++) {
        const at = p * perPart + j * bins;
        for (let b = 0; b < bins; b++) total[b] = total[b]! + histograms[at + b]!;
      }
      return total;
    });
  }

  /** Reads one input into `target` as float32 (wasm decode for 16-bit floats) and flags NaN/±Inf in status[0]. */
  private async loadFloat32(read: RangeReader, input: PlannedInput, target: Float32Array): Promise<void> {
    const n = target.length;
    if (input.dtype === 'F32') read(input.tensorName, 0, new Uint8Array(target.buffer, target.byteOffset, n * 4));
    else {
      const raw = new Uint16Array(this.raw.buffer, this.raw.byteOffset, n);
      read(input.tensorName, 0, new Uint8Array(raw.buffer, raw.byteOffset, n * 2));
      if (input.dtype === 'BF16') await this.pool.bf16ToF32(raw, target);
      else await this.pool.f16ToF32(raw, target);
    }
    const statusPointer = this.status.byteOffset;
    await this.pool.runSplit('findNonFinite', n, (offset, partLength) => [target.byteOffset + offset * 4, partLength, statusPointer]);
  }

  /** values in `dtype`, 16-bit encodings written at `target` (which must not overlap `values`) */
  private async encode(values: Float32Array, dtype: DType, target: Uint8Array = this.raw): Promise<Uint8Array> {
    if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.length * 4);
    const out = new Uint16Array(target.buffer, target.byteOffset, values.length);
    if (dtype === 'BF16') await this.pool.f32ToBf16(values, out);
    else await this.pool.f32ToF16(values, out);
    return new Uint8Array(out.buffer, out.byteOffset, values.length * 2);
  }
}
