/**
 * The job of the fused task-vector passes (fused-task-vectors.ts) for one tensor, and each model's sparsifier as
 * the whole-vector path resolves it, with the same checks, warnings and errors: the kernel record of each model and
 * the top-k cuts to find. Apart from fused-task-vectors.ts so that fast-task-vectors.ts builds jobs without it.
 */
import { counterStream } from '../core/counter-rng.js';
import { KEEP_ALL, KEEP_BAND, KEEP_DARE, KEEP_NONE, type ModelRecord } from '../kernels/wasm/task-vector-passes.js';
import type { FastPathDeclaration } from './method.js';
import type { PlannedInput, PlannedTensor } from './plan.js';
import type { RescaleMode } from './sparsify.js';
import { numberParam } from './method-params.js';
import { breadcrumbsBand, checkDensity, checkSparsifyParameters, inverseDensityScale, requireStream, type SparsifyOptions } from './sparsify.js';

/** A file-position lookup: the descriptor and absolute position of `length` bytes at `byteOffset` of a tensor. */
export type FileLocator = (name: string, byteOffset: number, length: number) => { readonly fd: number; readonly position: number };

/** What merge() of fast-task-vectors.ts resolved for one tensor. */
export interface FusedTensor {
  readonly tensor: PlannedTensor;
  readonly inputs: readonly PlannedInput[];
  readonly locators: readonly FileLocator[];
  readonly refs: readonly string[];
  readonly weights: readonly number[];
  readonly lambda: number;
  readonly normalize: boolean;
  readonly rescale: RescaleMode;
  readonly emptyBand: boolean;
  readonly plainDivisor: number;
  /** the FINAL mix's arithmetic: float32 (fused kernel, ≤ 4 models; merge-methods.md §0) or float64 (the reference's) */
  readonly arithmetic: 'float32' | 'float64';
}

/** One top-k cut to find: model j's k largest |δ|. */
export interface CutRequest {
  readonly model: number;
  readonly k: number;
  bucket: number;
  above: number;
}

/** Each model's sparsifier as planModels resolves it, and the top-k cuts it needs. */
export interface ModelPlan {
  readonly records: { kind: number; record: ModelRecord; scale: number; band?: readonly [number, number] }[];
  readonly cuts: CutRequest[];
}

/** What planModels needs of the merge besides the tensor. */
export interface PlanContext {
  readonly methodName: string;
  readonly sparsifier: Extract<FastPathDeclaration, { kind: 'task_vector' }>['sparsifier'];
  readonly seed: number;
  readonly warn: (message: string) => void;
}

/** Each model's sparsifier as the whole-vector path resolves it (same checks, warnings and errors). */
export function planModels(job: FusedTensor, n: number, context: PlanContext): ModelPlan {
  const { tensor, refs } = job;
  const sparsifier = context.sparsifier;
  const cuts: CutRequest[] = [];
  const records = tensor.models.map((_, j) => {
    const keepAll = { kind: KEEP_ALL, record: { kind: KEEP_ALL, params: [] }, scale: 1 };
    if (sparsifier === undefined) return keepAll;
    const params = tensor.modelParams[j] ?? {};
    const options: SparsifyOptions = {
      density: numberParam(params, 'density', context.methodName, tensor.name, refs[j]),
      rescale: job.rescale,
      shape: tensor.shape,
      ...(typeof params['gamma'] === 'number' ? { gamma: params['gamma'] } : {}),
      ...(typeof params['epsilon'] === 'number' ? { epsilon: params['epsilon'] } : {}),
      emptyBand: job.emptyBand,
      stream: sparsifier === 'random' ? counterStream(context.seed, tensor.name, refs[j]!) : undefined,
      inPlace: true,
      tensorName: tensor.name,
      modelRef: refs[j]!,
      warn: (message) => context.warn(`${tensor.name}: ${message}`),
    };
    checkDensity(options);
    if (options.density >= 1 || n === 0) return keepAll;
    checkSparsifyParameters(sparsifier, options);
    const none = { kind: KEEP_NONE, record: { kind: KEEP_NONE, params: [] }, scale: 1 };
    const scale = inverseDensityScale(options);
    if (sparsifier === 'random') {
      const stream = requireStream(options, 'random', n);
      return { kind: KEEP_DARE, record: { kind: KEEP_DARE, params: [stream.k0, stream.k1, options.density * 4294967296, scale] }, scale };
    }
    if (sparsifier === 'magnitude') {
      const k = Math.floor(options.density * n);
      if (k === 0) {
        options.warn?.(
          `magnitude trim keeps nothing for tensor '${options.tensorName}' of model '${options.modelRef}': ` +
            `density ${options.density} × ${n} elements < 1`,
        );
        return none;
      }
      cuts.push({ model: j, k, bucket: 0, above: 0 });
      return { kind: KEEP_BAND, record: { kind: KEEP_BAND, params: [] }, scale, band: [0, 0] as const };
    }
    const { nBottom, nTop } = breadcrumbsBand(n, options.density, options.gamma ?? 0.01);
    if ((nTop === 0 && options.emptyBand) || n - nBottom === 0) return none;
    // ranks ≥ r are the N − r largest with ties towards higher indices: keep the last tiesToKeep tie numbers
    cuts.push({ model: j, k: n - nBottom, bucket: 0, above: 0 });
    if (nTop > 0) cuts.push({ model: j, k: nTop, bucket: 0, above: 0 });
    return { kind: KEEP_BAND, record: { kind: KEEP_BAND, params: [] }, scale, band: [1, nTop > 0 ? 1 : 0] as const };
  });
  return { records, cuts };
}
