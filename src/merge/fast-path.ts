/**
 * WebAssembly fast paths of the streaming merge executor (merge-methods.md §5.5; engines.md §4, §8): the hot
 * cases run on the kernel pool's worker threads while the main thread reads the next input bytes straight
 * from the shard files into the pool's shared memory and writes the previous output (or, for linear merges
 * of shards on disk, the workers do all reading and writing themselves).
 * - linear over bf16/f32 inputs → bf16/f32 output: decode, weighted sum, round and encode in one pass, by
 *   `linearF32` (float32 arithmetic, §0's convention and the default; `weightedSumFloat32` in
 *   kernels/reference/vector.ts bit for bit, hence within float32 rounding of `linear.mergeTensor`, which sums
 *   in float64: `float32SumErrorBound` there states by how much) or, with `arithmetic: 'float64'` or a
 *   weight outside float32's normal range, `linearF64` (bit-identical to `linear.mergeTensor`). A tensor whose
 *   float32 sum overflows is flagged like a non-finite input and redone on the reference path. When every
 *   input is a shard on disk the workers read their own ranges in cache-sized blocks (`linearF32FromFiles`,
 *   kernels/wasm/file-kernels.ts) and, when the sink is a file (`tensorTarget`), write the merged blocks
 *   straight into it; other inputs are read by the main thread in chunks, the next chunk while the workers
 *   compute this one;
 * - ties, task_arithmetic, dare_ties/dare_linear, della/della_linear, breadcrumbs_ties/breadcrumbs (per-tensor
 *   sparsifiers): fast-task-vectors.ts, bit-identical to the reference pipeline for the same seed and the same
 *   `arithmetic` (the mix of 1–4 models in float32 by default, consensus-f32.ts; float64 otherwise).
 * A method opts in by declaring `fastPath` (method.ts); everything else returns false and the executor runs
 * the method's pure `mergeTensor`.
 */
import { numelOf, type DType } from '../core/dtype.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { KernelPool } from '../kernels/pool.js';
import { float32Weights } from '../kernels/reference/vector.js';
import { linearFromFilesArgs, linearFromFilesScratchBytes } from '../kernels/wasm/file-kernels.js';
import type { MergeArithmetic, TensorSink } from './executor.js';
import { booleanParam, numberParam } from './method-params.js';
import { TaskVectorKernels, type FileLocator, type RangeReader } from './fast-task-vectors.js';
import type { MergePlan, PlanModels, PlannedInput, PlannedTensor } from './plan.js';
import { linearCoefficients } from './methods/linear.js';
import { dellaRowLength } from './sparsify.js';

type FastKind = 'linear' | 'task_vector';

const BYTES: Partial<Record<DType, number>> = { BF16: 2, F16: 2, F32: 4 };
/** Default chunk of the streamed linear path: 4M elements (8 MB of bf16 per input). */
export const DEFAULT_CHUNK_ELEMENTS = 1 << 22;

/**
 * Default block a worker reads per input on the file-reading linear path: 32K elements (64 KB of bf16), so
 * four inputs and the output block stay in L2 while one readSync call still moves enough bytes to amortise it.
 */
export const DEFAULT_FILE_BLOCK_ELEMENTS = 1 << 15;



/** Which fast path applies to `tensor`, if any (inputs rounded to `inputDType` must be stored in it already). */
export function fastKindOf(plan: MergePlan, tensor: PlannedTensor, inputDType: DType | undefined): FastKind | undefined {
  if (tensor.copyOnly || tensor.models.length === 0) return undefined;
  const inputs = [...(tensor.base ? [tensor.base] : []), ...tensor.models];
  const dtype = inputs[0]!.dtype;
  if (inputs.some((input) => input.dtype !== dtype || !sameShape(input.shape, tensor.shape))) return undefined;
  if (inputDType !== undefined && inputDType !== 'F32' && inputDType !== 'F64' && inputDType !== dtype) return undefined;
  const declared = plan.method.fastPath;
  if (declared?.kind === 'linear') {
    return (dtype === 'BF16' || dtype === 'F32') && (tensor.dtype === 'BF16' || tensor.dtype === 'F32') ? 'linear' : undefined;
  }
  if (declared?.kind !== 'task_vector' || tensor.base === undefined || tensor.params['trim_scope'] === 'model') return undefined;
  return BYTES[dtype] !== undefined && BYTES[tensor.dtype] !== undefined ? 'task_vector' : undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function rangeReaderOf(checkpoint: Checkpoint): RangeReader {
  const direct = (checkpoint as Partial<{ readRangeInto: RangeReader }>).readRangeInto;
  if (typeof direct === 'function') return direct.bind(checkpoint);
  // in-memory and LoRA views: read the whole tensor once, then serve its chunks
  let cached: { name: string; bytes: Uint8Array } | undefined;
  return (name, byteOffset, target) => {
    if (cached?.name !== name) cached = { name, bytes: checkpoint.readBytes(name) };
    target.set(cached.bytes.subarray(byteOffset, byteOffset + target.length));
  };
}

function fileLocatorOf(checkpoint: Checkpoint): FileLocator | undefined {
  const locate = (checkpoint as Partial<{ fileRange: FileLocator }>).fileRange;
  return typeof locate === 'function' ? locate.bind(checkpoint) : undefined;
}

interface ChunkSet {
  readonly inputs: Uint8Array[];
}

export class MergeFastPath {
  private readonly readers = new Map<string, RangeReader>();
  private readonly locators = new Map<string, FileLocator | undefined>();
  private pending: Promise<void> = Promise.resolve();
  private deferred: (() => void) | undefined;
  private tensorParity = 0;
  private chunkParity = 0;
  private readonly pointerTable: Uint32Array;
  private readonly weightTable: Float64Array;
  private readonly status: Int32Array;

  private constructor(
    private readonly pool: KernelPool,
    private readonly models: PlanModels,
    private readonly sink: TensorSink,
    private readonly chunkElements: number,
    private readonly chunkSets: readonly ChunkSet[],
    private readonly outputs: readonly Uint8Array[],
    maxInputs: number,
    private readonly fileScratch: { readonly base: number; readonly stride: number; readonly blockElements: number },
    private readonly arithmetic: MergeArithmetic,
    private readonly taskVectors: TaskVectorKernels | undefined,
    /** each task-vector tensor's successor on that path, in plan order (the fused passes look ahead to it) */
    private readonly nextTaskVector: ReadonlyMap<PlannedTensor, PlannedTensor>,
  ) {
    this.pointerTable = pool.arena.u32(pool.partCount * (maxInputs + 1));
    this.weightTable = pool.arena.f64(maxInputs + 1);
    const status = pool.arena.u32(2);
    this.status = new Int32Array(status.buffer, status.byteOffset, 2);
  }

  /**
   * Sizes the shared-memory buffers for the plan's fast-path tensors: two chunk sets of the streamed inputs,
   * two whole output tensors (one is written while the next is computed), and for the task-vector path one
   * float32 tensor per input plus one raw tensor (TaskVectorKernels). Returns undefined when no tensor qualifies.
   */
  static create(
    pool: KernelPool,
    plan: MergePlan,
    models: PlanModels,
    sink: TensorSink,
    options: {
      readonly inputDType?: DType;
      readonly warn?: (message: string) => void;
      readonly chunkElements?: number;
      readonly fileBlockElements?: number;
      readonly arithmetic?: MergeArithmetic;
      /** run seed of the random sparsifiers (ExecuteOptions.seed) */
      readonly seed?: number;
    } = {},
  ): MergeFastPath | undefined {
    const chunk = options.chunkElements ?? DEFAULT_CHUNK_ELEMENTS;
    let linearInputs = 0;
    let linearOut = 0;
    let vectorInputs = 0;
    let vectorNumel = 0;
    let dellaRow = 0;
    const nextTaskVector = new Map<PlannedTensor, PlannedTensor>();
    let lastTaskVector: PlannedTensor | undefined;
    for (const tensor of plan.tensors) {
      const kind = fastKindOf(plan, tensor, options.inputDType);
      if (kind === 'task_vector') {
        if (lastTaskVector !== undefined) nextTaskVector.set(lastTaskVector, tensor);
        lastTaskVector = tensor;
      }
      const numel = numelOf(tensor.shape);
      if (kind === 'linear') {
        linearInputs = Math.max(linearInputs, tensor.models.length);
        linearOut = Math.max(linearOut, numel * BYTES[tensor.dtype]!);
      } else if (kind === 'task_vector') {
        vectorInputs = Math.max(vectorInputs, tensor.models.length + 1);
        vectorNumel = Math.max(vectorNumel, numel);
        if (plan.method.fastPath?.kind === 'task_vector' && plan.method.fastPath.sparsifier === 'della_magprune') dellaRow = Math.max(dellaRow, dellaRowLength(tensor.shape, numel));
      }
    }
    if (linearInputs === 0 && vectorInputs === 0) return undefined;
    const arena = pool.arena;
    const chunkSets = linearInputs === 0 ? [] : [0, 1].map(() => ({ inputs: Array.from({ length: linearInputs }, () => u8(arena.u32(chunk))) }));
    const outputs = linearOut === 0 ? [] : [0, 1].map(() => u8(arena.u32(Math.ceil(linearOut / 4))));
    const maxInputs = linearInputs;
    const blockElements = options.fileBlockElements ?? DEFAULT_FILE_BLOCK_ELEMENTS;
    const stride = linearInputs === 0 ? 0 : linearFromFilesScratchBytes(linearInputs, blockElements, 4, 4);
    const scratch = u8(arena.u32(Math.ceil((pool.partCount * stride) / 4)));
    const fileScratch = { base: scratch.byteOffset, stride, blockElements };
    const arithmetic = options.arithmetic ?? 'float32';
    const warn = options.warn ?? (() => undefined);
    const declared = plan.method.fastPath;
    const taskVectors =
      vectorInputs === 0 || declared?.kind !== 'task_vector'
        ? undefined
        : new TaskVectorKernels(pool, plan.method.name, declared, sink, warn, options.seed ?? 0, { inputs: vectorInputs, numel: vectorNumel, dellaRow, blockElements }, arithmetic);
    return new MergeFastPath(pool, models, sink, chunk, chunkSets, outputs, maxInputs, fileScratch, arithmetic, taskVectors, nextTaskVector);
  }

  /**
   * Merges `tensor` on a fast path when one applies and returns true; its bytes reach the sink in plan order
   * (possibly after the next tensor has started). `reference` re-merges a tensor on the reference path, which
   * reports non-finite inputs with their index.
   */
  async tryMerge(tensor: PlannedTensor, kind: FastKind | undefined, reference: (tensor: PlannedTensor) => Uint8Array): Promise<boolean> {
    if (kind === 'linear') await this.mergeLinear(tensor, reference);
    else if (kind === 'task_vector') await this.mergeTaskVectors(tensor, reference);
    else return false;
    return true;
  }

  /** Waits for the running kernels and hands any finished tensor to the sink. */
  async flush(): Promise<void> {
    await this.pending;
    const write = this.deferred;
    this.deferred = undefined;
    write?.();
  }

  private reader(input: PlannedInput): RangeReader {
    let reader = this.readers.get(input.modelKey);
    if (reader === undefined) {
      reader = rangeReaderOf(this.models.get(input.modelKey));
      this.readers.set(input.modelKey, reader);
    }
    return reader;
  }

  private locator(input: PlannedInput): FileLocator | undefined {
    if (!this.locators.has(input.modelKey)) this.locators.set(input.modelKey, fileLocatorOf(this.models.get(input.modelKey)));
    return this.locators.get(input.modelKey);
  }

  private async mergeLinear(tensor: PlannedTensor, reference: (tensor: PlannedTensor) => Uint8Array): Promise<void> {
    const locators = tensor.models.map((input) => this.locator(input));
    if (locators.every((locate) => locate !== undefined)) return this.mergeLinearFromFiles(tensor, locators as FileLocator[], reference);
    const weights = linearWeights(tensor);
    const n = numelOf(tensor.shape);
    const inBytes = BYTES[tensor.models[0]!.dtype]!;
    const outBytes = BYTES[tensor.dtype]!;
    const count = tensor.models.length;
    const parity = this.tensorParity;
    this.tensorParity ^= 1;
    const output = this.outputs[parity]!.subarray(0, n * outBytes);
    const flags = (inBytes === 2 ? this.pool.constantOf('LINEAR_IN_BF16') : 0) | (outBytes === 2 ? this.pool.constantOf('LINEAR_OUT_BF16') : 0);
    const statusPointer = this.status.byteOffset + parity * 4;
    const kernel = this.linearKernel(weights);
    for (let start = 0; start < n || start === 0; start += this.chunkElements) {
      const length = Math.min(this.chunkElements, n - start);
      const set = this.chunkSets[this.chunkParity]!;
      this.chunkParity ^= 1;
      tensor.models.forEach((input, j) => this.reader(input)(input.tensorName, start * inBytes, set.inputs[j]!.subarray(0, length * inBytes)));
      await this.pending;
      const first = start === 0;
      this.pending = this.pool.runSplit(kernel, length, (offset, partLength, part) => {
        if (first && part === 0) this.status[parity] = 0;
        if (part === 0) this.weightTable.set(weights);
        const table = part * count;
        for (let j = 0; j < count; j++) this.pointerTable[table + j] = set.inputs[j]!.byteOffset + offset * inBytes;
        const out = output.byteOffset + (start + offset) * outBytes;
        return [out, this.pointerTable.byteOffset + table * 4, this.weightTable.byteOffset, count, partLength, flags, statusPointer];
      });
      // the previous tensor's bytes go out while this chunk computes
      this.takeDeferred()?.();
      if (length <= 0) break;
    }
    this.deferred = () => {
      const encoded = this.status[parity] === 0 ? output : reference(tensor);
      this.sink.writeTensor(tensor.name, encoded, tensor.dtype, tensor.shape);
    };
  }

  private linearKernel(weights: readonly number[]): 'linearF32' | 'linearF64' {
    return this.arithmetic === 'float32' && float32Weights(weights) ? 'linearF32' : 'linearF64';
  }

  /**
   * One job per worker over its own range; each worker reads its inputs straight from the shard files and, when
   * the sink is a file, writes its merged blocks straight to the tensor's place in it.
   */
  private async mergeLinearFromFiles(tensor: PlannedTensor, locators: readonly FileLocator[], reference: (tensor: PlannedTensor) => Uint8Array): Promise<void> {
    const weights = linearWeights(tensor);
    const n = numelOf(tensor.shape);
    const inBytes = BYTES[tensor.models[0]!.dtype]!;
    const outBytes = BYTES[tensor.dtype]!;
    const count = tensor.models.length;
    const ranges = tensor.models.map((input, j) => locators[j]!(input.tensorName, 0, n * inBytes));
    const parity = this.tensorParity;
    this.tensorParity ^= 1;
    const output = this.outputs[parity]!.subarray(0, n * outBytes);
    const flags = (inBytes === 2 ? this.pool.constantOf('LINEAR_IN_BF16') : 0) | (outBytes === 2 ? this.pool.constantOf('LINEAR_OUT_BF16') : 0);
    const statusPointer = this.status.byteOffset + parity * 4;
    await this.pending;
    // after the await: the previous tensor's deferred step may still be pending, but never on this tensor
    const target = this.sink.tensorTarget !== undefined && this.sink.markWritten !== undefined ? this.sink.tensorTarget(tensor.name) : undefined;
    this.status[parity] = 0;
    this.weightTable.set(weights);
    const { base, stride, blockElements } = this.fileScratch;
    const kernel = this.linearKernel(weights) === 'linearF32' ? 'linearF32FromFiles' : 'linearF64FromFiles';
    this.pending = this.pool.runSplit(kernel, n, (offset, partLength, part) =>
      linearFromFilesArgs({
        out: output.byteOffset + offset * outBytes,
        outFd: target?.fd,
        outPosition: target === undefined ? undefined : target.position + offset * outBytes,
        weights: this.weightTable.byteOffset,
        count,
        n: partLength,
        flags,
        status: statusPointer,
        scratch: base + part * stride,
        blockElements,
        inBytes,
        outBytes,
        fds: ranges.map((range) => range.fd),
        positions: ranges.map((range) => range.position + offset * inBytes),
      }),
    );
    // the previous tensor's bytes go out while this one computes
    this.takeDeferred()?.();
    this.deferred = () => {
      if (this.status[parity] !== 0) this.sink.writeTensor(tensor.name, reference(tensor), tensor.dtype, tensor.shape);
      else if (target !== undefined) this.sink.markWritten!(tensor.name);
      else this.sink.writeTensor(tensor.name, output, tensor.dtype, tensor.shape);
    };
  }

  private takeDeferred(): (() => void) | undefined {
    const write = this.deferred;
    this.deferred = undefined;
    return write;
  }

  private async mergeTaskVectors(tensor: PlannedTensor, reference: (tensor: PlannedTensor) => Uint8Array): Promise<void> {
    await this.flush();
    await this.taskVectors!.merge(tensor, (input) => this.reader(input), (input) => this.locator(input), reference, this.nextTaskVector.get(tensor));
  }
}

/** The weights `linear.mergeTensor` multiplies by (same checks and errors). */
function linearWeights(tensor: PlannedTensor): number[] {
  const modelRefs = tensor.models.map((m, i) => m.modelRef ?? `#${i}`);
  const weights = tensor.modelParams.map((params, i) => numberParam(params, 'weight', 'linear', tensor.name, modelRefs[i]!));
  return linearCoefficients(weights, booleanParam(tensor.params, 'normalize', 'linear', tensor.name), tensor.name, modelRefs);
}

function u8(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
