import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfCheckpoint } from '../io/hf-folder.js';
import { ModelFolderWriter } from '../io/shard-writer.js';
import { KernelPool } from '../kernels/pool.js';
import { parseMergeConfig } from './config.js';
import { executePlan, executePlanWithKernels, type TensorSink } from './executor.js';
import { buildMergePlan, type PlanModels } from './plan.js';
import { getMergeMethod } from './registry.js';

// The linear fast path over models on disk, where the kernel workers read the shard files themselves
// (kernels/wasm/file-kernels.ts): bytes equal the reference executor's and a float64 loop's, across shards,
// worker ranges and read blocks that do not divide the tensors.

const HIDDEN = 24;
const SHAPES: Record<string, number[]> = {
  'model.embed_tokens.weight': [101, HIDDEN],
  'model.layers.0.self_attn.q_proj.weight': [HIDDEN, HIDDEN],
  'model.layers.0.mlp.up_proj.weight': [77, HIDDEN],
  'model.layers.0.input_layernorm.weight': [HIDDEN],
  'model.norm.weight': [HIDDEN],
  'lm_head.weight': [101, HIDDEN],
};
const MODELS = ['base', 'a', 'b', 'c'];

function bf16Bits(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function bf16Value(bits: number): number {
  return new Float32Array(new Uint32Array([(bits & 0xffff) << 16]).buffer)[0]!;
}

function tensorBits(model: number, name: string, numel: number): Uint16Array {
  const bits = new Uint16Array(numel);
  let s = (model + 1) * 7919 + name.length * 104729;
  for (let i = 0; i < numel; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bits[i] = bf16Bits((s / 2 ** 32 - 0.5) * 0.1 * (model + 1));
  }
  return bits;
}

let dir: string;
let pool: KernelPool;
const opened = new Map<string, HfCheckpoint>();
const models: PlanModels = {
  keyOf: (ref) => ref,
  get: (key) => {
    let checkpoint = opened.get(key);
    if (checkpoint === undefined) {
      checkpoint = HfCheckpoint.open(join(dir, key));
      opened.set(key, checkpoint);
    }
    return checkpoint;
  },
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelevo-fast-path-files-'));
  const specs = Object.entries(SHAPES).map(([name, shape]) => ({ name, shape, dtype: 'BF16' as const }));
  MODELS.forEach((model, m) => {
    // small shards: tensors of one model live in different files
    const writer = ModelFolderWriter.create(join(dir, model), specs, { maxShardBytes: 6000 });
    for (const { name, shape } of specs) writer.writeTensor(name, new Uint8Array(tensorBits(m, name, shape.reduce((a, b) => a * b, 1)).buffer));
    writer.commit();
    writeFileSync(join(dir, model, 'config.json'), JSON.stringify({ model_type: 'llama', num_hidden_layers: 1 }));
  });
  pool = await KernelPool.create({ workers: 2, minParallelElements: 256 });
});

after(async () => {
  await pool.close();
  for (const checkpoint of opened.values()) checkpoint.close();
  rmSync(dir, { recursive: true, force: true });
});

function collect(): TensorSink & { tensors: Map<string, Uint8Array> } {
  const tensors = new Map<string, Uint8Array>();
  return { tensors, writeTensor: (name, bytes) => tensors.set(name, bytes.slice()) };
}

for (const outDtype of ['bfloat16', 'float32'] as const) {
  test(`linear over shards on disk → ${outDtype}: worker file reads equal the reference bytes and a float64 loop`, async () => {
    const weights = [0.4, 0.3, -0.2, 0.5];
    const config = parseMergeConfig({
      merge_method: 'linear',
      models: MODELS.map((model, i) => ({ model, parameters: { weight: weights[i] } })),
      out_dtype: outDtype,
    });
    const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
    const reference = collect();
    executePlan(plan, models, reference);
    for (const fileBlockElements of [1000 + 3, 1 << 15]) {
      const fast = collect();
      await executePlanWithKernels(plan, models, fast, pool, { fileBlockElements });
      assert.deepEqual([...fast.tensors.keys()], [...reference.tensors.keys()]);
      for (const [name, bytes] of reference.tensors) {
        assert.ok(Buffer.from(fast.tensors.get(name)!).equals(Buffer.from(bytes)), `${name} differs (block ${fileBlockElements})`);
      }
    }
    const name = 'model.embed_tokens.weight';
    const numel = 101 * HIDDEN;
    const inputs = MODELS.map((_, m) => tensorBits(m, name, numel));
    const got = reference.tensors.get(name)!;
    const total = weights.reduce((x, y) => x + y, 0);
    for (let i = 0; i < numel; i++) {
      let sum = -0;
      weights.forEach((w, j) => (sum += (w / total) * bf16Value(inputs[j]![i]!)));
      const expected = Math.fround(sum);
      const value = outDtype === 'float32' ? new Float32Array(got.buffer, got.byteOffset)[i]! : new Uint16Array(got.buffer, got.byteOffset)[i]!;
      assert.equal(value, outDtype === 'float32' ? expected : bf16Bits(expected), `element ${i}`);
    }
  });
}
