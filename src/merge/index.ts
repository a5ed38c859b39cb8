/**
 * `runMerge`: the merge engine's one entry point (merge-methods.md §1, §5). Validates the mergekit config,
 * opens every referenced model once (paths relative to `cwd`, like mergekit), builds the per-tensor plan from
 * headers, then streams the merge into a model folder written atomically — or, for evolution, into an
 * in-memory `Checkpoint`. Every validation happens before the output folder is touched; any later failure
 * aborts the writer, so no half-written model exists and an existing target is left as it was.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { stringify as stringifyYaml } from 'yaml';
import { isFloatDType, numelOf, type FloatDType } from '../core/dtype.js';
import { readConfigFile } from '../core/config-file.js';
import { ConfigError, ModelevoError } from '../core/errors.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { MemoryCheckpoint, type MemoryTensor } from '../io/memory-checkpoint.js';
import { openCheckpoint } from '../io/open.js';
import { ModelFolderWriter } from '../io/shard-writer.js';
import { recoverOutputFolder } from '../io/output-folder.js';
import { checkParameterRanges } from './parameter-ranges.js';
import { parseByteSize } from '../io/size.js';
import { configDType, parseMergeConfig, parseMergeConfigYaml, type MergeConfig } from './config.js';
import { checkMethodRules } from './method-rules.js';
import { ModelSet } from './model-set.js';
import { createKernels, type KernelsKind } from '../kernels/index.js';
import { KernelPool } from '../kernels/pool.js';
import {
  createStreamProgress,
  executePlan,
  executePlanWithKernels,
  prepareModelTrim,
  type ExecuteOptions,
  type ExecuteStats,
  type MergeArithmetic,
  type ProgressReporter,
  type TensorSink,
} from './executor.js';
import { resolveConfigRelativePaths } from './config-paths.js';
import { checkRelatedness } from './relatedness.js';
import { modelCard } from './model-card.js';
import { resolveChatTemplate } from './chat-templates.js';
import { parseMergeDocuments, type MergeDocument } from './multi.js';
import { planTokenEmbeddings, readVocabulary, type TokenEmbeddingPlan } from './token-embeddings.js';
import { architectureFor } from './architecture.js';
import { fastKindOf } from './fast-path.js';
import { buildMergePlan, type MergePlan } from './plan.js';
import { getMergeMethod } from './registry.js';

export interface RunMergeOptions {
  /** folder model paths in the config are resolved against (default: process.cwd()) */
  readonly cwd?: string;
  /** seed for random methods (default 0) */
  readonly seed?: number;
  /** bytes per shard, a number or text like `5B` / `500M` (decimal, default 5e9) */
  readonly outShardSize?: number | string;
  /** copy tokenizer and side files from the donor (default true) */
  readonly copyTokenizer?: boolean;
  /** replace a non-empty output folder (swapped in only after the merge succeeds) */
  readonly allowOverwrite?: boolean;
  /** return the result as an in-memory Checkpoint instead of writing `outDir` */
  readonly inMemory?: boolean;
  /** pre-opened models keyed by the reference string used in the config; they are not closed by runMerge */
  readonly models?: ReadonlyMap<string, Checkpoint>;
  /** 'auto' (stderr, TTY-aware), 'none', or a reporter */
  readonly progress?: 'auto' | 'none' | ProgressReporter;
  /** the config as the user wrote it, saved as mergekit_config.yml (default: the parsed config as YAML) */
  readonly configText?: string;
  /** receives config and merge warnings as they occur (they are also returned) */
  readonly onWarning?: (message: string) => void;
  /**
   * Kernels for the hot tensors (linear, ties, task_arithmetic; fast-path.ts): 'wasm' (worker pool, falls back to
   * 'reference' when build/kernels.wasm is missing), 'reference' (pure TypeScript methods only), or 'auto'
   * (default): 'wasm' when the fast-path tensors hold at least 64 MiB, since starting workers costs more than
   * they save on small models. Outputs are identical either way, except in float32 arithmetic (`arithmetic`, the
   * default on 'wasm'): linear merges agree to float32 rounding, task-vector mixes of 1–4 models to
   * consensus-f32.ts `float32MixBound`.
   */
  readonly kernels?: 'auto' | KernelsKind;
  /** compute threads for 'wasm' (default min(2, cores)): a linear merge runs threads − 1 workers plus this thread, a task-vector merge `threads` workers while this thread prepares the next tensor */
  readonly threads?: number;
  /**
   * Element-wise arithmetic on the wasm kernels, for the linear merge and the task-vector mix of 1–4 models:
   * 'float32' (default; merge-methods.md §0 — linear within float32 rounding of the reference path, the mix bit for
   * bit consensus-f32.ts, within its `float32MixBound` of the float64 mix) or 'float64' (the reference path's
   * bytes exactly). See fast-path.ts.
   */
  readonly arithmetic?: MergeArithmetic;
  /**
   * an input that does not look like a fine-tune of the base (relatedness.ts) is an error (MODELS_UNRELATED)
   * instead of a warning
   */
  readonly strict?: boolean;
  /**
   * run the unrelated-model check (default: for folder outputs only — in-memory merges are evolution's inner
   * loop, which re-merges the same models many times)
   */
  readonly checkRelatedness?: boolean;
  /** test hook: opens a reference (default: io/open `openCheckpoint`) */
  readonly openModel?: (ref: string, cwd: string) => Checkpoint;
}

export interface MergeResult {
  /** the written folder (absolute), undefined in memory */
  readonly output: string | undefined;
  /** the merged model when `inMemory` */
  readonly checkpoint: Checkpoint | undefined;
  readonly tensors: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly warnings: readonly string[];
  readonly plan: MergePlan;
  /** the kernels the hot tensors ran on */
  readonly kernels: KernelsKind;
}

const MERGEKIT_CONFIG_FILE = 'mergekit_config.yml';

function toConfig(config: unknown): { config: MergeConfig; text: string | undefined } {
  if (typeof config === 'string') return { config: parseMergeConfigYaml(config), text: config };
  return { config: parseMergeConfig(config), text: undefined };
}

/** Reads and validates a YAML config file. */
export function loadMergeConfigFile(path: string, cwd: string = process.cwd()): { config: MergeConfig; text: string } {
  const text = readConfigFile(path, 'merge config');
  return { config: resolveConfigRelativePaths(parseMergeConfigYaml(text, path), dirname(resolve(path)), cwd), text };
}

/**
 * Reads a config file that may hold several YAML documents (mergekit-multi, multi.ts). A single document keeps
 * the file's text verbatim (saved as mergekit_config.yml).
 */
export function loadMergeDocumentsFile(path: string, cwd: string = process.cwd()): MergeDocument[] {
  const text = readConfigFile(path, 'merge config');
  const documents = parseMergeDocuments(text, path);
  const configDir = dirname(resolve(path));
  return documents.map((document) => ({
    ...document,
    config: resolveConfigRelativePaths(document.config, configDir, cwd),
    text: documents.length === 1 ? text : document.text,
  }));
}

/**
 * A tensor-by-tensor merge of single .safetensors files keeps the donor's `__metadata__` (modelevo's conv
 * autoencoders describe their genome there), so the output loads where the donor did.
 */
function donorMetadata(plan: MergePlan, models: ModelSet): Record<string, string> | undefined {
  if (plan.layout !== 'tensor-by-tensor') return undefined;
  const metadata = (models.get(plan.donorKey) as Partial<{ metadata: Record<string, string> | undefined }>).metadata;
  if (metadata === undefined) return undefined;
  const { format: _format, ...rest } = metadata;
  return rest;
}

/** The reference whose tokenizer the output takes: `base` falls back to the first model without a base_model (mergekit). */
function tokenizerSourceRef(config: MergeConfig): string | undefined {
  const requested = config.tokenizer?.source ?? config.tokenizer_source ?? (config.tokenizer ? 'union' : undefined);
  const first = config.models?.[0]?.model ?? config.slices?.[0]?.sources[0]?.model;
  if (requested === undefined || requested === 'union') return undefined;
  if (requested === 'base') return config.base_model ?? first;
  return requested;
}

function tokenizerFolder(config: MergeConfig, models: ModelSet, donorKey: string, plan: MergePlan): string | undefined {
  const requested = config.tokenizer?.source ?? config.tokenizer_source ?? (config.tokenizer ? 'union' : undefined);
  const sourceRef = tokenizerSourceRef(config);
  const sourceKey = sourceRef === undefined ? donorKey : models.keyOf(sourceRef);
  const folder = models.folderOf(sourceKey);
  if (requested !== undefined && folder !== undefined) {
    // vocabulary alignment (§1.7) is not implemented: it reduces to copying when every input shares one tokenizer
    const reference = readTokenizer(folder);
    const keys = new Set(plan.tensors.flatMap((t) => [...(t.base ? [t.base.modelKey] : []), ...t.models.map((m) => m.modelKey)]));
    for (const key of keys) {
      const other = models.folderOf(key);
      if (other !== undefined && readTokenizer(other) !== reference) {
        throw new ConfigError(
          [{ path: [config.tokenizer ? 'tokenizer' : 'tokenizer_source'], message: `the input models use different tokenizers ('${other}' differs from '${folder}'); vocabulary alignment is not supported yet` }],
          { hint: 'merge models that share one tokenizer, or align their vocabularies first' },
        );
      }
    }
  }
  return folder;
}

/** Sets up the tokenizer block's embedding plan (tokens, pad_to_multiple_of) on the model set, if it asks for one. */
function prepareTokenEmbeddings(config: MergeConfig, models: ModelSet): TokenEmbeddingPlan | undefined {
  if (config.tokenizer === undefined) return undefined;
  const donorRef = config.base_model ?? config.models?.[0]?.model ?? config.slices?.[0]?.sources[0]?.model;
  const sourceRef = tokenizerSourceRef(config) ?? donorRef!;
  const folderOfRef = (ref: string): string => {
    const folder = models.folderOf(models.keyOf(ref));
    if (folder === undefined) throw new ConfigError([{ path: ['tokenizer'], message: `'${ref}' is not a model folder with a tokenizer` }]);
    return folder;
  };
  const donor = models.raw(models.keyOf(donorRef!));
  const arch = architectureFor(donor.config, donorRef!);
  const plan = planTokenEmbeddings(config, arch.embeddingTensors, readVocabulary(folderOfRef(sourceRef)), (ref) => readVocabulary(folderOfRef(ref)), (ref) => models.keyOf(ref));
  if (plan !== undefined) models.useEmbeddingPlan(plan);
  return plan;
}

function readTokenizer(folder: string): string | undefined {
  const path = join(folder, 'tokenizer.json');
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Bytes of input the fast paths would read; 'auto' switches the wasm kernels on from this much. */
const AUTO_KERNEL_BYTES = 64 * 2 ** 20;

async function kernelPoolFor(plan: MergePlan, options: RunMergeOptions, inputDType: FloatDType | undefined): Promise<KernelPool | undefined> {
  const choice = options.kernels ?? 'auto';
  if (choice === 'reference') return undefined;
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new ConfigError([{ path: ['threads'], message: `expected an integer ≥ 1, got ${options.threads}` }], { hint: 'e.g. --threads 2' });
  }
  if (choice === 'auto') {
    let fastBytes = 0;
    for (const tensor of plan.tensors) {
      if (fastKindOf(plan, tensor, inputDType) === undefined) continue;
      fastBytes += (tensor.models.length + (tensor.base ? 1 : 0)) * numelOf(tensor.shape) * 2;
    }
    if (fastBytes < AUTO_KERNEL_BYTES) return undefined;
  }
  // A linear merge's calling thread only waits for the kernels, so it is one of the compute threads (one fewer
  // worker to start). A task-vector merge's calling thread has work of its own between the passes (the next
  // tensor's sparsifiers and cut bands): it stays free to do it while `threads` workers run the passes
  // (fused-task-vectors.ts; ties on bench:merge's 22-layer family 4.65–4.86 s this way, 4.81–5.52 s with the
  // caller taking a part, alternating runs, 2026-12-07).
  const threads = options.threads ?? Math.min(2, availableParallelism());
  const lookAhead = plan.method.fastPath?.kind === 'task_vector';
  const kernels = await createKernels({ kernels: 'wasm', workers: lookAhead ? threads : threads - 1, callerTakesPart: !lookAhead, fallback: 'reference' });
  return kernels instanceof KernelPool ? kernels : undefined;
}

/**
 * Runs a merge. `config` is a validated MergeConfig, a plain object (validated here) or YAML text. With
 * `inMemory`, `outDir` is ignored and the result's `checkpoint` holds the merged tensors.
 */
export async function runMerge(config: unknown, outDir: string | undefined, options: RunMergeOptions = {}): Promise<MergeResult> {
  const parsed = toConfig(config);
  const mergeConfig = parsed.config;
  checkParameterRanges(mergeConfig);
  const cwd = options.cwd ?? process.cwd();
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const method = getMergeMethod(mergeConfig.merge_method);
  const models = new ModelSet(cwd, options.models ?? new Map(), options.openModel ?? ((ref, dir) => openCheckpoint(ref, { cwd: dir })));
  if (!options.inMemory && outDir === undefined) {
    throw new ConfigError([{ path: [], message: 'an output folder is required unless inMemory is set' }]);
  }
  // a killed earlier writer of this output: its temp folders go, an interrupted overwrite is restored
  if (!options.inMemory && outDir !== undefined) recoverOutputFolder(resolve(outDir));
  if (!options.inMemory && !options.allowOverwrite && outDir !== undefined && existsSync(outDir) && readdirSync(outDir).length > 0) {
    // fail before any model is opened; the writer repeats this check at creation
    throw new ModelevoError('IO_FAILED', `output folder '${resolve(outDir)}' already exists and is not empty`, {
      hint: 'choose another output folder, remove it, or pass --overwrite (allowOverwrite: true)',
      details: { target: resolve(outDir) },
    });
  }
  let poolStart: Promise<KernelPool | undefined> | undefined;
  try {
    for (const message of checkMethodRules(mergeConfig, method, (a, b) => models.keyOf(a) === models.keyOf(b))) warn(message);
    const embeddingPlan = prepareTokenEmbeddings(mergeConfig, models);
    const builtPlan = buildMergePlan(mergeConfig, method, models);
    // the output config's vocab_size follows a padded vocabulary
    const headerPlan =
      embeddingPlan === undefined || builtPlan.outputConfig === undefined ? builtPlan : { ...builtPlan, outputConfig: { ...builtPlan.outputConfig, vocab_size: embeddingPlan.rows } };
    headerPlan.warnings.forEach(warn);
    const configInputDType = mergeConfig.dtype === undefined ? undefined : configDType(mergeConfig.dtype);
    const inputDType = configInputDType !== undefined && isFloatDType(configInputDType) ? configInputDType : undefined;
    // the kernel workers start (~0.25 s under tsx) while this thread checks relatedness and trims; the model trim
    // changes thresholds, not which tensors take the fast path, so the header plan decides as well
    poolStart = kernelPoolFor(headerPlan, options, inputDType);
    // its failure is reported below, after the checks' own
    poolStart.catch(() => undefined);
    if (options.checkRelatedness ?? !options.inMemory) checkRelatedness(headerPlan, models, options.strict === true, warn);
    const plan = await prepareModelTrim(headerPlan, models, inputDType);
    const executeOptions: ExecuteOptions = {
      seed: options.seed ?? 0,
      inputDType,
      progress: options.progress === undefined || options.progress === 'auto' ? createStreamProgress() : options.progress === 'none' ? undefined : options.progress,
      warn,
      arithmetic: options.arithmetic,
    };

    const pool = await poolStart;
    const kernels: KernelsKind = pool === undefined ? 'reference' : 'wasm';
    const execute = (sink: TensorSink): Promise<ExecuteStats> =>
      pool === undefined ? Promise.resolve(executePlan(plan, models, sink, executeOptions)) : executePlanWithKernels(plan, models, sink, pool, executeOptions);

    if (options.inMemory) {
      const tensors = new Map<string, MemoryTensor>();
      // fast-path bytes live in the kernel pool's reused shared memory: keep a copy
      const keep = (data: Uint8Array): Uint8Array => (data.buffer instanceof SharedArrayBuffer ? data.slice() : data);
      const stats = await execute({ writeTensor: (name, data, dtype, shape) => tensors.set(name, { dtype, shape, data: keep(data) }) });
      const checkpoint = new MemoryCheckpoint(tensors, { source: `<merged ${mergeConfig.merge_method}>`, config: plan.outputConfig });
      return { output: undefined, checkpoint, ...stats, warnings, plan, kernels };
    }

    const copyTokenizer = options.copyTokenizer ?? true;
    const folder = copyTokenizer ? tokenizerFolder(mergeConfig, models, plan.donorKey, plan) : undefined;
    const inputFolders = [...new Set(plan.tensors.flatMap((t) => [...(t.base ? [t.base.modelKey] : []), ...t.models.map((m) => m.modelKey)]))]
      .map((key) => models.folderOf(key))
      .filter((folder): folder is string => folder !== undefined);
    const chatTemplate = resolveChatTemplate(mergeConfig.chat_template, inputFolders);
    const maxShardBytes =
      options.outShardSize === undefined ? undefined : typeof options.outShardSize === 'number' ? options.outShardSize : parseByteSize(options.outShardSize, '--out-shard-size');
    const specs = plan.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
    const configText = options.configText ?? parsed.text ?? stringifyYaml(mergeConfig);
    const writer = ModelFolderWriter.create(outDir!, specs, {
      maxShardBytes,
      copyFrom: folder,
      configPatch: plan.outputConfig,
      metadata: donorMetadata(plan, models),
      overwrite: options.allowOverwrite ?? false,
      // written before the swap, so the output never appears without them
      extraFiles: {
        [MERGEKIT_CONFIG_FILE]: configText,
        'README.md': modelCard(mergeConfig, method, configText),
        ...(chatTemplate === undefined ? {} : { 'chat_template.jinja': chatTemplate }),
      },
    });
    let stats;
    let written;
    try {
      stats = await execute(writer);
      written = writer.commit();
    } catch (error) {
      writer.abort();
      throw error;
    }
    return { output: written.path, checkpoint: undefined, ...stats, warnings, plan, kernels };
  } finally {
    // the workers stop however the merge ended (a failed check or output folder too)
    await poolStart?.then((pool) => pool?.close(), () => undefined);
    models.closeAll();
  }
}

export { parseMergeConfig, parseMergeConfigYaml, type MergeConfig } from './config.js';
export { checkMethodRules } from './method-rules.js';
export { runMergeDocuments, type MergeDocument } from './multi.js';
export { buildMergePlan, type MergePlan } from './plan.js';
