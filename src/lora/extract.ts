/**
 * LoRA extraction by truncated SVD (merge-methods.md §4.3; mergekit `scripts/extract_lora.py`). For each 2-D
 * module weight `<module>.weight` of a fine-tune F over its base B:
 *
 * 1. Δ = F − B in float64 (exact for float32 inputs); embeddings use Δᵀ, because PEFT adds `s·(B·A)ᵀ` to an
 *    embedding table (formats.md §4).
 * 2. Δ = U Σ Vᵀ: exact SVD (svd.ts) up to `exactSvdMaxElements` entries, randomized SVD above (p = 10,
 *    q = 2, seeded per tensor).
 * 3. k = min(max_rank, #σ > sv_epsilon); a module with k = 0 (unchanged) is skipped.
 * 4. Distribute scale (default): A = √Σ_k V_kᵀ `[k, in]`, B = U_k √Σ_k `[out, k]`; otherwise A = Σ_k V_kᵀ,
 *    B = U_k. Either way B·A = U_k Σ_k V_kᵀ, whose error ‖Δ − B·A‖_F is the Eckart–Young tail √(Σ_{i>k} σ_i²).
 * 5. adapter_config: r = lora_alpha = the largest k, and `rank_pattern` = `alpha_pattern` = k for modules of
 *    lower rank, so every module's scale alpha/r is 1; target_modules = the extracted module paths.
 *
 * 1-D tensors, higher-rank tensors, non-float tensors and (unless requested) embeddings are skipped and
 * listed; with `saveSkipped` those that differ from the base are stored in full (`modules_to_save`).
 */
import { isFloatDType } from '../core/dtype.js';
import { CheckpointError, ConfigError, ModelevoError, ShapeMismatchError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { MemoryTensor } from '../io/memory-checkpoint.js';
import { exactSvd, randomizedSvd, type SvdResult } from './svd.js';
import type { AdapterData } from './adapter-folder.js';

/** Above this many entries (rows × cols) `svd: 'auto'` switches to the randomized SVD. */
export const DEFAULT_EXACT_SVD_MAX_ELEMENTS = 1 << 20;

export interface ExtractLoraOptions {
  /** upper bound on each module's rank */
  readonly maxRank: number;
  /** only singular values strictly above this count towards the rank (default 0) */
  readonly svEpsilon?: number;
  /** A = √Σ Vᵀ, B = U √Σ (default true); false: A = Σ Vᵀ, B = U */
  readonly distributeScale?: boolean;
  /** decompose embedding tables into lora_embedding_A/B (default false: skipped) */
  readonly includeEmbeddings?: boolean;
  /** store skipped tensors that differ from the base in full, as modules_to_save (default false) */
  readonly saveSkipped?: boolean;
  /** 'auto' (default): exact up to `exactSvdMaxElements`, randomized above */
  readonly svd?: 'auto' | 'exact' | 'randomized';
  readonly exactSvdMaxElements?: number;
  /** seed of the randomized SVD's test matrices (default 0); streams are keyed by tensor name */
  readonly seed?: number;
  readonly onProgress?: (done: number, total: number, tensorName: string) => void;
}

export interface ExtractedModule {
  readonly module: string;
  readonly kind: 'linear' | 'embedding';
  /** the base tensor's shape */
  readonly shape: readonly number[];
  readonly rank: number;
  readonly svd: 'exact' | 'randomized';
  /** the largest singular values computed (at most 16) */
  readonly singularValues: readonly number[];
  /** ‖Δ‖_F */
  readonly deltaNorm: number;
  /** the Eckart–Young tail √(Σ_{i>k} σ_i²): the Frobenius error of the rank-k factors */
  readonly tail: number;
}

export interface SkippedTensor {
  readonly name: string;
  readonly reason: string;
  /** true when saved in full (modules_to_save) */
  readonly saved: boolean;
}

export interface LoraExtraction {
  readonly adapter: AdapterData;
  readonly modules: readonly ExtractedModule[];
  readonly skipped: readonly SkippedTensor[];
  /** r of the adapter: the largest module rank */
  readonly rank: number;
}

const PREFIX = 'base_model.model.';

/** Whether a module path names an embedding table (the last path component). */
export function isEmbeddingModule(module: string): boolean {
  const leaf = module.slice(module.lastIndexOf('.') + 1);
  return /embed|^wte$|^wpe$/.test(leaf);
}

function validateOptions(options: ExtractLoraOptions): void {
  const issues: { path: string[]; message: string }[] = [];
  if (!Number.isInteger(options.maxRank) || options.maxRank < 1) {
    issues.push({ path: ['rank'], message: `expected a positive integer, got ${options.maxRank}` });
  }
  const eps = options.svEpsilon ?? 0;
  if (!Number.isFinite(eps) || eps < 0) issues.push({ path: ['sv_epsilon'], message: `expected a number ≥ 0, got ${eps}` });
  const limit = options.exactSvdMaxElements ?? DEFAULT_EXACT_SVD_MAX_ELEMENTS;
  if (!(limit >= 0)) issues.push({ path: ['exact_svd_max_elements'], message: `expected a number ≥ 0, got ${limit}` });
  if (issues.length > 0) throw new ConfigError(issues, { hint: 'e.g. --rank 16 --sv-epsilon 0' });
}

/** Δ (or Δᵀ for embeddings) in float64, with its Frobenius norm. */
function deltaMatrix(tuned: Float32Array, base: Float32Array, rows: number, cols: number, transpose: boolean) {
  const delta = new Float64Array(rows * cols);
  let squares = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const d = tuned[r * cols + c]! - base[r * cols + c]!;
      delta[transpose ? c * rows + r : r * cols + c] = d;
      squares += d * d;
    }
  }
  return { delta, squares };
}

function encodeF32(values: Float32Array): MemoryTensor['data'] {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** The A [k, in] and B [out, k] factors of the leading k triples. */
export function loraFactors(svd: SvdResult, rows: number, cols: number, k: number, distributeScale: boolean) {
  const p = svd.s.length;
  const a = new Float32Array(k * cols);
  const b = new Float32Array(rows * k);
  for (let i = 0; i < k; i++) {
    const sigma = svd.s[i]!;
    const aScale = distributeScale ? Math.sqrt(sigma) : sigma;
    const bScale = distributeScale ? Math.sqrt(sigma) : 1;
    for (let c = 0; c < cols; c++) a[i * cols + c] = aScale * svd.v[c * p + i]!;
    for (let r = 0; r < rows; r++) b[r * k + i] = svd.u[r * p + i]! * bScale;
  }
  return { a, b };
}

function decompose(delta: Float64Array, rows: number, cols: number, name: string, options: ExtractLoraOptions): { svd: SvdResult; method: 'exact' | 'randomized' } {
  const mode = options.svd ?? 'auto';
  const limit = options.exactSvdMaxElements ?? DEFAULT_EXACT_SVD_MAX_ELEMENTS;
  // a sketch as wide as the matrix saves nothing over the exact decomposition
  const sketchCoversAll = options.maxRank + 10 >= Math.min(rows, cols);
  const exact = mode === 'exact' || (mode === 'auto' && (rows * cols <= limit || sketchCoversAll));
  if (exact) return { svd: exactSvd(delta, rows, cols), method: 'exact' };
  const rng = createRng(options.seed ?? 0, 'extract-lora', name);
  return { svd: randomizedSvd(delta, rows, cols, options.maxRank, { rng }), method: 'randomized' };
}

/** Singular values kept: the leading ones above `svEpsilon`, at most `maxRank`. */
function keptRank(svd: SvdResult, maxRank: number, svEpsilon: number): number {
  let k = 0;
  while (k < Math.min(maxRank, svd.s.length) && svd.s[k]! > svEpsilon) k++;
  return k;
}

/**
 * ‖Δ − B·A‖²_F, the energy the rank-k factors leave out: the dropped singular values when the decomposition is
 * exact, ‖Δ‖² minus the kept ones when it is randomized (its spectrum past the sketch is unknown).
 */
function droppedSquares(svd: SvdResult, k: number, method: 'exact' | 'randomized', squares: number): number {
  let kept = 0;
  for (let i = 0; i < k; i++) kept += svd.s[i]! ** 2;
  let tailSquares = squares - kept;
  if (method === 'exact') {
    tailSquares = 0;
    for (let i = k; i < svd.s.length; i++) tailSquares += svd.s[i]! ** 2;
  }
  return tailSquares;
}

/** The PEFT adapter_config.json: rank r is the largest module rank, smaller ones go to rank/alpha patterns. */
function peftConfig(baseSource: string, modules: readonly ExtractedModule[], modulesToSave: readonly string[]): { config: Record<string, unknown>; rank: number } {
  const rank = Math.max(...modules.map((m) => m.rank));
  const pattern = Object.fromEntries(modules.filter((m) => m.rank < rank).map((m) => [m.module, m.rank]));
  const config: Record<string, unknown> = {
    peft_type: 'LORA',
    task_type: null,
    base_model_name_or_path: baseSource,
    r: rank,
    lora_alpha: rank,
    rank_pattern: pattern,
    alpha_pattern: { ...pattern },
    target_modules: modules.map((m) => m.module),
    modules_to_save: modulesToSave.length > 0 ? modulesToSave : null,
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    init_lora_weights: true,
    inference_mode: true,
  };
  return { config, rank };
}

/** Extracts a LoRA adapter approximating `finetune − base` (see the header comment). */
export function extractLora(finetune: Checkpoint, base: Checkpoint, options: ExtractLoraOptions): LoraExtraction {
  validateOptions(options);
  const svEpsilon = options.svEpsilon ?? 0;
  const distributeScale = options.distributeScale ?? true;
  const names = base.names();
  const missing = names.find((name) => !finetune.has(name));
  if (missing !== undefined) {
    throw new CheckpointError(`tensor '${missing}' of the base is missing from the fine-tune`, {
      code: 'TENSOR_NOT_FOUND',
      file: finetune.source,
      tensor: missing,
      hint: 'extraction needs a fine-tune of this very base (same architecture and tensor names)',
    });
  }
  const modules: ExtractedModule[] = [];
  const skipped: SkippedTensor[] = [];
  const factors = new Map<string, MemoryTensor>();
  const fullTensors = new Map<string, MemoryTensor>();
  const modulesToSave: string[] = [];

  const skip = (name: string, reason: string, differs: () => boolean): void => {
    const save = options.saveSkipped === true && differs();
    if (save) {
      const info = finetune.info(name);
      fullTensors.set(`${PREFIX}${name}`, { dtype: info.dtype, shape: [...info.shape], data: finetune.readBytes(name) });
      const dot = name.lastIndexOf('.');
      modulesToSave.push(dot > 0 ? name.slice(0, dot) : name);
    }
    skipped.push({ name, reason, saved: save });
  };
  const bytesDiffer = (name: string) => () => {
    const a = base.readBytes(name);
    const b = finetune.readBytes(name);
    return a.length !== b.length || a.some((byte, i) => byte !== b[i]);
  };

  names.forEach((name, index) => {
    options.onProgress?.(index, names.length, name);
    const baseInfo = base.info(name);
    const tunedInfo = finetune.info(name);
    if (baseInfo.shape.length !== tunedInfo.shape.length || baseInfo.shape.some((d, i) => d !== tunedInfo.shape[i])) {
      throw new ShapeMismatchError(name, { [base.source]: baseInfo.shape, [finetune.source]: tunedInfo.shape }, {
        hint: 'extraction needs a fine-tune of this very base; a resized vocabulary or layer cannot be expressed as LoRA factors',
      });
    }
    const module = name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : undefined;
    if (baseInfo.shape.length !== 2 || module === undefined) {
      skip(name, baseInfo.shape.length === 2 ? 'not a module weight' : `${baseInfo.shape.length}-D tensor`, bytesDiffer(name));
      return;
    }
    if (!isFloatDType(baseInfo.dtype) || !isFloatDType(tunedInfo.dtype)) {
      skip(name, `${baseInfo.dtype} tensor`, bytesDiffer(name));
      return;
    }
    const embedding = isEmbeddingModule(module);
    if (embedding && options.includeEmbeddings !== true) {
      skip(name, 'embedding (pass --include-embeddings to decompose it)', bytesDiffer(name));
      return;
    }
    const [outRows, inCols] = baseInfo.shape as [number, number];
    // embeddings: PEFT adds (B·A)ᵀ to the [vocab, dim] table, so factor Δᵀ [dim, vocab]
    const [rows, cols] = embedding ? [inCols, outRows] : [outRows, inCols];
    const { delta, squares } = deltaMatrix(finetune.readFloat32(name), base.readFloat32(name), outRows, inCols, embedding);
    if (squares === 0) {
      skip(name, 'unchanged (Δ = 0)', () => false);
      return;
    }
    const { svd, method } = decompose(delta, rows, cols, name, options);
    const k = keptRank(svd, options.maxRank, svEpsilon);
    if (k === 0) {
      skip(name, `no singular value above sv_epsilon ${svEpsilon}`, () => false);
      return;
    }
    const tailSquares = droppedSquares(svd, k, method, squares);
    const { a, b } = loraFactors(svd, rows, cols, k, distributeScale);
    const [aRole, bRole, suffix] = embedding ? ['lora_embedding_A', 'lora_embedding_B', ''] : ['lora_A', 'lora_B', '.weight'];
    factors.set(`${PREFIX}${module}.${aRole}${suffix}`, { dtype: 'F32', shape: [k, cols], data: encodeF32(a) });
    factors.set(`${PREFIX}${module}.${bRole}${suffix}`, { dtype: 'F32', shape: [rows, k], data: encodeF32(b) });
    modules.push({
      module,
      kind: embedding ? 'embedding' : 'linear',
      shape: [...baseInfo.shape],
      rank: k,
      svd: method,
      singularValues: Array.from(svd.s.subarray(0, 16)),
      deltaNorm: Math.sqrt(squares),
      tail: Math.sqrt(Math.max(0, tailSquares)),
    });
  });
  options.onProgress?.(names.length, names.length, '');

  if (modules.length === 0) {
    throw new ModelevoError('VALUE_INVALID', `no module of '${finetune.source}' differs from '${base.source}' in a decomposable 2-D weight`, {
      hint: 'check that --model is the fine-tune and --base its base model (or raise --sv-epsilon less)',
      details: { skipped: skipped.map((s) => s.name) },
    });
  }
  const { config, rank } = peftConfig(base.source, modules, modulesToSave);
  return { adapter: { config, tensors: new Map([...factors, ...fullTensors]) }, modules, skipped, rank };
}
