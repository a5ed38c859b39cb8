/**
 * The per-tensor merge plan (merge-methods.md §1.3 mergekit `plan.py`, §1.4–§1.6, §3.14, P6): `models:`
 * becomes one output slice (the base appended as a source when not listed), output layers are numbered
 * across slices and renamed, pre-layer tensors come from the first slice and post-layer tensors from the last,
 * the tensor set comes from the donor, parameters are resolved per tensor at position t, embedding shapes are
 * rectified, and the output config and dtypes are decided. Planning reads headers only, so every missing
 * tensor, shape mismatch and missing parameter is reported before any output is written.
 */
import { isFloatDType, type DType, type FloatDType } from '../core/dtype.js';
import { CheckpointError, ConfigError, ShapeMismatchError } from '../core/errors.js';
import type { Checkpoint } from '../io/checkpoint.js';
import {
  architectureFor,
  hasTiedEmbeddings,
  isEmbeddingTensor,
  layerTensorName,
  parseTensorName,
  TENSOR_BY_TENSOR,
  type ArchitectureData,
} from './architecture.js';
import { configDType, parameterLocations, type MergeConfig, type ParameterMap } from './config.js';
import { EXTRA_CHANNELS_PARAM, extraChannelShape } from './extra-channels.js';
import type { MergeMethod, ParamValue } from './method.js';
import { isConditionalEntry, resolveParams, type ParameterLevels, type ParameterSetting } from './parameters.js';
import { normaliseSlices, type NormalisedSlice, type PlanModels, type SliceSource } from './slices.js';

export type { PlanModels } from './slices.js';

export interface PlannedInput {
  /** normalised model key (see `PlanModels.keyOf`) */
  readonly modelKey: string;
  /** the reference as written in the config (stable key for RNG streams and messages) */
  readonly modelRef: string;
  /** tensor name inside that model (source layer index, or the tied stand-in) */
  readonly tensorName: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface PlannedTensor {
  readonly name: string;
  readonly kind: 'pre' | 'layer' | 'post';
  /** output slice the inputs come from */
  readonly slice: number;
  /** gradient position (P6; post-layer tensors 0 by default, 1 with mergekit_compat: false) */
  readonly t: number;
  /** output shape (inputs larger than this are cut to it, §3.14) */
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly base: PlannedInput | undefined;
  /** non-base inputs in config order (all sources for methods that do not use a base) */
  readonly models: readonly PlannedInput[];
  readonly modelParams: readonly Readonly<Record<string, ParamValue>>[];
  readonly params: Readonly<Record<string, ParamValue>>;
  /** true when the inputs are not floats: the donor input's bytes are copied unchanged */
  readonly copyOnly: boolean;
}

export interface MergePlan {
  readonly method: MergeMethod;
  readonly tensors: readonly PlannedTensor[];
  /** key of the model whose config and tokenizer the output takes (base, else first listed) */
  readonly donorKey: string;
  readonly numLayers: number;
  /** 'tensor-by-tensor' when the donor has no layout description (see TENSOR_BY_TENSOR) */
  readonly layout: 'layers' | 'tensor-by-tensor';
  readonly outputConfig: Record<string, unknown> | undefined;
  readonly warnings: readonly string[];
}

/** Resolves where `name` lives in a model, using the tied stand-in when the model ties embeddings. */
function locate(arch: ArchitectureData, checkpoint: Checkpoint, name: string, ref: string): string {
  if (checkpoint.has(name)) return name;
  const standIn = arch.tiedTensors[name];
  if (standIn !== undefined && hasTiedEmbeddings(checkpoint.config) && checkpoint.has(standIn)) return standIn;
  throw new CheckpointError(`tensor '${name}' is missing from model '${ref}'`, {
    code: 'TENSOR_NOT_FOUND',
    file: checkpoint.source,
    tensor: name,
    hint: 'every input must have every tensor of the donor model; check that the models share one architecture',
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function rectifiedShape(name: string, inputs: readonly PlannedInput[], base: PlannedInput | undefined, warnings: string[]): number[] {
  const all = base ? [base, ...inputs] : inputs;
  const first = all[0]!.shape;
  if (all.every((input) => sameShape(input.shape, first))) return [...first];
  if (first.length !== 2 || all.some((input) => input.shape.length !== 2)) {
    throw new ShapeMismatchError(name, Object.fromEntries(all.map((input) => [input.modelRef, input.shape])));
  }
  // §3.14: the largest common sub-matrix; with a base this is at most the base's shape
  const rows = Math.min(...all.map((input) => input.shape[0]!));
  const cols = Math.min(...all.map((input) => input.shape[1]!));
  if (base && (rows < base.shape[0]! || cols < base.shape[1]!)) {
    warnings.push(`${name}: an input is smaller than the base [${base.shape.join(', ')}]; the output is cut to [${rows}, ${cols}]`);
  }
  return [rows, cols];
}

/**
 * The donor's layout, or TENSOR_BY_TENSOR when it has none (no config.json `model_type`) and the config needs
 * none: `slices` and gradients place tensors by layer, so they still require a known model_type.
 */
function chooseArchitecture(config: MergeConfig, donor: Checkpoint, donorRef: string): ArchitectureData {
  if (typeof donor.config?.['model_type'] === 'string' || config.slices !== undefined) return architectureFor(donor.config, donorRef);
  for (const { path, parameters } of parameterLocations(config)) {
    for (const [name, setting] of Object.entries(parameters)) {
      if (!holdsList(setting)) continue;
      throw new ConfigError(
        [{ path: [...path, name], message: `a list value is a gradient across layers, but '${donorRef}' has no layer layout (no config.json with model_type)` }],
        { hint: 'give a single value (tensor-by-tensor merge), or merge models whose config.json names a supported model_type' },
      );
    }
  }
  return TENSOR_BY_TENSOR;
}

/** true when a setting (or one of its {filter, value} entries) is a list of values */
function holdsList(setting: ParameterSetting): boolean {
  if (isConditionalEntry(setting)) return Array.isArray(setting.value);
  if (!Array.isArray(setting)) return false;
  const entries = setting as readonly unknown[];
  if (!entries.some((entry) => isConditionalEntry(entry))) return true;
  return entries.some((entry) => isConditionalEntry(entry) && Array.isArray(entry.value));
}

/** What planning one tensor needs to know about the merge as a whole. */
interface PlanContext {
  readonly config: MergeConfig;
  readonly method: MergeMethod;
  readonly models: PlanModels;
  readonly arch: ArchitectureData;
  readonly slices: readonly NormalisedSlice[];
  readonly outDType: FloatDType | undefined;
  readonly warnings: string[];
}

/** The output dtype the config asks for; int64 parses (mergekit accepts it) but cannot be merged in. */
function outputDType(config: MergeConfig): FloatDType | undefined {
  const outDTypeName = config.out_dtype ?? config.dtype;
  const outDType = outDTypeName === undefined ? undefined : configDType(outDTypeName);
  if (outDType === 'I64' || (config.dtype !== undefined && configDType(config.dtype) === 'I64')) {
    throw new ConfigError([{ path: [config.out_dtype === 'int64' ? 'out_dtype' : 'dtype'], message: 'int64 parses but cannot be merged in; use float32, float16 or bfloat16' }], {
      hint: 'merging runs on floats; pick a float dtype',
    });
  }
  return outDType;
}

/**
 * One output tensor: its inputs (base apart), shape (rectified for embeddings, AnyFit for extra channels),
 * dtype and the method's global and per-model parameters at position `t` of its slice.
 */
function planTensor(ctx: PlanContext, name: string, kind: PlannedTensor['kind'], sliceIndex: number, t: number, sourceName: (s: SliceSource) => string): PlannedTensor {
  const { config, method, models, arch, warnings } = ctx;
  const slice = ctx.slices[sliceIndex]!;
  const inputOf = (source: SliceSource): PlannedInput => {
    const checkpoint = models.get(source.key);
    const tensorName = locate(arch, checkpoint, sourceName(source), source.ref);
    const info = checkpoint.info(tensorName);
    return { modelKey: source.key, modelRef: source.ref, tensorName, dtype: info.dtype, shape: info.shape };
  };
  const baseSource = slice.baseKey === undefined ? undefined : slice.sources.find((s) => s.key === slice.baseKey);
  const others = slice.sources.filter((s) => s !== baseSource);
  const base = baseSource ? inputOf(baseSource) : undefined;
  const inputs = others.map(inputOf);
  let shape: number[];
  const all = base ? [base, ...inputs] : inputs;
  const context = { method: method.name, tensorName: name, t };
  const params = resolveParams(method.params, 'global', { slice: slice.parameters, global: config.parameters }, context);
  applyCompatSwitch(method, config, slice.parameters, params);
  if (isEmbeddingTensor(arch, name)) shape = rectifiedShape(name, inputs, base, warnings);
  else {
    shape = [...all[0]!.shape];
    if (!all.every((input) => sameShape(input.shape, shape))) {
      if (params[EXTRA_CHANNELS_PARAM] === 'anyfit') shape = extraChannelShape(name, base, inputs);
      else {
        const offersRule = method.params.some((spec) => spec.name === EXTRA_CHANNELS_PARAM);
        throw new ShapeMismatchError(name, Object.fromEntries(all.map((input) => [input.modelRef, input.shape])), {
          ...(offersRule ? { hint: `if a parent adds input channels (AnyFit), set ${EXTRA_CHANNELS_PARAM}: anyfit under parameters` } : {}),
        });
      }
    }
  }
  const reference = base ?? inputs[0]!;
  const copyOnly = !isFloatDType(reference.dtype);
  if (!copyOnly) {
    const oddInput = all.find((input) => !isFloatDType(input.dtype));
    if (oddInput) {
      throw new CheckpointError(`tensor '${oddInput.tensorName}' of '${oddInput.modelRef}' is ${oddInput.dtype}; merging needs F32, F16, BF16 or F64`, {
        code: 'DTYPE_UNSUPPORTED',
        tensor: oddInput.tensorName,
        hint: 'convert the model to a float dtype first',
      });
    }
  }
  const modelParams = others.map((source) => {
    const levels: ParameterLevels = { source: source.parameters, slice: slice.parameters, global: config.parameters };
    return coerceEnums(method, resolveParams(method.params, 'model', levels, { ...context, model: source.ref }));
  });
  return {
    name,
    kind,
    slice: sliceIndex,
    t,
    shape,
    dtype: copyOnly ? reference.dtype : (ctx.outDType ?? reference.dtype),
    base,
    models: inputs,
    modelParams,
    params: coerceEnums(method, params),
    copyOnly,
  };
}

/** The tensor-name suffixes of each layer of a model (`self_attn.q_proj.weight`, …), read once per model. */
function layerSuffixReader(arch: ArchitectureData, models: PlanModels): (key: string, layer: number) => string[] {
  const layerSuffixes = new Map<string, Map<number, string[]>>();
  return (key, layer) => {
    let byLayer = layerSuffixes.get(key);
    if (!byLayer) {
      byLayer = new Map();
      for (const name of models.get(key).names()) {
        const parsed = parseTensorName(arch, name);
        if (parsed.layer === undefined) continue;
        const list = byLayer.get(parsed.layer) ?? [];
        list.push(parsed.suffix);
        byLayer.set(parsed.layer, list);
      }
      layerSuffixes.set(key, byLayer);
    }
    return byLayer.get(layer) ?? [];
  };
}

/** Builds the full plan from headers and configs only (no tensor data is read). */
export function buildMergePlan(config: MergeConfig, method: MergeMethod, models: PlanModels): MergePlan {
  const warnings: string[] = [];
  const firstRef = config.models?.[0]?.model ?? config.slices?.[0]?.sources[0]?.model;
  const donorRef = config.base_model ?? firstRef!;
  const donorKey = models.keyOf(donorRef);
  const donor = models.get(donorKey);
  const arch = chooseArchitecture(config, donor, donorRef);
  const slices = normaliseSlices(config, method, arch, models);
  const numLayers = slices.reduce((sum, slice) => sum + slice.length, 0);
  const outDTypeName = config.out_dtype ?? config.dtype;
  const ctx: PlanContext = { config, method, models, arch, slices, outDType: outputDType(config), warnings };
  const tensors: PlannedTensor[] = [];
  const plan = (name: string, kind: PlannedTensor['kind'], sliceIndex: number, t: number, sourceName: (s: SliceSource) => string): void => {
    tensors.push(planTensor(ctx, name, kind, sliceIndex, t, sourceName));
  };

  const donorNames = donor.names();
  const nonLayer = donorNames.filter((name) => parseTensorName(arch, name).layer === undefined);
  const pre = nonLayer.filter((name) => arch.preLayerTensors.includes(name));
  const post = nonLayer.filter((name) => !arch.preLayerTensors.includes(name));
  for (const name of pre) plan(name, 'pre', 0, 0, () => name);

  const suffixesOf = layerSuffixReader(arch, models);
  let outputLayer = 0;
  slices.forEach((slice, sliceIndex) => {
    const template = slice.sources.find((s) => s.key === slice.baseKey) ?? slice.sources[0]!;
    for (let idx = 0; idx < slice.length; idx++) {
      const t = slice.length === 1 ? 1 : idx / (slice.length - 1);
      for (const suffix of suffixesOf(template.key, template.start + idx)) {
        const name = layerTensorName(arch, outputLayer, suffix);
        plan(name, 'layer', sliceIndex, t, (source) => layerTensorName(arch, source.start + idx, suffix));
      }
      outputLayer++;
    }
  });
  // current mergekit reads post-layer tensors (final norm, lm_head) with its t = 0 config reader, i.e. the first
  // value of a gradient; before its multi-module refactor they got t = 1 (mergekit_compat: false)
  const postPosition = config.mergekit_compat === false ? 1 : 0;
  for (const name of post) plan(name, 'post', slices.length - 1, postPosition, () => name);

  return {
    method,
    tensors,
    donorKey,
    numLayers,
    layout: arch.layered ? 'layers' : 'tensor-by-tensor',
    outputConfig: patchOutputConfig(donor.config, arch, numLayers, outDTypeName),
    warnings,
  };
}

/**
 * Methods that declare a `mergekit_compat` parameter (arcee_fusion) follow the top-level `mergekit_compat` key
 * unless the parameters set it themselves.
 */
function applyCompatSwitch(method: MergeMethod, config: MergeConfig, sliceParameters: ParameterMap | undefined, params: Record<string, ParamValue>): void {
  if (config.mergekit_compat === undefined || !method.params.some((spec) => spec.name === COMPAT_PARAM)) return;
  const setExplicitly = sliceParameters?.[COMPAT_PARAM] !== undefined || config.parameters?.[COMPAT_PARAM] !== undefined;
  if (!setExplicitly) params[COMPAT_PARAM] = config.mergekit_compat;
}

const COMPAT_PARAM = 'mergekit_compat';

/** enum parameters reach methods as strings even when YAML wrote `true`/`false` (e.g. `rescale: true`). */
function coerceEnums(method: MergeMethod, values: Record<string, ParamValue>): Record<string, ParamValue> {
  for (const spec of method.params) {
    const value = values[spec.name];
    if (spec.type === 'enum' && value !== undefined && typeof value !== 'string') values[spec.name] = String(value);
  }
  return values;
}

function patchOutputConfig(
  donorConfig: Record<string, unknown> | undefined,
  arch: ArchitectureData,
  numLayers: number,
  dtypeName: string | undefined,
): Record<string, unknown> | undefined {
  if (donorConfig === undefined) return undefined;
  const out: Record<string, unknown> = structuredClone(donorConfig);
  if (arch.layered) out[arch.numLayersKey] = numLayers;
  if (dtypeName !== undefined && dtypeName !== 'int64') {
    // transformers ≥ 5 writes `dtype`, earlier versions `torch_dtype`: keep whichever the donor uses
    const hasOld = 'torch_dtype' in out;
    if (hasOld) out['torch_dtype'] = dtypeName;
    if (!hasOld || 'dtype' in out) out['dtype'] = dtypeName;
  }
  return out;
}
