/**
 * The hot merge/kinship kernels behind one interface with two implementations (style.md §1.8: a slow
 * reference is the specification): `reference` (plain TypeScript: conversions from core/float16.ts, the
 * rest from reference/wasm-refs.ts) and
 * `wasm` (AssemblyScript SIMD in a worker pool, src/kernels/pool.ts). Both are async so callers are written once.
 */
import { ModelevoError, UnknownNameError } from '../core/errors.js';
import { KernelPool, type KernelPoolOptions } from './pool.js';
import { bf16ToF32Array, f16ToF32Array, f32ToBf16Array, f32ToF16Array } from '../core/float16.js';
import {
  absHistogram11Ref,
  deltaStatsRef,
  tiesMixRef,
  weightedSumRef,
  type DeltaStats,
  type TiesMixOptions,
} from './reference/wasm-refs.js';

export type { DeltaStats, TiesMixOptions } from './reference/wasm-refs.js';
export { KernelPool, type KernelPoolOptions } from './pool.js';

export interface Kernels {
  readonly kind: KernelsKind;
  /** out = Σ_j weights[j]·inputs[j], float32 (linear merge; lerp is two inputs with weights 1−t, t) */
  weightedSum(out: Float32Array, inputs: readonly Float32Array[], weights: readonly number[]): Promise<void>;
  /** float64 Σx, Σy, Σx², Σy², Σxy of x = a − base, y = b − base (base omitted: x = a, y = b) */
  deltaStats(a: Float32Array, b: Float32Array, base?: Float32Array): Promise<DeltaStats>;
  bf16ToF32(src: Uint16Array, dst: Float32Array): Promise<void>;
  f32ToBf16(src: Float32Array, dst: Uint16Array): Promise<void>;
  f16ToF32(src: Uint16Array, dst: Float32Array): Promise<void>;
  f32ToF16(src: Float32Array, dst: Uint16Array): Promise<void>;
  /** fused TIES sign election + disjoint mix (merge-methods.md §3.6 steps 3–7) */
  tiesMix(out: Float32Array, base: Float32Array, models: readonly Float32Array[], options: TiesMixOptions): Promise<void>;
  /** adds the 2048-bin histogram of the top 11 bits of |x|'s float32 bit pattern to `hist` */
  absHistogram11(x: Float32Array, hist: Uint32Array): Promise<void>;
  /** stops worker threads, if any */
  close(): Promise<void>;
}

function requireLength(kernel: string, name: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new ModelevoError('SHAPE_MISMATCH', `${kernel}: ${name} has ${actual} elements, expected ${expected}`, {
      hint: 'every array passed to one kernel call must have the same length',
      details: { kernel, name, actual, expected },
    });
  }
}

/** The plain-TypeScript kernels, with the same argument checks as the wasm pool. */
export const referenceKernels: Kernels = {
  kind: 'reference',
  async weightedSum(out, inputs, weights) {
    requireLength('weightedSum', 'weights', weights.length, inputs.length);
    inputs.forEach((x, j) => requireLength('weightedSum', `inputs[${j}]`, x.length, out.length));
    weightedSumRef(out, inputs, weights);
  },
  async deltaStats(a, b, base) {
    requireLength('deltaStats', 'b', b.length, a.length);
    if (base) requireLength('deltaStats', 'base', base.length, a.length);
    return deltaStatsRef(a, b, base);
  },
  async bf16ToF32(src, dst) {
    requireLength('bf16ToF32', 'dst', dst.length, src.length);
    bf16ToF32Array(src, dst);
  },
  async f32ToBf16(src, dst) {
    requireLength('f32ToBf16', 'dst', dst.length, src.length);
    f32ToBf16Array(src, dst);
  },
  async f16ToF32(src, dst) {
    requireLength('f16ToF32', 'dst', dst.length, src.length);
    f16ToF32Array(src, dst);
  },
  async f32ToF16(src, dst) {
    requireLength('f32ToF16', 'dst', dst.length, src.length);
    f32ToF16Array(src, dst);
  },
  async tiesMix(out, base, models, options) {
    requireLength('tiesMix', 'base', base.length, out.length);
    models.forEach((x, j) => requireLength('tiesMix', `models[${j}]`, x.length, out.length));
    requireLength('tiesMix', 'options.weights', options.weights.length, models.length);
    requireLength('tiesMix', 'options.thresholds', options.thresholds.length, models.length);
    tiesMixRef(out, base, models, options);
  },
  async absHistogram11(x, hist) {
    requireLength('absHistogram11', 'hist', hist.length, 2048);
    absHistogram11Ref(x, hist);
  },
  async close() {},
};

/** Literal registry of kernel implementations; the option type derives from its keys. */
const KERNEL_IMPLEMENTATIONS = {
  reference: async (_options: KernelPoolOptions): Promise<Kernels> => referenceKernels,
  wasm: (options: KernelPoolOptions): Promise<Kernels> => KernelPool.create(options),
} as const;

export type KernelsKind = keyof typeof KERNEL_IMPLEMENTATIONS;
export const KERNELS_KINDS = Object.keys(KERNEL_IMPLEMENTATIONS) as KernelsKind[];

export interface CreateKernelsOptions extends KernelPoolOptions {
  readonly kernels: KernelsKind;
  /**
   * What to do when the wasm kernels cannot be loaded (build/kernels.wasm missing or workers failing):
   * 'throw' (default) rethrows the KERNEL_UNAVAILABLE error; 'reference' returns the reference kernels and
   * reports the error through `onFallback`.
   */
  readonly fallback?: 'throw' | 'reference';
  readonly onFallback?: (error: ModelevoError) => void;
}

export async function createKernels(options: CreateKernelsOptions): Promise<Kernels> {
  const create = KERNEL_IMPLEMENTATIONS[options.kernels];
  if (!create) throw new UnknownNameError('kernel implementation', String(options.kernels), KERNELS_KINDS);
  try {
    return await create(options);
  } catch (error) {
    if (options.fallback === 'reference' && error instanceof ModelevoError && error.code === 'KERNEL_UNAVAILABLE') {
      options.onFallback?.(error);
      return referenceKernels;
    }
    throw error;
  }
}
