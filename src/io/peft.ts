/**
 * PEFT LoRA adapters (Hu et al., "LoRA", ICLR 2022, arXiv 2106.09685; rsLoRA: Kalajdzievski 2023,
 * arXiv 2312.03732) as saved by huggingface/peft: `adapter_config.json` + `adapter_model.safetensors`.
 * Implements formats.md §4 and merge-methods.md §4.1: the merged weight is W' = W + s·(B·A), transposed for
 * `fan_in_fan_out` layers and for embeddings, with s = alpha/r (alpha/√r under rsLoRA).
 *
 * Pattern rule for `rank_pattern` / `alpha_pattern` (PEFT's `get_pattern_key`): the keys are tried in the
 * order they appear in the JSON; the first key K for which the module path (e.g.
 * `model.layers.0.self_attn.q_proj`, without the `base_model.model.` prefix) matches the regular expression
 * `^(.*\.)?(K)$` wins. So a plain name like `q_proj` matches as a dotted suffix, a full path matches exactly,
 * and a key such as `layers\.[0-3]\..*q_proj` works as a regex. Keys that are not valid regexes only match
 * as literal dotted suffixes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../core/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { SafetensorsFile } from './safetensors/reader.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

export interface LoraConfig {
  readonly r: number;
  readonly loraAlpha: number;
  readonly useRslora: boolean;
  readonly fanInFanOut: boolean;
  /** suffix list, or one regex string matched against the whole module path */
  readonly targetModules: readonly string[] | string | null;
  readonly rankPattern: Readonly<Record<string, number>>;
  readonly alphaPattern: Readonly<Record<string, number>>;
  readonly modulesToSave: readonly string[] | null;
  readonly baseModelNameOrPath: string | null;
  /** the parsed JSON, for reporting */
  readonly raw: Readonly<Record<string, unknown>>;
}

export type LoraKind = 'linear' | 'embedding';

/** One targeted module: which adapter tensors update which base tensor, and by how much. */
export interface LoraModuleUpdate {
  /** module path in the base model, e.g. `model.layers.0.self_attn.q_proj` */
  readonly module: string;
  /** the base tensor this update adds to: `<module>.weight` */
  readonly target: string;
  readonly kind: LoraKind;
  readonly aName: string;
  readonly bName: string;
  readonly rank: number;
  readonly alpha: number;
  readonly scale: number;
  /** true when the product B·A is transposed before adding (Conv1D `fan_in_fan_out`, embeddings) */
  readonly transposed: boolean;
}

export interface LoraAdapter {
  readonly path: string;
  readonly config: LoraConfig;
  /** the adapter's own tensors */
  readonly weights: Checkpoint;
  /** keyed by base tensor name */
  readonly updates: ReadonlyMap<string, LoraModuleUpdate>;
  /** full tensors (modules_to_save, saved biases): base tensor name → adapter tensor name */
  readonly replacements: ReadonlyMap<string, string>;
  close(): void;
}

const NAME_PREFIX = 'base_model.model.';
const LORA_ROLES = ['lora_A', 'lora_B', 'lora_embedding_A', 'lora_embedding_B'] as const;
type LoraRole = (typeof LORA_ROLES)[number];

export type AdapterTensorRole =
  | { readonly kind: 'lora'; readonly module: string; readonly role: LoraRole }
  | { readonly kind: 'full'; readonly target: string };

/**
 * Maps an adapter tensor name to what it is. `base_model.model.<m>.lora_A[.<adapter>].weight` → LoRA factor of
 * module `<m>`; embedding factors may lack the `.weight` suffix (PEFT stores them as a ParameterDict);
 * `base_model.model.<p>[.modules_to_save][.<adapter>].<leaf>` → full replacement of `<p>.<leaf>`.
 */
export function classifyAdapterTensor(name: string, file = ADAPTER_WEIGHTS_FILE): AdapterTensorRole {
  if (!name.startsWith(NAME_PREFIX)) {
    throw new CheckpointError(`adapter tensor name does not start with '${NAME_PREFIX}'`, {
      code: 'ADAPTER_INVALID',
      file,
      tensor: name,
      hint: 'modelevo reads adapters saved by PEFT `save_pretrained` (names like base_model.model.<module>.lora_A.weight)',
    });
  }
  const parts = name.slice(NAME_PREFIX.length).split('.');
  const roleIndex = parts.findIndex((p) => (LORA_ROLES as readonly string[]).includes(p));
  if (roleIndex > 0) {
    const rest = parts.slice(roleIndex + 1);
    const plainSuffix = rest.length === 0 || (rest.length === 1 && rest[0] === 'weight');
    const namedAdapter = rest.length === 1 || (rest.length === 2 && rest[1] === 'weight');
    if (rest[rest.length - 1] === 'bias') {
      throw new CheckpointError('LoRA bias tensors (lora_bias: true) are not supported', {
        code: 'CHECKPOINT_UNSUPPORTED',
        file,
        tensor: name,
        hint: 'merge the adapter with PEFT `merge_and_unload()` and save the full model, then use that folder',
      });
    }
    if (!plainSuffix && !namedAdapter) {
      throw new CheckpointError(`unrecognised LoRA tensor suffix '.${rest.join('.')}'`, {
        code: 'CHECKPOINT_UNSUPPORTED',
        file,
        tensor: name,
        hint: 'only LoRA factor weights are supported (lora_bias / DoRA magnitude tensors are not)',
      });
    }
    return { kind: 'lora', module: parts.slice(0, roleIndex).join('.'), role: parts[roleIndex] as LoraRole };
  }
  // PEFT strips the adapter name from saved keys, but older versions keep `modules_to_save.<adapter>`.
  const wrapped = parts.indexOf('modules_to_save');
  const kept = wrapped >= 0 ? [...parts.slice(0, wrapped), ...parts.slice(wrapped + 2)] : parts;
  return { kind: 'full', target: kept.join('.') };
}

/** PEFT's `get_pattern_key` (see the header comment): the first matching pattern key, or undefined. */
export function matchPatternKey(patternKeys: readonly string[], modulePath: string): string | undefined {
  for (const key of patternKeys) {
    let matches: boolean;
    try {
      matches = new RegExp(`^(?:.*\\.)?(?:${key})$`).test(modulePath);
    } catch {
      matches = modulePath === key || modulePath.endsWith(`.${key}`);
    }
    if (matches) return key;
  }
  return undefined;
}

/** rank, alpha and scale for one module, with rank_pattern / alpha_pattern overrides applied. */
export function moduleScale(config: LoraConfig, modulePath: string): { rank: number; alpha: number; scale: number } {
  const rankKey = matchPatternKey(Object.keys(config.rankPattern), modulePath);
  const alphaKey = matchPatternKey(Object.keys(config.alphaPattern), modulePath);
  const rank = rankKey === undefined ? config.r : config.rankPattern[rankKey]!;
  const alpha = alphaKey === undefined ? config.loraAlpha : config.alphaPattern[alphaKey]!;
  const scale = config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
  return { rank, alpha, scale };
}

/** Whether PEFT would target `modulePath` given `target_modules` (suffix list or full-path regex). */
export function isTargetModule(targets: LoraConfig['targetModules'], modulePath: string): boolean {
  if (targets === null) return false;
  if (typeof targets === 'string') {
    try {
      return new RegExp(`^(?:${targets})$`).test(modulePath);
    } catch {
      return false;
    }
  }
  return targets.some((t) => modulePath === t || modulePath.endsWith(`.${t}`));
}

export function parseLoraConfig(raw: unknown, file: string): LoraConfig {
  const fail = (message: string, hint: string, code: 'ADAPTER_INVALID' | 'CHECKPOINT_UNSUPPORTED' = 'ADAPTER_INVALID'): never => {
    throw new CheckpointError(message, { code, file, hint });
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('expected a JSON object', 'adapter_config.json must be the object PEFT `save_pretrained` writes');
  }
  const json = raw as Record<string, unknown>;
  if (json.peft_type !== 'LORA') {
    fail(
      `peft_type is ${JSON.stringify(json.peft_type)}, expected "LORA"`,
      'only LoRA adapters can be merged; other PEFT methods (IA3, prefix tuning, ...) are not supported',
      'CHECKPOINT_UNSUPPORTED',
    );
  }
  if (json.use_dora === true) {
    fail(
      'use_dora is true: DoRA adapters are not supported (the magnitude vector rescales whole columns, not W + s·B·A)',
      'merge the DoRA adapter with PEFT `merge_and_unload()` and save the full model, then use that folder',
      'CHECKPOINT_UNSUPPORTED',
    );
  }
  if (json.layer_replication !== undefined && json.layer_replication !== null) {
    fail('layer_replication is set: adapters that duplicate base layers are not supported', 'merge it with PEFT and save the full model', 'CHECKPOINT_UNSUPPORTED');
  }
  const positive = (key: string): number => {
    const value = json[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      return fail(`'${key}' is ${JSON.stringify(value)}, expected a positive number`, `set '${key}' in adapter_config.json`);
    }
    return value;
  };
  const numberMap = (key: string): Record<string, number> => {
    const value = json[key] ?? {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(`'${key}' must be an object of module pattern → number`, `fix '${key}' in adapter_config.json`);
    }
    for (const [pattern, n] of Object.entries(value)) {
      if (typeof n !== 'number' || !(n > 0)) {
        fail(`'${key}.${pattern}' is ${JSON.stringify(n)}, expected a positive number`, `fix '${key}' in adapter_config.json`);
      }
    }
    return value as Record<string, number>;
  };
  const stringList = (key: string, allowString: boolean): string[] | string | null => {
    const value = json[key];
    if (value === undefined || value === null) return null;
    if (allowString && typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
    return fail(`'${key}' is ${JSON.stringify(value)}, expected a list of module names`, `fix '${key}' in adapter_config.json`);
  };
  const base = json.base_model_name_or_path;
  return {
    r: positive('r'),
    loraAlpha: positive('lora_alpha'),
    useRslora: json.use_rslora === true,
    fanInFanOut: json.fan_in_fan_out === true,
    targetModules: stringList('target_modules', true),
    rankPattern: numberMap('rank_pattern'),
    alphaPattern: numberMap('alpha_pattern'),
    modulesToSave: stringList('modules_to_save', false) as string[] | null,
    baseModelNameOrPath: typeof base === 'string' && base !== '' ? base : null,
    raw: json,
  };
}

/** True when `dir` holds an adapter_config.json (PEFT adapter folder). */
export function isAdapterFolder(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG_FILE));
}

/** Reads a PEFT LoRA adapter folder; the weights file stays open (lazily read) until `close()`. */
export function readLoraAdapter(dir: string): LoraAdapter {
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new CheckpointError(`no ${ADAPTER_CONFIG_FILE} in adapter folder`, {
      code: 'CHECKPOINT_NOT_FOUND',
      file: dir,
      hint: 'point at the folder written by PEFT `save_pretrained` (adapter_config.json + adapter_model.safetensors)',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (cause) {
    throw new CheckpointError(`not valid JSON: ${(cause as Error).message}`, {
      code: 'ADAPTER_INVALID',
      file: configPath,
      hint: 'adapter_config.json must be valid JSON',
      cause,
    });
  }
  const config = parseLoraConfig(raw, configPath);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(weightsPath)) {
    const legacy = existsSync(join(dir, 'adapter_model.bin'));
    throw new CheckpointError(
      legacy ? 'adapter weights are a PyTorch pickle (adapter_model.bin), which modelevo does not read' : `no ${ADAPTER_WEIGHTS_FILE} in adapter folder`,
      {
        code: legacy ? 'CHECKPOINT_UNSUPPORTED' : 'CHECKPOINT_NOT_FOUND',
        file: dir,
        hint: legacy
          ? 're-save the adapter with `model.save_pretrained(dir, safe_serialization=True)` to get adapter_model.safetensors'
          : 'the adapter folder needs adapter_model.safetensors next to adapter_config.json',
      },
    );
  }
  const weights = SafetensorsFile.open(weightsPath);
  try {
    const { updates, replacements } = planAdapter(config, weights, weightsPath);
    return { path: dir, config, weights, updates, replacements, close: () => weights.close() };
  } catch (error) {
    weights.close();
    throw error;
  }
}

/** Pairs lora_A/lora_B tensors per module and checks their ranks against the config. */
export function planAdapter(
  config: LoraConfig,
  weights: Checkpoint,
  file: string,
): { updates: Map<string, LoraModuleUpdate>; replacements: Map<string, string> } {
  const factors = new Map<string, Partial<Record<LoraRole, string>>>();
  const replacements = new Map<string, string>();
  for (const name of weights.names()) {
    const role = classifyAdapterTensor(name, file);
    if (role.kind === 'full') {
      replacements.set(role.target, name);
      continue;
    }
    const entry = factors.get(role.module) ?? {};
    if (entry[role.role] !== undefined) {
      throw new CheckpointError(`module '${role.module}' has two ${role.role} tensors ('${entry[role.role]}' and '${name}')`, {
        code: 'ADAPTER_INVALID',
        file,
        tensor: name,
        hint: 'the file holds several named adapters; save one adapter per folder',
      });
    }
    entry[role.role] = name;
    factors.set(role.module, entry);
  }
  const updates = new Map<string, LoraModuleUpdate>();
  for (const [module, entry] of factors) {
    const kind: LoraKind = entry.lora_embedding_A !== undefined || entry.lora_embedding_B !== undefined ? 'embedding' : 'linear';
    const aName = kind === 'embedding' ? entry.lora_embedding_A : entry.lora_A;
    const bName = kind === 'embedding' ? entry.lora_embedding_B : entry.lora_B;
    if (aName === undefined || bName === undefined) {
      throw new CheckpointError(`module '${module}' has ${aName ? 'an A' : 'a B'} factor but no ${aName ? 'B' : 'A'} factor`, {
        code: 'ADAPTER_INVALID',
        file,
        tensor: aName ?? bName,
        hint: 'every LoRA module needs both lora_A and lora_B (or lora_embedding_A and lora_embedding_B)',
      });
    }
    const { rank, alpha, scale } = moduleScale(config, module);
    const aShape = weights.info(aName).shape;
    const bShape = weights.info(bName).shape;
    if (aShape.length !== 2 || bShape.length !== 2 || aShape[0] !== rank || bShape[1] !== rank) {
      throw new CheckpointError(
        `module '${module}': expected A [${rank}, in] and B [out, ${rank}] for rank ${rank}, got A [${aShape.join(', ')}] and B [${bShape.join(', ')}]`,
        {
          code: 'ADAPTER_INVALID',
          file,
          tensor: aName,
          hint: 'check r and rank_pattern in adapter_config.json against the saved tensors',
        },
      );
    }
    const target = `${module}.weight`;
    updates.set(target, { module, target, kind, aName, bName, rank, alpha, scale, transposed: kind === 'embedding' || config.fanInFanOut });
  }
  return { updates, replacements };
}

/**
 * Shape of s·(B·A) as added to the base weight: `[out, in]`, or `[in, out]` when transposed. For embeddings
 * A is `[r, num_embeddings]` and B `[dim, r]`, so the transposed product is `[num_embeddings, dim]`.
 */
export function deltaShape(update: LoraModuleUpdate, aShape: readonly number[], bShape: readonly number[]): [number, number] {
  const rows = bShape[0]!;
  const cols = aShape[1]!;
  return update.transposed ? [cols, rows] : [rows, cols];
}

/**
 * W + s·(B·A) (or its transpose), rounded once to float32. The rank-r dot products accumulate in float64
 * (merge-methods.md §0: reductions in float64).
 */
export function mergeLoraInto(
  base: Float32Array,
  a: Float32Array,
  b: Float32Array,
  aShape: readonly number[],
  bShape: readonly number[],
  update: Pick<LoraModuleUpdate, 'scale' | 'transposed'>,
): Float32Array {
  const rows = bShape[0]!;
  const rank = bShape[1]!;
  const cols = aShape[1]!;
  const out = new Float32Array(base.length);
  const row = new Float64Array(rank);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < rank; k++) row[k] = b[i * rank + k]!;
    for (let j = 0; j < cols; j++) {
      let dot = 0;
      for (let k = 0; k < rank; k++) dot += row[k]! * a[k * cols + j]!;
      const index = update.transposed ? j * rows + i : i * cols + j;
      out[index] = base[index]! + update.scale * dot;
    }
  }
  return out;
}
