/**
 * Kinship on the WebAssembly kernel pool (kinship.md §3; issue #16): the same results as computeKinship
 * (compute.ts) within float64 rounding, at memory speed.
 * - ONE pass per tensor: the kernel (assembly/kinship.ts) reads the base and every model once and produces the
 *   centred moments of ALL pairs of the N×N matrix (the diagonal included), per block of KINSHIP_BLOCK elements;
 * - the pool's threads split each tensor into element ranges and read their ranges straight from the shard
 *   files into reused scratch (kernels/wasm/kinship-from-files.ts); bf16 and float32 are decoded in SIMD inside
 *   the kernel, float16 by the f16ToF32 kernel; nothing tensor-sized is allocated;
 * - block records are combined here in block order (Chan et al.'s pairwise update), so the result does not
 *   depend on the number of threads, and turned into each metric's statistics by its `fromMoments`.
 * A tensor the kernel cannot take (not stored in a shard file, a dtype other than bf16/f16/f32, or a metric
 * without `fromMoments`) is computed by the TypeScript path for that tensor; both fold into one result.
 */
import type { DType } from '../core/dtype.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { createKernels, type KernelsKind } from '../kernels/index.js';
import { KernelPool } from '../kernels/pool.js';
import {
  KINSHIP_INPUT_BF16,
  KINSHIP_INPUT_F16,
  KINSHIP_INPUT_F32,
  kinshipFromFilesArgs,
  kinshipFromFilesScratchBytes,
} from '../kernels/wasm/kinship-from-files.js';
import {
  KinshipAccumulator,
  accumulateTensorInTypeScript,
  computeKinship,
  planKinship,
  type KinshipOptions,
  type KinshipPlan,
  type KinshipResult,
} from './compute.js';
import type { PairMoments } from './metric.js';

export interface PoolKinshipOptions extends KinshipOptions {
  /** elements each thread reads per input per call; a multiple of the kernel's KINSHIP_BLOCK (default 32,768) */
  readonly readBlockElements?: number;
}

export const DEFAULT_READ_BLOCK_ELEMENTS = 1 << 15;

type FileLocator = (name: string, byteOffset: number, length: number) => { readonly fd: number; readonly position: number };

const INPUT_KINDS: Partial<Record<DType, { readonly kind: number; readonly bytes: number }>> = {
  BF16: { kind: KINSHIP_INPUT_BF16, bytes: 2 },
  F16: { kind: KINSHIP_INPUT_F16, bytes: 2 },
  F32: { kind: KINSHIP_INPUT_F32, bytes: 4 },
};

function fileLocatorOf(checkpoint: Checkpoint): FileLocator | undefined {
  const locate = (checkpoint as Partial<{ fileRange: FileLocator }>).fileRange;
  return typeof locate === 'function' ? locate.bind(checkpoint) : undefined;
}

/** Index of the centred moment (i, j), i ≤ j, in the upper triangle stored row by row. */
export function triangleIndex(models: number, i: number, j: number): number {
  return i * models - (i * (i - 1)) / 2 + (j - i);
}

/** Running centred moments of N deltas; `add` is Chan et al.'s pairwise combination with one block. */
export class MomentSet {
  count = 0;
  readonly means: Float64Array;
  readonly centred: Float64Array;
  readonly squaredDifferences: Float64Array;
  private readonly delta: Float64Array;

  constructor(readonly models: number) {
    this.means = new Float64Array(models);
    this.centred = new Float64Array((models * (models + 1)) / 2);
    this.squaredDifferences = new Float64Array((models * (models - 1)) / 2);
    this.delta = new Float64Array(models);
  }

  /** folds in one kernel record (layout: assembly/kinship.ts) of `count` elements */
  add(record: Float64Array, at: number, count: number, withSquaredDifferences: boolean): void {
    const N = this.models;
    const triangle = this.centred.length;
    const total = this.count + count;
    const weight = (this.count * count) / total;
    const share = count / total;
    for (let i = 0; i < N; i++) this.delta[i] = record[at + i]! - this.means[i]!;
    for (let i = 0, t = 0, d = 0; i < N; i++) {
      for (let j = i; j < N; j++, t++) {
        this.centred[t] = this.centred[t]! + record[at + N + t]! + this.delta[i]! * this.delta[j]! * weight;
        if (j > i && withSquaredDifferences) {
          const gap = this.delta[i]! - this.delta[j]!;
          this.squaredDifferences[d] = this.squaredDifferences[d]! + record[at + N + triangle + d]! + gap * gap * weight;
          d++;
        }
      }
    }
    for (let i = 0; i < N; i++) this.means[i] = this.means[i]! + this.delta[i]! * share;
    this.count = total;
  }

  /** moments of the pair (i, j); i = j gives a delta against itself */
  pair(i: number, j: number): PairMoments {
    const [a, b] = i <= j ? [i, j] : [j, i];
    const N = this.models;
    const squared = a === b ? 0 : this.squaredDifferences[a * N - (a * (a + 1)) / 2 + (b - a - 1)]!;
    return {
      count: this.count,
      meanX: this.means[i]!,
      meanY: this.means[j]!,
      m2x: this.centred[triangleIndex(N, i, i)]!,
      m2y: this.centred[triangleIndex(N, j, j)]!,
      coMoment: this.centred[triangleIndex(N, a, b)]!,
      centredSquaredDifference: squared,
    };
  }
}

/** Each metric's statistics of every pair of the plan, from one tensor's moments. */
function statsFromMoments(plan: KinshipPlan, moments: MomentSet): unknown[][] {
  return plan.metrics.map((metric) => plan.pairs.map((pair) => metric.fromMoments!(moments.pair(pair.i, pair.j))));
}

/** computeKinship on `pool`; see the module comment. */
export async function computeKinshipOnPool(
  pool: KernelPool,
  base: Checkpoint,
  models: readonly Checkpoint[],
  options: PoolKinshipOptions,
): Promise<KinshipResult> {
  const plan = planKinship(base, models, options);
  const accumulator = new KinshipAccumulator(plan, base, models);
  const inputs = [base, ...models];
  const locators = inputs.map(fileLocatorOf);
  const kernelMetrics = plan.metrics.every((m) => typeof m.fromMoments === 'function');
  const squared = plan.metrics.some((m) => m.needsSquaredDifference === true);
  const flags = squared ? pool.constantOf('KINSHIP_SQDIFF') : 0;
  const block = pool.constantOf('KINSHIP_BLOCK');
  const readBlock = options.readBlockElements ?? DEFAULT_READ_BLOCK_ELEMENTS;
  if (!(Number.isInteger(readBlock) && readBlock > 0 && readBlock % block === 0)) {
    throw new RangeError(`readBlockElements must be a positive multiple of ${block}, got ${readBlock}`);
  }
  const record = pool.kinshipRecordLength(models.length, flags);
  const scratchBytes = Math.ceil(kinshipFromFilesScratchBytes(models.length, readBlock, block) / 64) * 64;
  const mark = pool.arena.mark();
  try {
    const scratch = pool.arena.f64((pool.partCount * scratchBytes) / 8).byteOffset;
    for (let t = 0; t < plan.selected.length; t++) {
      const name = plan.selected[t]!;
      options.onProgress?.(t, plan.selected.length, name);
      const count = accumulator.comparedElements(name);
      if (count === undefined) continue;
      const kinds = inputs.map((c) => INPUT_KINDS[c.info(name).dtype]);
      if (!kernelMetrics || count === 0 || locators.some((l) => l === undefined) || kinds.some((k) => k === undefined)) {
        const target = accumulator.tensorTarget();
        accumulateTensorInTypeScript(plan, base, models, name, count, target);
        accumulator.addAccumulated(target, count);
        continue;
      }
      const ranges = locators.map((locate, k) => locate!(name, 0, count * kinds[k]!.bytes));
      const tensorMark = pool.arena.mark();
      try {
        const blocks = Math.ceil(count / block);
        const partials = pool.arena.f64(blocks * record);
        await pool.runSplit('kinshipFromFiles', count, (start, length, part) =>
          kinshipFromFilesArgs({
            models: models.length,
            n: length,
            flags,
            scratch: scratch + part * scratchBytes,
            readBlock,
            out: partials.byteOffset + (start / block) * record * 8,
            kinds: kinds.map((k) => k!.kind),
            fds: ranges.map((r) => r.fd),
            positions: ranges.map((r, k) => r.position + start * kinds[k]!.bytes),
          }),
        );
        const moments = new MomentSet(models.length);
        for (let b = 0; b < blocks; b++) moments.add(partials, b * record, Math.min(block, count - b * block), squared);
        accumulator.addTensor(statsFromMoments(plan, moments), count);
      } finally {
        pool.arena.release(tensorMark);
      }
    }
  } finally {
    pool.arena.release(mark);
  }
  options.onProgress?.(plan.selected.length, plan.selected.length, '');
  return accumulator.result();
}

export interface KinshipRunOptions extends PoolKinshipOptions {
  /** 'wasm' (default): the kernel pool, falling back to 'reference' (computeKinship) if it cannot load */
  readonly kernels?: KernelsKind;
  /** compute threads, the calling thread included (default 2) */
  readonly threads?: number;
  /** an existing pool to use (not closed here); overrides `kernels` and `threads` */
  readonly pool?: KernelPool;
}

/** Kinship the fast way when it can be had: on `options.pool`, or on a pool started (and closed) here. */
export async function computeKinshipWithKernels(
  base: Checkpoint,
  models: readonly Checkpoint[],
  options: KinshipRunOptions,
): Promise<KinshipResult> {
  if (options.pool) return computeKinshipOnPool(options.pool, base, models, options);
  if ((options.kernels ?? 'wasm') === 'reference') return computeKinship(base, models, options);
  const threads = options.threads ?? 2;
  const kernels = await createKernels({ kernels: 'wasm', workers: threads - 1, callerTakesPart: true, fallback: 'reference' });
  try {
    return kernels instanceof KernelPool ? await computeKinshipOnPool(kernels, base, models, options) : computeKinship(base, models, options);
  } finally {
    await kernels.close();
  }
}
