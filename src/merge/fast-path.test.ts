import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { Checkpoint } from '../io/checkpoint.js';
import { HfCheckpoint } from '../io/hf-folder.js';
import { MemoryCheckpoint, type MemoryTensor } from '../io/memory-checkpoint.js';
import { KernelPool } from '../kernels/pool.js';
import { parseMergeConfig } from './config.js';
import { executePlan, executePlanWithKernels, type MergeArithmetic, type TensorSink } from './executor.js';
import { fastKindOf } from './fast-path.js';
import { runMerge } from './index.js';
import { buildMergePlan, type PlanModels } from './plan.js';
import { getMergeMethod } from './registry.js';
import { assertLinearFloat32 } from '../../test/support/linear-float32.js';

const HIDDEN = 40;
const SHAPES: Record<string, number[]> = {
  'model.embed_tokens.weight': [67, HIDDEN],
  'model.layers.0.self_attn.q_proj.weight': [HIDDEN, HIDDEN],
  'model.layers.0.mlp.up_proj.weight': [93, HIDDEN],
  'model.layers.0.input_layernorm.weight': [HIDDEN],
  // an odd element count: the kernels' vector loops hand a tail to their scalar loops
  'model.layers.0.self_attn.k_proj.weight': [7, 13],
  'model.norm.weight': [HIDDEN],
  'lm_head.weight': [67, HIDDEN],
};

/** float32 → bfloat16 bits, round to nearest even (finite inputs; written independently of the kernels). */
function bf16Bits(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function bf16Value(bits: number): number {
  return new Float32Array(new Uint32Array([(bits & 0xffff) << 16]).buffer)[0]!;
}

/** A bf16 model: base values plus a seeded perturbation (coarse steps, so many |δ| tie at the trim cut). */
function syntheticBf16(seed: number, perturb: number): MemoryCheckpoint {
  let state = 12345;
  let noise = seed * 7919 + 17;
  const next = (s: number): [number, number] => {
    const n = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return [n, n / 2 ** 32];
  };
  const tensors = new Map<string, MemoryTensor>();
  for (const [name, shape] of Object.entries(SHAPES)) {
    const numel = shape.reduce((a, b) => a * b, 1);
    const bits = new Uint16Array(numel);
    for (let i = 0; i < numel; i++) {
      let u: number;
      [state, u] = next(state);
      let v: number;
      [noise, v] = next(noise);
      const value = (u - 0.5) * 0.2 + perturb * Math.round((v - 0.5) * 8) * 2 ** -9;
      bits[i] = bf16Bits(value);
    }
    tensors.set(name, { dtype: 'BF16', shape, data: new Uint8Array(bits.buffer) });
  }
  return new MemoryCheckpoint(tensors, { source: `synthetic-${seed}`, config: { model_type: 'llama', num_hidden_layers: 1 } });
}

const family = new Map<string, Checkpoint>([
  ['base', syntheticBf16(0, 0)],
  ['a', syntheticBf16(1, 1)],
  ['b', syntheticBf16(2, 1)],
  ['c', syntheticBf16(3, 2)],
]);
const familyModels: PlanModels = { keyOf: (ref) => ref, get: (key) => family.get(key)! };

let pool: KernelPool;
before(async () => {
  pool = await KernelPool.create({ workers: 2, minParallelElements: 256 });
});
after(async () => {
  await pool.close();
});

function collect(): TensorSink & { tensors: Map<string, Uint8Array> } {
  const tensors = new Map<string, Uint8Array>();
  return { tensors, writeTensor: (name, bytes) => tensors.set(name, bytes.slice()) };
}

/** Runs one config on the reference executor and on the kernels (small chunks, so tensors span several). */
async function bothPaths(
  raw: Record<string, unknown>,
  arithmetic?: MergeArithmetic,
  seed?: number,
): Promise<{ reference: Map<string, Uint8Array>; fast: Map<string, Uint8Array>; fastTensors: number }> {
  const config = parseMergeConfig(raw);
  const plan = buildMergePlan(config, getMergeMethod(config.merge_method), familyModels);
  const reference = collect();
  // the reference mixes task vectors in the kernels' arithmetic (its own default is float64)
  executePlan(plan, familyModels, reference, { seed, arithmetic: arithmetic ?? 'float32' });
  const fast = collect();
  await executePlanWithKernels(plan, familyModels, fast, pool, { chunkElements: 1000 + 3, arithmetic, seed });
  const fastTensors = plan.tensors.filter((t) => fastKindOf(plan, t, undefined) !== undefined).length;
  return { reference: reference.tensors, fast: fast.tensors, fastTensors };
}

function assertSameBytes(reference: Map<string, Uint8Array>, fast: Map<string, Uint8Array>): void {
  assert.deepEqual([...fast.keys()], [...reference.keys()]);
  for (const [name, bytes] of reference) {
    const other = fast.get(name)!;
    const at = bytes.findIndex((b, i) => b !== other[i]);
    assert.ok(at < 0, `tensor ${name} differs from byte ${at} (${bytes.length} bytes)`);
  }
}

for (const outDtype of ['bfloat16', 'float32'] as const) {
  const weights = [0.5, 0.3, 0, 0.7];
  const config = {
    merge_method: 'linear',
    models: ['base', 'a', 'b', 'c'].map((model, i) => ({ model, parameters: { weight: weights[i] } })),
    out_dtype: outDtype,
  };
  const decoded = (name: string): Float32Array[] => ['base', 'a', 'b', 'c'].map((m) => family.get(m)!.readFloat32(name));
  const total = weights.reduce((x, y) => x + y, 0);

  test(`linear, bf16 inputs → ${outDtype}, float64 arithmetic: kernels equal the reference bit for bit and a float64 loop`, async () => {
    const { reference, fast, fastTensors } = await bothPaths(config, 'float64');
    assert.equal(fastTensors, Object.keys(SHAPES).length);
    assertSameBytes(reference, fast);
    const name = 'model.layers.0.mlp.up_proj.weight';
    const inputs = ['base', 'a', 'b', 'c'].map((m) => new Uint16Array(family.get(m)!.readBytes(name).slice().buffer));
    const bytes = fast.get(name)!;
    for (let i = 0; i < inputs[0]!.length; i++) {
      let sum = -0;
      weights.forEach((w, j) => {
        if (w !== 0) sum += (w / total) * bf16Value(inputs[j]![i]!);
      });
      const expected = Math.fround(sum);
      const got = outDtype === 'float32' ? new Float32Array(bytes.buffer, bytes.byteOffset)[i]! : new Uint16Array(bytes.buffer, bytes.byteOffset)[i]!;
      assert.equal(got, outDtype === 'float32' ? expected : bf16Bits(expected), `element ${i}`);
    }
  });

  test(`linear, bf16 inputs → ${outDtype}, float32 arithmetic (default): the float32 sum bit for bit, within its bound of the reference`, async () => {
    const { reference, fast, fastTensors } = await bothPaths(config);
    assert.equal(fastTensors, Object.keys(SHAPES).length);
    assert.deepEqual([...fast.keys()], [...reference.keys()]);
    let differing = 0;
    for (const name of reference.keys()) {
      differing += assertLinearFloat32({
        tensor: name,
        inputs: decoded(name),
        weights: weights.map((w) => w / total),
        dtype: outDtype === 'float32' ? 'F32' : 'BF16',
        fast: fast.get(name)!,
        reference: reference.get(name)!,
      }).differing;
    }
    // float32 output shows the arithmetic: 0.3/1.5 and 0.7/1.5 are inexact, so some sums round differently
    if (outDtype === 'float32') assert.ok(differing > 0, 'float32 and float64 sums never differed: is the float32 kernel running?');
  });
}

for (const method of ['ties', 'task_arithmetic', 'dare_ties', 'dare_linear', 'della', 'della_linear', 'breadcrumbs_ties', 'breadcrumbs'] as const) {
  test(`${method}, bf16 inputs: kernels equal the reference pipeline bit for bit`, async () => {
    const { reference, fast, fastTensors } = await bothPaths({
      merge_method: method,
      base_model: 'base',
      models: [
        { model: 'a', parameters: { weight: 0.9, density: 0.2 } },
        { model: 'b', parameters: { weight: 0.6, density: 0.2 } },
        { model: 'c', parameters: { weight: 1.3, density: 0.5 } },
      ],
      parameters: { lambda: 0.8 },
    });
    assert.equal(fastTensors, Object.keys(SHAPES).length);
    assertSameBytes(reference, fast);
  });
}

test('dare_ties and della on the kernels follow the run seed: bit for bit the reference for seed 7, and seed 7 ≠ seed 0', async () => {
  for (const method of ['dare_ties', 'della']) {
    const raw = {
      merge_method: method,
      base_model: 'base',
      models: ['a', 'b'].map((model) => ({ model, parameters: { weight: 1, density: 0.3 } })),
    };
    const seven = await bothPaths(raw, undefined, 7);
    assertSameBytes(seven.reference, seven.fast);
    const zero = await bothPaths(raw, undefined, 0);
    const name = 'model.layers.0.mlp.up_proj.weight';
    assert.ok(!Buffer.from(zero.fast.get(name)!).equals(Buffer.from(seven.fast.get(name)!)), `${method}: seed had no effect`);
  }
});

test('ties on the kernels: sign election and disjoint mean checked against a float64 loop', async () => {
  const { fast } = await bothPaths({
    merge_method: 'ties',
    base_model: 'base',
    models: ['a', 'b', 'c'].map((model) => ({ model, parameters: { weight: 1, density: 1 } })),
  });
  const name = 'model.norm.weight';
  const [b, ...xs] = ['base', 'a', 'b', 'c'].map((m) => new Uint16Array(family.get(m)!.readBytes(name).slice().buffer));
  const got = new Uint16Array(fast.get(name)!.slice().buffer);
  for (let i = 0; i < b!.length; i++) {
    const deltas = xs.map((x) => Math.fround(bf16Value(x[i]!) - bf16Value(b![i]!)));
    const sign = deltas.reduce((s, d) => s + d, 0) >= 0 ? 1 : -1;
    const agreeing = deltas.filter((d) => (sign > 0 ? d > 0 : d < 0));
    const mean = agreeing.length === 0 ? 0 : agreeing.reduce((s, d) => s + d, 0) / agreeing.length;
    assert.equal(got[i], bf16Bits(Math.fround(bf16Value(b![i]!) + mean)), `element ${i}`);
  }
});

test('non-finite bf16 input on the fast path: the reference error names the tensor and model', async () => {
  const tensors = new Map<string, MemoryTensor>();
  const bad = new Uint16Array(40).fill(bf16Bits(0.5));
  bad[37] = 0x7fc0; // NaN
  tensors.set('model.norm.weight', { dtype: 'BF16', shape: [40], data: new Uint8Array(bad.buffer) });
  const broken = new MemoryCheckpoint(tensors, { source: 'broken', config: { model_type: 'llama', num_hidden_layers: 0 } });
  const good = MemoryCheckpoint.fromFloat32({ 'model.norm.weight': { shape: [40], values: new Array(40).fill(1) } });
  const models: PlanModels = { keyOf: (r) => r, get: (k) => (k === 'broken' ? broken : good) };
  const config = parseMergeConfig({ merge_method: 'linear', models: [{ model: 'broken', parameters: { weight: 1 } }] });
  const plan = buildMergePlan(config, getMergeMethod('linear'), models);
  await assert.rejects(executePlanWithKernels(plan, models, collect(), pool), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'VALUE_INVALID');
    assert.match(error.message, /flat index 37 of tensor 'model\.norm\.weight' in model 'broken'/);
    return true;
  });
});

const FIXTURES = resolve('test/fixtures/tiny-llama');

for (const raw of [
  {
    merge_method: 'linear',
    models: ['expert-literature', 'expert-code', 'expert-math'].map((m, i) => ({ model: `${FIXTURES}/${m}`, parameters: { weight: [0.2, 0.5, 0.3][i] } })),
    out_dtype: 'bfloat16',
  },
  {
    merge_method: 'ties',
    base_model: `${FIXTURES}/base`,
    models: ['expert-literature', 'expert-code', 'expert-math'].map((m) => ({ model: `${FIXTURES}/${m}`, parameters: { weight: 1, density: 0.2 } })),
    dtype: 'float32',
  },
]) {
  test(`tiny-llama ${raw.merge_method}: runMerge on wasm kernels writes the reference bytes (linear: in float64 arithmetic)`, async () => {
    const reference = await runMerge(raw, undefined, { inMemory: true, progress: 'none', kernels: 'reference' });
    const fast = await runMerge(raw, undefined, { inMemory: true, progress: 'none', kernels: 'wasm', threads: 2, arithmetic: 'float64' });
    assert.equal(reference.kernels, 'reference');
    assert.equal(fast.kernels, 'wasm');
    const names = reference.checkpoint!.names();
    assert.deepEqual(fast.checkpoint!.names(), names);
    for (const name of names) {
      assert.ok(Buffer.from(fast.checkpoint!.readBytes(name)).equals(Buffer.from(reference.checkpoint!.readBytes(name))), `tensor ${name} differs`);
    }
  });
}

test('tiny-llama linear: runMerge on wasm kernels in float32 arithmetic (default) is within the float32 bound of the reference', async () => {
  const experts = ['expert-literature', 'expert-code', 'expert-math'];
  const weights = [0.2, 0.5, 0.3];
  const raw = { merge_method: 'linear', models: experts.map((m, i) => ({ model: `${FIXTURES}/${m}`, parameters: { weight: weights[i] } })), out_dtype: 'bfloat16' };
  const reference = await runMerge(raw, undefined, { inMemory: true, progress: 'none', kernels: 'reference' });
  const fast = await runMerge(raw, undefined, { inMemory: true, progress: 'none', kernels: 'wasm', threads: 2 });
  assert.equal(fast.kernels, 'wasm');
  const inputs = experts.map((m) => HfCheckpoint.open(`${FIXTURES}/${m}`));
  try {
    const names = reference.checkpoint!.names();
    assert.deepEqual(fast.checkpoint!.names(), names);
    for (const name of names) {
      assertLinearFloat32({
        tensor: name,
        inputs: inputs.map((checkpoint) => checkpoint.readFloat32(name)),
        weights: weights.map((w) => w / weights.reduce((a, b) => a + b, 0)),
        dtype: 'BF16',
        fast: fast.checkpoint!.readBytes(name),
        reference: reference.checkpoint!.readBytes(name),
      });
    }
  } finally {
    inputs.forEach((checkpoint) => checkpoint.close());
  }
});
