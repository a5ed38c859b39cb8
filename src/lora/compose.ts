/**
 * LoraHub composition (Huang et al., "LoraHub", COLM 2024, arXiv 2307.13269; sail-sg/lorahub
 * `lorahub/algorithm.py`), merge-methods.md §4.2 and evolutionary-merging.md §4.
 *
 * N adapters that share r, lora_alpha, target modules, tensor names and shapes compose into one adapter by an
 * element-wise weighted sum of every tensor of the state dict: `A = Σ_i w_i A_i`, `B = Σ_i w_i B_i`. The
 * effective update is therefore `s·(Σ_i w_i B_i)(Σ_i w_i A_i)`, which is NOT `Σ_i w_i B_i A_i` (that is
 * task_arithmetic over `base+lora_i` views). Weights may be negative. Sums run in float64 and are rounded
 * once to the adapters' dtype.
 */
import { isFloatDType, type DType } from '../core/dtype.js';
import { ConfigError, ModelevoError, ShapeMismatchError, type ErrorOptions } from '../core/errors.js';
import type { MemoryTensor } from '../io/memory-checkpoint.js';
import { float32ToBytes, type WritableFloatDType } from '../io/convert.js';
import type { LoraAdapter, LoraConfig } from '../io/peft.js';
import { loraAdapterFromMemory, writeAdapterFolder, type AdapterData, type WriteAdapterOptions } from './adapter-folder.js';

/** Adapters that cannot be composed: `details.field` names what differs, `details.values` each adapter's value. */
export class AdapterMismatchError extends ModelevoError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('ADAPTER_MISMATCH', message, {
      hint: options.hint ?? 'LoraHub composes adapters trained with one LoRA configuration on one base; pick adapters that share it',
      details: options.details,
      cause: options.cause,
    });
  }
}

/** Canonical JSON (sorted object keys) so settings compare by value, not by key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The settings that decide what an adapter's tensors mean; all must agree across composed adapters. */
const SHARED_SETTINGS: readonly { key: string; read: (c: LoraConfig) => unknown }[] = [
  { key: 'r', read: (c) => c.r },
  { key: 'lora_alpha', read: (c) => c.loraAlpha },
  { key: 'use_rslora', read: (c) => c.useRslora },
  { key: 'fan_in_fan_out', read: (c) => c.fanInFanOut },
  // a suffix list is a set; a regex string is compared as written
  { key: 'target_modules', read: (c) => (Array.isArray(c.targetModules) ? [...c.targetModules].sort() : c.targetModules) },
  { key: 'rank_pattern', read: (c) => c.rankPattern },
  { key: 'alpha_pattern', read: (c) => c.alphaPattern },
];

/** Throws AdapterMismatchError / ShapeMismatchError naming the first difference; returns the common dtype per tensor. */
export function checkComposable(adapters: readonly LoraAdapter[]): Map<string, WritableFloatDType> {
  const first = adapters[0];
  if (first === undefined) {
    throw new ConfigError([{ path: ['adapters'], message: 'expected at least one adapter to compose, got 0' }], {
      hint: 'usage: modelevo compose-lora <adapter>... --weights w1,w2,... <out-dir>',
    });
  }
  for (const setting of SHARED_SETTINGS) {
    const values = adapters.map((a) => setting.read(a.config));
    const odd = values.findIndex((v) => canonical(v) !== canonical(values[0]));
    if (odd > 0) {
      throw new AdapterMismatchError(
        `adapters differ in ${setting.key}: '${first.path}' has ${canonical(values[0])}, '${adapters[odd]!.path}' has ${canonical(values[odd])}`,
        { details: { field: setting.key, values: Object.fromEntries(adapters.map((a, i) => [a.path, values[i]])) } },
      );
    }
  }
  const names = first.weights.names();
  const dtypes = new Map<string, WritableFloatDType>();
  for (const adapter of adapters.slice(1)) {
    const own = new Set(adapter.weights.names());
    const missing = names.find((n) => !own.has(n));
    const extra = [...own].find((n) => !names.includes(n));
    if (missing !== undefined || extra !== undefined) {
      const [holder, lacker, tensor] = missing !== undefined ? [first, adapter, missing] : [adapter, first, extra!];
      throw new AdapterMismatchError(`tensor '${tensor}' is in '${holder.path}' but not in '${lacker.path}'`, {
        details: { field: 'tensors', tensor, present: holder.path, absent: lacker.path },
      });
    }
  }
  for (const name of names) {
    const infos = adapters.map((a) => a.weights.info(name));
    const shape = infos[0]!.shape;
    if (infos.some((info) => info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i]))) {
      throw new ShapeMismatchError(name, Object.fromEntries(adapters.map((a, i) => [a.path, infos[i]!.shape])), {
        hint: 'LoraHub sums the adapters tensor by tensor, so every tensor must have one shape (same r, same base model)',
      });
    }
    const odd = infos.find((info) => !isFloatDType(info.dtype));
    if (odd !== undefined) {
      throw new AdapterMismatchError(`tensor '${name}' is ${odd.dtype}; composition needs float tensors`, {
        details: { field: 'dtype', tensor: name },
        hint: 'convert the adapter to float32, float16 or bfloat16',
      });
    }
    const dtype: DType = infos.every((info) => info.dtype === infos[0]!.dtype) ? infos[0]!.dtype : 'F32';
    dtypes.set(name, dtype as WritableFloatDType);
  }
  return dtypes;
}

/**
 * Σ_i w_i x_i per element in float64. Zero-weight terms are left out, so one-hot weights return that
 * adapter's values bit for bit (signed zeros included).
 */
export function weightedSum(arrays: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const n = arrays[0]?.length ?? 0;
  const active = weights.flatMap((w, i) => (w === 0 ? [] : [i]));
  const out = new Float32Array(n);
  if (active.length === 0) return out;
  const sum = new Float64Array(n);
  const firstIndex = active[0]!;
  const firstArray = arrays[firstIndex]!;
  const firstWeight = weights[firstIndex]!;
  for (let j = 0; j < n; j++) sum[j] = firstWeight * firstArray[j]!;
  for (const i of active.slice(1)) {
    const array = arrays[i]!;
    const w = weights[i]!;
    for (let j = 0; j < n; j++) sum[j] = sum[j]! + w * array[j]!;
  }
  out.set(sum);
  return out;
}

function checkWeights(weights: readonly number[], count: number): void {
  if (weights.length !== count) {
    throw new ConfigError([{ path: ['weights'], message: `expected ${count} weights (one per adapter), got ${weights.length}` }], {
      hint: 'give one weight per adapter, in the same order, e.g. --weights 0.5,0.3,-0.2',
    });
  }
  const bad = weights.findIndex((w) => !Number.isFinite(w));
  if (bad >= 0) {
    throw new ConfigError([{ path: ['weights', bad], message: `expected a finite number, got ${weights[bad]}` }], {
      hint: 'weights are real numbers; negative values are allowed',
    });
  }
}

/**
 * The composed adapter as data: the first adapter's adapter_config.json (the shared settings are equal by
 * construction) with the weighted sums of every tensor, in the first adapter's tensor order.
 */
export function composeLora(adapters: readonly LoraAdapter[], weights: readonly number[]): AdapterData {
  const dtypes = checkComposable(adapters);
  checkWeights(weights, adapters.length);
  const first = adapters[0]!;
  const tensors = new Map<string, MemoryTensor>();
  for (const name of first.weights.names()) {
    const summed = weightedSum(
      adapters.map((a) => a.weights.readFloat32(name)),
      weights,
    );
    const dtype = dtypes.get(name)!;
    tensors.set(name, { dtype, shape: [...first.weights.info(name).shape], data: float32ToBytes(summed, dtype) });
  }
  return { config: { ...first.config.raw }, tensors };
}

/** The composed adapter in memory, ready for `new LoraMergedCheckpoint(base, adapter)`. */
export function composeLoraAdapter(adapters: readonly LoraAdapter[], weights: readonly number[], label = '<composed lora>'): LoraAdapter {
  return loraAdapterFromMemory(composeLora(adapters, weights), label);
}

/** Composes and writes a PEFT adapter folder atomically; returns the absolute output path. */
export function writeComposedLora(
  adapters: readonly LoraAdapter[],
  weights: readonly number[],
  outDir: string,
  options: WriteAdapterOptions = {},
): string {
  return writeAdapterFolder(outDir, composeLora(adapters, weights), options);
}
