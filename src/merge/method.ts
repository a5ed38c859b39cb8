/**
 * The merge-method extension point (merge-methods.md §2–§3): a method is declarative data (name, base-model
 * rule, parameter specs) plus one pure per-tensor function. Planning, parameter resolution, I/O, dtype
 * handling and threading live in the executor, never here.
 */
import type { CounterStream } from '../core/counter-rng.js';
import type { Rng } from '../core/rng.js';
import type { SparsifierName } from './sparsify.js';

export type ParamValue = number | boolean | string;

export interface ParamSpec {
  /** snake_case, identical to mergekit's key */
  readonly name: string;
  /** 'model': resolved per (model, tensor); 'global': resolved per tensor with no model */
  readonly scope: 'global' | 'model';
  readonly type: 'number' | 'boolean' | 'enum';
  /** allowed values for 'enum' */
  readonly values?: readonly string[];
  /** absent = required (per-model required parameters are not required for the base model) */
  readonly default?: ParamValue;
  readonly description: string;
}

export interface TensorMergeInput {
  readonly tensorName: string;
  readonly shape: readonly number[];
  /**
   * The base model's tensor (float32) when the method uses a base and one is configured; otherwise undefined.
   * Embedding-like tensors have already been rectified to a common shape (§3.14).
   */
  readonly base: Float32Array | undefined;
  /**
   * Non-base inputs in config order. For methods whose base is 'unused' this is every source, including the
   * base model if it is listed among the models.
   */
  readonly models: readonly Float32Array[];
  /** model references in the same order as `models` (stable keys for RNG streams and messages) */
  readonly modelRefs: readonly string[];
  /** resolved per-model parameters, one record per entry of `models`, defaults filled in */
  readonly modelParams: readonly Readonly<Record<string, ParamValue>>[];
  /** resolved global parameters, defaults filled in */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** seeded stream for (run seed, tensor name, model reference); same index as `models` */
  rngFor(modelIndex: number): Rng;
  /** counter-based stream for (run seed, tensor name, model reference): per-element draws (DARE, DELLA) */
  streamFor(modelIndex: number): CounterStream;
  /** records a non-fatal warning (e.g. `k = 0` keeps nothing) */
  warn(message: string): void;
  /**
   * the task-vector mix's arithmetic: 'float64' (the reference, default) or 'float32' (consensus-f32.ts, the wasm
   * fast path's default for 1–4 models); other methods ignore it
   */
  readonly arithmetic?: MergeArithmetic;
}

/**
 * Element-wise arithmetic of the fast paths (fast-path.ts): 'float32' is merge-methods.md §0's convention for
 * element-wise arithmetic — for linear, within float32 rounding of the reference `linear` method (which sums in
 * float64); for the task-vector mix of 1–4 models, consensus-f32.ts bit for bit (its `float32MixBound` states the
 * distance from the float64 mix). 'float64' reproduces the reference float64 arithmetic bit for bit.
 */
export type MergeArithmetic = 'float32' | 'float64';

export interface MergeMethod {
  /** registry name, snake_case as in mergekit */
  readonly name: string;
  readonly title: string;
  /** paper or source, e.g. 'arXiv:2306.01708' */
  readonly reference: string;
  readonly baseModel: 'required' | 'optional' | 'unused';
  /** number of non-base models accepted (inclusive bounds) */
  readonly models: { readonly min: number; readonly max?: number };
  readonly params: readonly ParamSpec[];
  /** pure: returns a new float32 array of the output tensor (same element count as the inputs' shape) */
  mergeTensor(input: TensorMergeInput): Float32Array;
  /**
   * the WebAssembly fast path that computes this method bit-identically to `mergeTensor` on the kernel pool
   * (fast-path.ts); absent: the executor always runs `mergeTensor`
   */
  readonly fastPath?: FastPathDeclaration;
}

/**
 * Which fast path a method runs on: the weighted sum (linear), or the task-vector pipeline with the method's
 * sparsifier (or none), sign consensus and default rescale.
 */
export type FastPathDeclaration =
  | { readonly kind: 'linear' }
  | { readonly kind: 'task_vector'; readonly sparsifier: SparsifierName | undefined; readonly consensus: boolean; readonly rescale: boolean };
