/**
 * Test helpers for merge methods (merge-methods.md §2): build a TensorMergeInput from plain arrays with the
 * method's ParamSpec defaults filled in, the way the planner would, and read float32 tensors from the
 * tiny-llama fixtures without depending on the I/O layer. Tests only; not exported from the package root.
 */
import { readFileSync } from 'node:fs';
import { counterStream } from '../core/counter-rng.js';
import { createRng } from '../core/rng.js';
import type { MergeMethod, ParamValue, TensorMergeInput } from './method.js';

export interface MergeInputSpec {
  readonly models: readonly (Float32Array | readonly number[])[];
  readonly base?: Float32Array | readonly number[];
  /** default: [numel of the first array] */
  readonly shape?: readonly number[];
  readonly tensorName?: string;
  /** default: 'model-0', 'model-1', ... */
  readonly modelRefs?: readonly string[];
  /** per-model overrides, one record per model (missing records = defaults only) */
  readonly modelParams?: readonly Readonly<Record<string, ParamValue>>[];
  /** global overrides */
  readonly params?: Readonly<Record<string, ParamValue>>;
  /** run seed for `rngFor` (default 0); streams are keyed by (seed, tensor name, model reference) */
  readonly seed?: number;
}

export type TestMergeInput = TensorMergeInput & { readonly warnings: string[] };

function toF32(values: Float32Array | readonly number[]): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/**
 * Fills defaults from the method's ParamSpecs and throws if a required parameter is missing, so tests state
 * every value the method cannot guess.
 */
export function makeMergeInput(method: MergeMethod, spec: MergeInputSpec): TestMergeInput {
  const models = spec.models.map(toF32);
  const base = spec.base === undefined ? undefined : toF32(spec.base);
  const first = base ?? models[0];
  const shape = spec.shape ?? [first?.length ?? 0];
  const tensorName = spec.tensorName ?? 'test.weight';
  const modelRefs = spec.modelRefs ?? models.map((_, i) => `model-${i}`);
  const seed = spec.seed ?? 0;
  const fill = (scope: 'global' | 'model', given: Readonly<Record<string, ParamValue>> | undefined, owner: string) => {
    const out: Record<string, ParamValue> = {};
    for (const p of method.params) {
      if (p.scope !== scope) continue;
      const value = given?.[p.name] ?? p.default;
      if (value === undefined) throw new Error(`test input for ${method.name}: required ${scope} parameter '${p.name}' missing (${owner})`);
      out[p.name] = value;
    }
    for (const [key, value] of Object.entries(given ?? {})) if (!(key in out)) out[key] = value;
    return out;
  };
  const warnings: string[] = [];
  return {
    tensorName,
    shape,
    base,
    models,
    modelRefs,
    modelParams: models.map((_, i) => fill('model', spec.modelParams?.[i], modelRefs[i] ?? `#${i}`)),
    params: fill('global', spec.params, 'global'),
    rngFor: (i: number) => createRng(seed, tensorName, modelRefs[i] ?? `#${i}`),
    streamFor: (i: number) => counterStream(seed, tensorName, modelRefs[i] ?? `#${i}`),
    warn: (message: string) => void warnings.push(message),
    warnings,
  };
}

/** Float32 tensors of a fixture `model.safetensors` by name (F32 only; enough for the golden tests). */
export function readFixtureF32(path: string, names: readonly string[]): Map<string, { shape: number[]; data: Float32Array }> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const name of names) {
    const entry = header[name];
    if (!entry || entry.dtype !== 'F32') throw new Error(`fixture ${path}: no F32 tensor '${name}'`);
    const start = 8 + headerLength + entry.data_offsets[0];
    const count = (entry.data_offsets[1] - entry.data_offsets[0]) / 4;
    const data = new Float32Array(count);
    for (let j = 0; j < count; j++) data[j] = view.getFloat32(start + 4 * j, true);
    out.set(name, { shape: entry.shape, data });
  }
  return out;
}

export const TINY_LLAMA_DIR = 'test/fixtures/tiny-llama';

/** One tensor of each fixture model (`base`, `expert-code`, ...), float32. */
export function readFixtureTensor(model: string, name: string): { shape: number[]; data: Float32Array } {
  const tensor = readFixtureF32(`${TINY_LLAMA_DIR}/${model}/model.safetensors`, [name]).get(name);
  if (!tensor) throw new Error(`fixture ${model}: tensor '${name}' missing`);
  return tensor;
}

/**
 * Element-wise agreement with a float64 reference: |actual − expected| ≤ rtol·max(|expected|, floor), the
 * floor being 1e-3 of the reference's largest magnitude so entries that cancel to ~0 are judged on the
 * tensor's scale; `atol` admits absolute errors at the inputs' rounding level where outputs cancel to ~0.
 * Returns the largest relative error seen (for reports).
 */
export function assertCloseToReference(
  actual: Float32Array,
  expected: ArrayLike<number>,
  rtol = 1e-6,
  label = 'tensor',
  atol = 0,
): number {
  if (actual.length !== expected.length) throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  let scale = 0;
  for (let j = 0; j < expected.length; j++) scale = Math.max(scale, Math.abs(expected[j]!));
  const floor = scale * 1e-3;
  let worst = 0;
  for (let j = 0; j < expected.length; j++) {
    const e = expected[j]!;
    const error = Math.abs(actual[j]! - e);
    const relative = error / Math.max(Math.abs(e), floor, Number.MIN_VALUE);
    worst = Math.max(worst, relative);
    if (!(relative <= rtol || error <= atol)) throw new Error(`${label}: element ${j} is ${actual[j]}, reference ${e} (relative error ${relative} > ${rtol})`);
  }
  return worst;
}
