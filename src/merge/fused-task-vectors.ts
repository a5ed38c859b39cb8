/**
 * The task-vector merges of fast-task-vectors.ts in three block-wise passes when every input is a shard on disk
 * (issue #16): no tensor-sized float32 vector is written or read back, no output passes through the main thread.
 * Every pass has the workers read their element ranges of every input from the shards block by block into L2
 * (the page cache is the only tensor-sized copy; a pass costs one more read of it, not a DRAM round trip):
 * 1. LOAD: decode base and δ_j = X_j − B, flag NaN/±Inf, and count |δ_j| bits 30..15 (65,536 bins) for a
 *    top-k cut, or the per-block l1 norms before/after a DARE mask (assembly/dare-norms.ts, which also keeps the
 *    mask for FINAL when the fused kernel runs);
 * 2. LEVEL2 (top-k cuts only): the bits 14..0 of the entries in each cut's first-level bucket — the two levels
 *    pin the exact k-th largest |δ| pattern, and the per-range counts of entries equal to it number the ties
 *    across ranges (the same cut and tie order as kernel-sparsify.ts's three levels, so the same kept set);
 * 3. FINAL: decode again, sparsify each δ_j (keepBandAt continuing the tie numbers from
 *    block to block, the kept DARE mask or dareKeep, or zero), mix (float32 by default for 1–4 models,
 *    consensus-f32.ts; else `tiesCombineF64`), encode, and write the block to the output's place in its shard
 *    (or to memory).
 * Top-k cuts first try a band bracketed from a sample (fused-cut-bands.ts): LOAD then counts above the band and
 * gathers inside it, and the cut is selected among the gathered entries without the LEVEL2 read; the full
 * histogram LOAD and LEVEL2 run only when a cut falls outside its band.
 * With an idle calling thread (a pool whose calling thread takes no part), the next tensor's sparsifiers and
 * sampled bands are found while the workers run this tensor's FINAL pass: that work leaves the critical path.
 * Same per-element arithmetic as the whole-vector path for the same `arithmetic`, so the output bytes are the same.
 * DELLA and the l1 rescale of a top-k trim keep the whole-vector path (`supports`).
 */
import { numelOf, type DType } from '../core/dtype.js';
import { invariant } from '../core/errors.js';
import { descendHistogram } from '../kernels/reference/select.js';
import type { KernelPool } from '../kernels/pool.js';
import {
  KEEP_DARE,
  KEEP_MASK,
  LEVEL1_BINS,
  LEVEL2_BINS,
  OUT_BF16,
  OUT_F16,
  OUT_F32,
  FUSED_FINAL_MODELS,
  finalPassTuning,
  PASS_FINAL,
  PASS_LEVEL2,
  PASS_LOAD,
  taskVectorPassArgs,
  taskVectorPassScratchBytes,
  type Level2Pass,
} from '../kernels/wasm/task-vector-passes.js';
import { TASK_INPUT_BF16, TASK_INPUT_F16, TASK_INPUT_F32 } from '../kernels/wasm/task-vector-from-files.js';
import { CutBands, type Band, type InputRange } from './fused-cut-bands.js';
import { finalRecord, type Cut } from './fused-final-record.js';
import { planModels, type CutRequest, type FusedTensor, type ModelPlan, type PlanContext } from './fused-model-plan.js';
import type { FastPathDeclaration } from './method.js';
import type { PlannedTensor } from './plan.js';
import { L1_BLOCK, l1RescaleFactor, type RescaleMode } from './sparsify.js';

const BYTES: Partial<Record<DType, number>> = { BF16: 2, F16: 2, F32: 4 };

/** The sink of the fused path: bytes in memory, or written by the workers at the tensor's place in its shard. */
export interface FusedSink {
  writeTensor(name: string, bytes: Uint8Array, dtype: DType, shape: readonly number[]): void;
  tensorTarget?(name: string): { readonly fd: number; readonly position: number };
  markWritten?(name: string): void;
}

/** Arena buffers the whole-vector path owns and lends: output, status, weight tables. */
export interface FusedBuffers {
  /** most inputs of one tensor, base included */
  readonly inputs: number;
  /** tensor-sized output buffer (≥ 4 bytes per element) for sinks without a file target */
  readonly out: Uint8Array;
  readonly status: Int32Array;
  readonly weightTable: Float64Array;
  readonly factorTable: Float64Array;
}

/** The fields every pass of one tensor shares. */
type PassCommon = Omit<Level2Pass, 'mode' | 'cuts'>;

/** What a look-ahead found for the next tensor while this one's passes ran. */
interface LookAhead {
  readonly tensor: PlannedTensor;
  readonly plan: ModelPlan;
  readonly bands: readonly Band[] | undefined;
}

/** The inputs' encoding, element width and file ranges. */
function inputRanges(job: FusedTensor): { kind: number; width: number; ranges: InputRange[] } {
  const dtype = job.inputs[0]!.dtype;
  const kind = dtype === 'F32' ? TASK_INPUT_F32 : dtype === 'BF16' ? TASK_INPUT_BF16 : TASK_INPUT_F16;
  const width = BYTES[dtype]!;
  const n = numelOf(job.tensor.shape);
  return { kind, width, ranges: job.inputs.map((input, j) => job.locators[j]!(input.tensorName, 0, n * width)) };
}

export class FusedTaskVectors {
  private readonly level1: Uint32Array;
  private readonly level2: Uint32Array;
  private readonly normsBefore: Float64Array;
  private readonly normsAfter: Float64Array;
  /** DARE keep masks from the LOAD pass (KEEP_MASK), maskStride bytes per model */
  private readonly masks: Uint32Array;
  private readonly maskStride: number;
  private readonly ties: Int32Array;
  private readonly scratch: { readonly base: number; readonly stride: number };
  private readonly blocks: number;
  private readonly bands: CutBands | undefined;
  private ahead: LookAhead | undefined;
  private readonly planContext: PlanContext;

  constructor(
    private readonly pool: KernelPool,
    /** the method's name (in messages) and its declared pipeline configuration (method.ts `fastPath`) */
    methodName: string,
    private readonly config: Extract<FastPathDeclaration, { kind: 'task_vector' }>,
    private readonly buffers: FusedBuffers,
    seed: number,
    warn: (message: string) => void,
    maxNumel: number,
  ) {
    this.planContext = { methodName, sparsifier: config.sparsifier, seed, warn };
    invariant(pool.splitAlignment === L1_BLOCK, () => `kernel range alignment ${pool.splitAlignment} != l1 block ${L1_BLOCK}`);
    const arena = pool.arena;
    const parts = pool.partCount;
    const models = buffers.inputs - 1;
    const selects = config.sparsifier === 'magnitude' || config.sparsifier === 'magnitude_outliers';
    this.level1 = arena.u32(selects ? parts * models * LEVEL1_BINS : 1);
    this.level2 = arena.u32(selects ? parts * 2 * models * LEVEL2_BINS : 1);
    this.blocks = Math.max(1, Math.ceil(maxNumel / L1_BLOCK));
    const random = config.sparsifier === 'random';
    this.normsBefore = arena.f64(random ? models * this.blocks : 1);
    this.normsAfter = arena.f64(random ? models * this.blocks : 1);
    // a byte per four elements and model (assembly/dare-norms.ts)
    this.maskStride = random ? Math.ceil(maxNumel / 4 / 64) * 64 : 0;
    this.masks = arena.u32(random ? (models * this.maskStride) / 4 : 1);
    const ties = arena.u32(parts * models * 2);
    this.ties = new Int32Array(ties.buffer, ties.byteOffset, ties.length);
    const stride = taskVectorPassScratchBytes(models + 1, L1_BLOCK);
    this.scratch = { base: arena.u32((parts * stride) / 4).byteOffset, stride };
    this.bands = selects ? new CutBands(pool, config.sparsifier === 'magnitude' ? models : 2 * models, maxNumel) : undefined;
  }

  /** Whether the fused passes cover this method and rescale mode (the rest stays on the whole-vector path). */
  supports(rescale: RescaleMode): boolean {
    const sparsifier = this.config.sparsifier;
    if (sparsifier === undefined || sparsifier === 'random') return true;
    return (sparsifier === 'magnitude' || sparsifier === 'magnitude_outliers') && rescale !== 'l1';
  }

  /**
   * `upcoming`: the next tensor this path will merge, if any. While the workers run this tensor's FINAL pass, the
   * calling thread resolves its sparsifiers and samples its cut bands, so that work leaves the critical path.
   */
  async merge(job: FusedTensor, sink: FusedSink, reference: (tensor: PlannedTensor) => Uint8Array, upcoming?: () => FusedTensor | undefined): Promise<void> {
    const { tensor, inputs } = job;
    const n = numelOf(tensor.shape);
    const models = inputs.length - 1;
    const { kind, width, ranges } = inputRanges(job);
    const { status } = this.buffers;
    const common = (offset: number, length: number, part: number): PassCommon => ({
      n: length,
      start: offset,
      kind,
      width,
      status: status.byteOffset,
      scratch: this.scratch.base + part * this.scratch.stride,
      blockElements: L1_BLOCK,
      fds: ranges.map((range) => range.fd),
      positions: ranges.map((range) => range.position),
    });
    const ahead = this.ahead?.tensor === tensor ? this.ahead : undefined;
    this.ahead = undefined;
    const plan = ahead?.plan ?? planModels(job, n, this.planContext);
    const cuts = plan.cuts;
    const l1 = plan.records.some((r) => r.kind === KEEP_DARE) && job.rescale === 'l1';
    const fused = finalPassTuning.fused && models >= 1 && models <= FUSED_FINAL_MODELS;
    // DARE masks drawn once: the LOAD pass keeps them (it draws them for the l1 norms), the fused FINAL kernel reads them
    const maskOf = (j: number): number => (l1 && fused ? this.masks.byteOffset + j * this.maskStride : 0);
    const loadRecords = plan.records.map((r, j) => (r.kind === KEEP_DARE ? { kind: KEEP_DARE, params: [...r.record.params, maskOf(j)] } : r.record));
    const parts = this.pool.partCount;
    const bands = cuts.length > 0 ? this.bands : undefined;
    bands?.begin(cuts, ahead?.bands ?? bands.sample(cuts, ranges, kind, width, n));
    // LOAD with the bands, or (none, or a cut outside its band) with the full first-level histograms
    const load = async (histograms: boolean): Promise<number> => {
      if (histograms) this.level1.fill(0, 0, parts * models * LEVEL1_BINS);
      status[0] = 0;
      let used = 0;
      await this.pool.runSplit('taskVectorPass', n, (offset, length, part) => {
        used = Math.max(used, part + 1);
        return taskVectorPassArgs({
          mode: PASS_LOAD,
          ...common(offset, length, part),
          histograms: histograms ? this.level1.byteOffset + part * models * LEVEL1_BINS * 4 : 0,
          normsBefore: l1 ? this.normsBefore.byteOffset : 0,
          normsAfter: l1 ? this.normsAfter.byteOffset : 0,
          blocks: this.blocks,
          bands: histograms || bands === undefined ? [] : bands.loadBands(cuts, part),
          records: loadRecords,
        });
      });
      return used;
    };
    let used = await load(bands === undefined && cuts.length > 0);
    if (status[0] !== 0) {
      sink.writeTensor(tensor.name, reference(tensor), tensor.dtype, tensor.shape);
      return;
    }
    const banded = bands === undefined ? undefined : await bands.resolve(cuts, used);
    if (bands !== undefined && banded === undefined) used = await load(true);
    const found = banded !== undefined ? cuts.map((request, s) => ({ request, cut: banded[s]! })) : await this.findCuts(cuts, n, models, used, common);
    const factors = plan.records.map((r, j) => (l1 && r.kind === KEEP_DARE ? this.l1Factor(j, n) : 1));
    this.buffers.weightTable.set(job.weights);
    this.buffers.factorTable.set(factors);
    const parsed = plan.records.map((r, j) => ({ ...r, cuts: found.filter((c) => c.request.model === j) }));
    const outWidth = BYTES[tensor.dtype]!;
    const outKind = tensor.dtype === 'F32' ? OUT_F32 : tensor.dtype === 'BF16' ? OUT_BF16 : OUT_F16;
    const target = sink.tensorTarget !== undefined && sink.markWritten !== undefined ? sink.tensorTarget(tensor.name) : undefined;
    const final = async (float32: boolean): Promise<void> => {
      // the pass advances each range's tie numbers: they start from the cuts' numbering on every run
      for (let part = 0; part < used; part++) {
        for (let j = 0; j < models; j++) {
          const [low, high] = parsed[j]!.cuts;
          this.ties[(part * models + j) * 2] = low?.cut.tieStarts[part] ?? 0;
          this.ties[(part * models + j) * 2 + 1] = high?.cut.tieStarts[part] ?? 0;
        }
      }
      status[0] = 0;
      await this.pool.runSplit('taskVectorPass', n, (offset, length, part) =>
        taskVectorPassArgs({
        mode: PASS_FINAL,
        ...common(offset, length, part),
        records: parsed.map((r, j) =>
          maskOf(j) !== 0 && r.kind === KEEP_DARE ? { kind: KEEP_MASK, params: [maskOf(j), 0, 0, r.scale] } : finalRecord(r, j, this.ties.byteOffset + (part * models + j) * 8),
        ),
        weights: this.buffers.weightTable.byteOffset,
        factors: factors.every((f) => f === 1) ? 0 : this.buffers.factorTable.byteOffset,
        plainDivisor: job.plainDivisor,
        lambda: job.lambda,
        consensus: this.config.consensus ? 1 : 0,
        normalize: job.normalize ? 1 : 0,
        outKind,
        out: this.buffers.out.byteOffset,
        outFd: target?.fd ?? -1,
        outPosition: target?.position ?? 0,
        fused: fused ? 1 : 0,
        float32: float32 ? 1 : 0,
      }),
      );
    };
    const float32 = fused && job.arithmetic === 'float32';
    const finished = final(float32);
    // the calling thread takes no part of the passes: it is free until they end
    const callerIdle = this.pool.workerCount > 0 && this.pool.partCount === this.pool.workerCount;
    if (upcoming !== undefined && callerIdle) {
      // handled here and awaited below: a failure while the look-ahead runs is not an unhandled rejection
      finished.catch(() => undefined);
      // after the pass's jobs went out (they are posted from microtasks), before it ends
      await new Promise((resolve) => setImmediate(resolve));
      this.lookAhead(upcoming);
    }
    await finished;
    // a float32 overflow the float64 mix may not have: the tensor again in float64, the reference's arithmetic
    if (float32 && status[0] !== 0) await final(false);
    if (target !== undefined) sink.markWritten!(tensor.name);
    else sink.writeTensor(tensor.name, this.buffers.out.subarray(0, n * outWidth), tensor.dtype, tensor.shape);
  }

  /**
   * The next tensor's sparsifiers and cut bands. A tensor whose parameters fail their checks, or whose sample
   * cannot be read, gets no look-ahead: its own merge() raises the error in order.
   */
  private lookAhead(upcoming: () => FusedTensor | undefined): void {
    try {
      const job = upcoming();
      if (job === undefined) return;
      const n = numelOf(job.tensor.shape);
      const plan = planModels(job, n, this.planContext);
      const { kind, width, ranges } = inputRanges(job);
      const bands = plan.cuts.length > 0 ? this.bands?.sample(plan.cuts, ranges, kind, width, n) : undefined;
      this.ahead = { tensor: job.tensor, plan, bands };
    } catch {
      // raised again, in order, by the tensor's own merge()
    }
  }


  /** The exact cut of every request from the first-level counts and one LEVEL2 pass (all cuts at once). */
  private async findCuts(
    requests: readonly CutRequest[],
    n: number,
    models: number,
    used: number,
    common: (offset: number, length: number, part: number) => PassCommon,
  ): Promise<{ request: CutRequest; cut: Cut }[]> {
    if (requests.length === 0) return [];
    const level1 = this.level1;
    for (const request of requests) {
      const total = new Uint32Array(LEVEL1_BINS);
      for (let p = 0; p < used; p++) {
        const at = (p * models + request.model) * LEVEL1_BINS;
        for (let b = 0; b < LEVEL1_BINS; b++) total[b] = total[b]! + level1[at + b]!;
      }
      const top = descendHistogram(total, request.k);
      request.bucket = top.bucket;
      request.above = top.above;
    }
    const slots = requests.length;
    this.level2.fill(0, 0, used * slots * LEVEL2_BINS);
    await this.pool.runSplit('taskVectorPass', n, (offset, length, part) =>
      taskVectorPassArgs({
        mode: PASS_LEVEL2,
        ...common(offset, length, part),
        cuts: requests.map((r, s) => [r.model, r.bucket, this.level2.byteOffset + (part * slots + s) * LEVEL2_BINS * 4] as const),
      }),
    );
    return requests.map((request, s) => {
      const perPart = Array.from({ length: used }, (_, p) => this.level2.subarray((p * slots + s) * LEVEL2_BINS, (p * slots + s + 1) * LEVEL2_BINS));
      const total = new Uint32Array(LEVEL2_BINS);
      for (const counts of perPart) for (let b = 0; b < LEVEL2_BINS; b++) total[b] = total[b]! + counts[b]!;
      const low = descendHistogram(total, request.k - request.above);
      const tieStarts: number[] = [];
      let ties = 0;
      for (const counts of perPart) {
        tieStarts.push(ties);
        ties += counts[low.bucket]!;
      }
      const cut = { pattern: ((request.bucket << 15) | low.bucket) >>> 0, countEqual: total[low.bucket]!, tiesToKeep: request.k - request.above - low.above, tieStarts };
      return { request, cut };
    });
  }

  /** l1RescaleFactor from the LOAD pass's per-block norms, summed in block order as kernel-sparsify.ts does. */
  private l1Factor(j: number, n: number): number {
    const blocks = Math.ceil(n / L1_BLOCK);
    let before = 0;
    let after = 0;
    for (let b = 0; b < blocks; b++) {
      before += this.normsBefore[j * this.blocks + b]!;
      after += this.normsAfter[j * this.blocks + b]!;
    }
    return l1RescaleFactor(before, after);
  }
}

