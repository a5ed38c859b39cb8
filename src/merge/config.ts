/**
 * The mergekit YAML merge configuration (merge-methods.md §1.1–§1.2, mergekit `MergeConfiguration`), as one
 * zod schema. Keys stay snake_case exactly as in mergekit so configs port both ways. Unlike mergekit, unknown
 * keys and ill-typed values are rejected with the path of the offending key; `modules:` with one module is
 * lifted to the top level (several modules are refused). Method-specific rules (model counts, base model, parameter names and
 * types) are checked by `checkMethodRules` (method-rules.ts) against the method's declarative data.
 */
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { FloatDType } from '../core/dtype.js';
import { describeSettingShape, type ParameterSetting } from './parameters.js';
import { configIssuesFromZod } from '../core/schema.js';

/** A parameter value as written: scalar, gradient, list, or conditional list (§1.4). Validated by hand for clear messages. */
const parameterSettingSchema = z.unknown().superRefine((value, ctx) => {
  const problem = describeSettingShape(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const parametersSchema = z.record(z.string(), parameterSettingSchema);

const modelPathSchema = z.union([
  z.string().min(1),
  z.strictObject({ path: z.string().min(1), revision: z.string().min(1).nullish() }),
]);

/**
 * mergekit's mapping form of a model reference (`ModelReference`): `{model: {path, revision}, lora: {path,
 * revision}, override_architecture}`, each path also as a plain string. It is rewritten once, here, to the
 * string form `path[@revision][+lora[@revision]]` every other part of modelevo reads. `override_architecture`
 * is accepted and not used: the layout always comes from the model's config.json.
 */
const modelRefMappingSchema = z
  .strictObject({
    model: modelPathSchema,
    lora: modelPathSchema.nullish(),
    override_architecture: z.string().nullish(),
  })
  .transform(({ model, lora }) => {
    const text = (part: z.output<typeof modelPathSchema>): string =>
      typeof part === 'string' ? part : `${part.path}${part.revision ? `@${part.revision}` : ''}`;
    return lora ? `${text(model)}+${text(lora)}` : text(model);
  });

const modelRefSchema = z.union(
  [z.string().min(1, { error: 'a model reference must not be empty' }), modelRefMappingSchema],
  { error: 'expected a model reference: a path or Hub id string (<path>[@revision][+<lora path>]) or {model: {path, revision}, lora: {path}}' },
);

const layerRangeSchema = z
  .tuple([z.number().int().nonnegative(), z.number().int().nonnegative()], {
    error: 'expected [start, end] with integers 0 ≤ start < end',
  })
  .refine(([start, end]) => end > start, { error: 'expected start < end (the range is [start, end))' });

const inputModelSchema = z.strictObject({
  model: modelRefSchema,
  parameters: parametersSchema.optional(),
});

const sliceSourceSchema = z.strictObject({
  model: modelRefSchema,
  layer_range: layerRangeSchema,
  parameters: parametersSchema.optional(),
});

const outputSliceSchema = z.strictObject({
  sources: z.array(sliceSourceSchema).min(1, { error: 'a slice needs at least one source' }),
  base_model: modelRefSchema.optional(),
  parameters: parametersSchema.optional(),
  /** accepted and ignored, as in mergekit (the field is unused there) */
  residual_weight: z.number().optional(),
});

const DTYPE_NAMES = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64' } as const;
export type ConfigDTypeName = keyof typeof DTYPE_NAMES;

const dtypeSchema = z
  .string({ error: 'expected a dtype name: float32, float16 or bfloat16' })
  .transform((name) => name.replace(/^torch\./, ''))
  .refine((name): name is ConfigDTypeName => Object.prototype.hasOwnProperty.call(DTYPE_NAMES, name), {
    error: (issue) =>
      `expected float32, float16 or bfloat16 (a 'torch.' prefix is allowed); got '${String(issue.input)}'`,
  })
  .transform((name) => name as ConfigDTypeName);

const tokenSourceSchema = z.union([
  z.strictObject({ kind: z.literal('zero') }),
  z
    .strictObject({ kind: z.literal('model_token'), model: modelRefSchema, token: z.string().nullish(), token_id: z.number().int().nonnegative().nullish() })
    .refine((s) => (s.token ?? undefined) === undefined !== ((s.token_id ?? undefined) === undefined), { error: 'give exactly one of token and token_id' }),
  modelRefSchema,
]);

const tokenizerSchema = z.strictObject({
  /** union (mergekit's default inside a tokenizer block), base, or a model reference */
  source: modelRefSchema.optional(),
  tokens: z.record(z.string(), z.strictObject({ source: tokenSourceSchema.nullish(), force: z.boolean().optional() })).optional(),
  pad_to_multiple_of: z.number().int().positive().nullish(),
});

const mergeConfigSchema = z
  .strictObject({
    merge_method: z.string({ error: 'merge_method is required (a registry name, e.g. ties)' }).min(1),
    models: z.array(inputModelSchema).min(1, { error: 'models must list at least one model' }).optional(),
    slices: z.array(outputSliceSchema).min(1, { error: 'slices must list at least one slice' }).optional(),
    modules: z.unknown().optional(),
    base_model: modelRefSchema.optional(),
    parameters: parametersSchema.optional(),
    dtype: dtypeSchema.optional(),
    out_dtype: dtypeSchema.optional(),
    tokenizer_source: modelRefSchema.optional(),
    tokenizer: tokenizerSchema.optional(),
    chat_template: z.string().min(1).optional(),
    /** modelevo key: false restores the conventions mergekit used before its multi-module refactor (docs/mergekit-compat.md) */
    mergekit_compat: z.boolean({ error: 'expected true or false' }).optional(),
  })
  .superRefine((config, ctx) => {
    if (config.modules !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['modules'],
        message: 'modules must be a map with one module',
      });
      return;
    }
    const present = (['models', 'slices'] as const).filter((key) => config[key] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: present.length === 0 ? [] : ['slices'],
        message: `exactly one of models or slices must be present; found ${present.length === 0 ? 'neither' : 'both'}`,
      });
    }
    if (config.tokenizer_source !== undefined && config.tokenizer !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenizer'],
        message: 'tokenizer_source and tokenizer cannot be combined; keep one of them',
      });
    }
    config.slices?.forEach((slice, sliceIndex) => {
      const [first, ...rest] = slice.sources;
      const length = first ? first.layer_range[1] - first.layer_range[0] : 0;
      rest.forEach((source, i) => {
        const other = source.layer_range[1] - source.layer_range[0];
        if (other !== length) {
          ctx.addIssue({
            code: 'custom',
            path: ['slices', sliceIndex, 'sources', i + 1, 'layer_range'],
            message: `all sources of one slice must span the same number of layers: expected ${length}, got ${other}`,
          });
        }
      });
    });
  });

type RawMergeConfig = z.output<typeof mergeConfigSchema>;

export type ParameterMap = Readonly<Record<string, ParameterSetting>>;

export interface SliceSourceConfig {
  readonly model: string;
  readonly layer_range: readonly [number, number];
  readonly parameters?: ParameterMap;
}

export interface OutputSliceConfig {
  readonly sources: readonly SliceSourceConfig[];
  readonly base_model?: string;
  readonly parameters?: ParameterMap;
  readonly residual_weight?: number;
}

export interface InputModelConfig {
  readonly model: string;
  readonly parameters?: ParameterMap;
}

/** A validated merge configuration, keys as in mergekit (dtype names without the `torch.` prefix). */
export interface MergeConfig {
  readonly merge_method: string;
  readonly models?: readonly InputModelConfig[];
  readonly slices?: readonly OutputSliceConfig[];
  readonly base_model?: string;
  readonly parameters?: ParameterMap;
  readonly dtype?: ConfigDTypeName;
  readonly out_dtype?: ConfigDTypeName;
  readonly tokenizer_source?: string;
  readonly tokenizer?: RawMergeConfig['tokenizer'];
  readonly chat_template?: string;
  /**
   * true (default): current mergekit's numbers (post-layer tensors at gradient position t = 0; arcee_fusion
   * KL in float32 with lower-order-statistic quartiles). false: the older convention (t = 1; float64 KL,
   * interpolated quartiles). See docs/mergekit-compat.md.
   */
  readonly mergekit_compat?: boolean;
}

/** The safetensors dtype a config dtype name stands for. */
export function configDType(name: ConfigDTypeName): FloatDType | 'I64' {
  return DTYPE_NAMES[name];
}

const TOP_LEVEL_KEYS = Object.keys(mergeConfigSchema.def.shape);
const SLICE_KEYS = Object.keys(outputSliceSchema.def.shape);
const SOURCE_KEYS = Object.keys(sliceSourceSchema.def.shape);
const MODEL_KEYS = Object.keys(inputModelSchema.def.shape);

function knownKeysAt(path: readonly (string | number)[]): string[] {
  const keys = path.filter((p) => typeof p === 'string');
  const last = keys[keys.length - 1];
  if (path.length === 0) return TOP_LEVEL_KEYS;
  if (last === 'sources') return SOURCE_KEYS;
  if (last === 'slices') return SLICE_KEYS;
  if (last === 'models') return MODEL_KEYS;
  if (last === 'tokenizer') return ['source', 'tokens', 'pad_to_multiple_of'];
  return ['filter', 'value'];
}

/**
 * Other mergekit tools' config formats, recognised by their tell-tale keys, so the message names the format
 * instead of listing unknown keys.
 */
const FOREIGN_FORMATS: readonly { keys: readonly string[]; format: string; hint: string }[] = [
  { keys: ['gate_mode', 'experts'], format: 'a mergekit-moe (mixture of experts) config', hint: 'modelevo merges dense models only; MoE assembly (mergekit-moe) is not supported' },
  { keys: ['genome', 'tasks'], format: 'a mergekit-evolve config', hint: 'write an evolution config for `modelevo evolve` (see docs/evolve.md)' },
];

function rejectForeignFormat(input: unknown, source: string | undefined): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return;
  for (const foreign of FOREIGN_FORMATS) {
    const found = foreign.keys.find((key) => key in input);
    if (found !== undefined) {
      throw new ConfigError([{ path: [found], message: `this is ${foreign.format} (key '${found}'), not a merge config` }], {
        source,
        hint: foreign.hint,
      });
    }
  }
}

/**
 * `modules:` (mergekit's per-module definitions for multi-module architectures) with one module — the only
 * kind modelevo's layouts have — is the same merge as its `models`/`slices` at the top level; the module's
 * parameters rank above the global ones (mergekit's precedence: slice, module, global), so they are laid
 * over them. Several modules (e.g. a vision tower beside the language model) are refused by name.
 */
function liftSingleModule(input: unknown, source: string | undefined): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input) || !('modules' in input)) return input;
  const { modules, ...rest } = input as Record<string, unknown>;
  if (modules === null || typeof modules !== 'object' || Array.isArray(modules)) {
    throw new ConfigError([{ path: ['modules'], message: 'expected a map of module name → {models | slices, parameters}' }], { source });
  }
  const entries = Object.entries(modules as Record<string, unknown>);
  if (entries.length !== 1) {
    throw new ConfigError([{ path: ['modules'], message: `found ${entries.length} modules (${entries.map(([n]) => n).join(', ') || 'none'}); modelevo's architectures have one module (multi-module models such as vision-language ones are not supported)` }], {
      source,
      hint: 'give one module, or write its models/slices at the top level',
    });
  }
  if ('models' in rest || 'slices' in rest) {
    throw new ConfigError([{ path: ['modules'], message: 'modules cannot be combined with top-level models or slices' }], { source });
  }
  const [name, module] = entries[0]!;
  if (module === null || typeof module !== 'object' || Array.isArray(module)) {
    throw new ConfigError([{ path: ['modules', name], message: 'expected {models | slices, parameters}' }], { source });
  }
  const { parameters, ...inputs } = module as Record<string, unknown>;
  const unknown = Object.keys(inputs).filter((key) => key !== 'models' && key !== 'slices');
  if (unknown.length > 0) throw new ConfigError([{ path: ['modules', name, unknown[0]!], message: `unknown key '${unknown[0]}'; a module holds models or slices, and parameters` }], { source });
  const globals = rest['parameters'] as Record<string, unknown> | undefined;
  const merged = parameters === undefined ? globals : { ...(globals ?? {}), ...(parameters as Record<string, unknown>) };
  return { ...rest, ...inputs, ...(merged === undefined ? {} : { parameters: merged }) };
}

/** Validates a parsed YAML/JSON object. Throws ConfigError listing every offending key path. */
export function parseMergeConfig(input: unknown, source?: string): MergeConfig {
  rejectForeignFormat(input, source);
  const result = mergeConfigSchema.safeParse(liftSingleModule(input, source));
  if (!result.success) {
    throw new ConfigError(configIssuesFromZod(result.error.issues, knownKeysAt), {
      source,
      hint: 'compare with the mergekit configuration keys in docs/merge-methods.md §1.1 or the files in examples/',
    });
  }
  const { modules: _modules, ...config } = result.data;
  return config as MergeConfig;
}

/** Parses YAML text (a mergekit config file) and validates it. */
export function parseMergeConfigYaml(text: string, source?: string): MergeConfig {
  const documents = parseYamlDocuments(text, source);
  if (documents.length > 1) {
    throw new ConfigError([{ path: [], message: `found ${documents.length} YAML documents: this is a mergekit-multi config, not a single merge` }], {
      source,
      hint: 'run the whole file with `modelevo merge <config.yml> <out-dir>` (multi-document configs), or keep one document here',
    });
  }
  return parseMergeConfig(documents[0], source);
}

/** Every YAML document of a file as plain data; a syntax error is a ConfigError with a one-line message. */
export function parseYamlDocuments(text: string, source?: string): unknown[] {
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  for (const document of list) {
    const error = document.errors[0];
    if (error !== undefined) {
      throw new ConfigError([{ path: [], message: `not valid YAML: ${error.message.split('\n')[0]}` }], {
        source,
        cause: error,
        hint: 'check indentation and list markers',
      });
    }
  }
  const data = list.map((document) => document.toJS() as unknown);
  return data.length === 0 ? [null] : data;
}

/** Every (path, parameters) place a config can hold parameters, with whether it is per-source. */
export function parameterLocations(
  config: MergeConfig,
): { path: (string | number)[]; parameters: ParameterMap; perSource: boolean }[] {
  const out: { path: (string | number)[]; parameters: ParameterMap; perSource: boolean }[] = [];
  if (config.parameters) out.push({ path: ['parameters'], parameters: config.parameters, perSource: false });
  config.models?.forEach((m, i) => {
    if (m.parameters) out.push({ path: ['models', i, 'parameters'], parameters: m.parameters, perSource: true });
  });
  config.slices?.forEach((slice, s) => {
    if (slice.parameters) out.push({ path: ['slices', s, 'parameters'], parameters: slice.parameters, perSource: false });
    slice.sources.forEach((source, i) => {
      if (source.parameters) {
        out.push({ path: ['slices', s, 'sources', i, 'parameters'], parameters: source.parameters, perSource: true });
      }
    });
  });
  return out;
}
