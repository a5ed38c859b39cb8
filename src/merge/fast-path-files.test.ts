import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfCheckpoint } from '../io/hf-folder.js';
import { assertLinearFloat32 } from '../../test/support/linear-float32.js';
import { ModelFolderWriter } from '../io/shard-writer.js';
import { KernelPool } from '../kernels/pool.js';
import { parseMergeConfig } from './config.js';
import { executePlan, executePlanWithKernels } from './executor.js';
import { buildMergePlan, type MergePlan } from './plan.js';
import { getMergeMethod } from './registry.js';
import { collect, folderModels } from '../../test/support/merge-plan-harness.js';

// The linear fast path over models on disk, where the kernel workers read the shard files themselves
// (kernels/wasm/file-kernels.ts) and, into a file sink, write the merged blocks themselves: in float64
// arithmetic the bytes equal the reference executor's and a float64 loop's, in float32 the float32 sum's within
// its bound of the reference, across shards, worker ranges and read blocks that do not divide the tensors.

const HIDDEN = 24;
const SHAPES: Record<string, number[]> = {
  'model.embed_tokens.weight': [101, HIDDEN],
  'model.layers.0.self_attn.q_proj.weight': [HIDDEN, HIDDEN],
  'model.layers.0.mlp.up_proj.weight': [77, HIDDEN],
  'model.layers.0.input_layernorm.weight': [HIDDEN],
  'model.norm.weight': [HIDDEN],
  'lm_head.weight': [101, HIDDEN],
  // 40,000 elements: more than two 16,384-element blocks, so 2 workers split it (task-vector test below)
  'model.layers.0.mlp.down_proj.weight': [40, 1000],
};
const MODELS = ['base', 'a', 'b', 'c'];

/**
 * A sink into a model folder with small shards (9,000 bytes: the workers write into several files, each at its
 * tensors' offsets) that records which tensors the kernels asked a file position for.
 */
function fileSink(out: string, plan: MergePlan) {
  const writer = ModelFolderWriter.create(out, plan.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })), { maxShardBytes: 9000 });
  const targets: string[] = [];
  const sink = {
    writeTensor: (name: string, bytes: Uint8Array) => writer.writeTensor(name, bytes),
    tensorTarget: (name: string) => (targets.push(name), writer.tensorTarget(name)),
    markWritten: (name: string) => writer.markWritten(name),
  };
  return { writer, sink, targets };
}

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
/** one worker plus the calling thread, as runMerge sets it up */
let callerPool: KernelPool;
const models = folderModels(() => dir);

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
  callerPool = await KernelPool.create({ workers: 1, minParallelElements: 256, callerTakesPart: true });
});

after(async () => {
  await pool.close();
  await callerPool.close();
  models.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

for (const outDtype of ['bfloat16', 'float32'] as const) {
  const weights = [0.4, 0.3, -0.2, 0.5];
  const total = weights.reduce((x, y) => x + y, 0);
  const config = parseMergeConfig({
    merge_method: 'linear',
    models: MODELS.map((model, i) => ({ model, parameters: { weight: weights[i] } })),
    out_dtype: outDtype,
  });

  test(`linear over shards on disk → ${outDtype}, float64 arithmetic: worker file reads equal the reference bytes and a float64 loop`, async () => {
    const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
    const reference = collect();
    executePlan(plan, models, reference);
    for (const fileBlockElements of [1000 + 3, 1 << 15]) {
      const fast = collect();
      await executePlanWithKernels(plan, models, fast, pool, { fileBlockElements, arithmetic: 'float64' });
      assert.deepEqual([...fast.tensors.keys()], [...reference.tensors.keys()]);
      for (const [name, bytes] of reference.tensors) {
        assert.ok(Buffer.from(fast.tensors.get(name)!).equals(Buffer.from(bytes)), `${name} differs (block ${fileBlockElements})`);
      }
    }
    const name = 'model.embed_tokens.weight';
    const numel = 101 * HIDDEN;
    const inputs = MODELS.map((_, m) => tensorBits(m, name, numel));
    const got = reference.tensors.get(name)!;
    for (let i = 0; i < numel; i++) {
      let sum = -0;
      weights.forEach((w, j) => (sum += (w / total) * bf16Value(inputs[j]![i]!)));
      const expected = Math.fround(sum);
      const value = outDtype === 'float32' ? new Float32Array(got.buffer, got.byteOffset)[i]! : new Uint16Array(got.buffer, got.byteOffset)[i]!;
      assert.equal(value, outDtype === 'float32' ? expected : bf16Bits(expected), `element ${i}`);
    }
  });

  test(`linear over shards on disk → ${outDtype}, float32 arithmetic, written by the workers into the output shards`, async () => {
    const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
    const reference = collect();
    executePlan(plan, models, reference);
    for (const [fileBlockElements, kernels, threads] of [[1000 + 3, pool, '2-workers'], [1 << 15, pool, '2-workers'], [1000 + 3, callerPool, 'worker-and-caller']] as const) {
      const out = join(dir, `out-${outDtype}-${fileBlockElements}-${threads}`);
      const { writer, sink, targets } = fileSink(out, plan);
      await executePlanWithKernels(plan, models, sink, kernels, { fileBlockElements });
      writer.commit();
      assert.deepEqual(targets, plan.tensors.map((t) => t.name), 'every tensor went straight to the file');
      const written = HfCheckpoint.open(out);
      try {
        assert.ok(written.layout.kind === 'sharded' && written.layout.shardFiles.length > 1, 'several output shards');
        for (const [name, bytes] of reference.tensors) {
          assertLinearFloat32({
            tensor: name,
            inputs: MODELS.map((model) => models.get(model).readFloat32(name)),
            weights: weights.map((w) => w / total),
            dtype: outDtype === 'float32' ? 'F32' : 'BF16',
            fast: written.readBytes(name),
            reference: bytes,
          });
        }
      } finally {
        written.close();
      }
    }
  });
}

test('linear written by the workers: a float32 overflow falls back to the reference bytes in the same place', async () => {
  const shape = [64];
  const big = new Uint16Array(64).fill(0x7f7f); // bf16 max: 2·x overflows float32, 2·x − x does not in float64
  const folders = ['p', 'q'].map((m) => {
    const folder = join(dir, `overflow-${m}`);
    const writer = ModelFolderWriter.create(folder, [{ name: 'model.norm.weight', dtype: 'BF16', shape }]);
    writer.writeTensor('model.norm.weight', new Uint8Array(big.buffer));
    writer.commit();
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'llama', num_hidden_layers: 0 }));
    return `overflow-${m}`; // the test's PlanModels opens keys under dir
  });
  const config = parseMergeConfig({
    merge_method: 'linear',
    models: folders.map((model, i) => ({ model, parameters: { weight: [2, -1][i] } })),
    parameters: { normalize: false },
  });
  const plan = buildMergePlan(config, getMergeMethod('linear'), models);
  const out = join(dir, 'overflow-out');
  const writer = ModelFolderWriter.create(out, [{ name: 'model.norm.weight', dtype: 'BF16', shape }]);
  await executePlanWithKernels(plan, models, writer, pool, { fileBlockElements: 16 });
  writer.commit();
  const written = HfCheckpoint.open(out);
  try {
    assert.deepEqual([...new Uint16Array(written.readBytes('model.norm.weight').slice().buffer)], [...big], 'the float64 reference: 2·x − x = x');
  } finally {
    written.close();
  }
});

test('della written by the workers block by block: a float32 overflow in the mix falls back to the float64 bytes in the same place', async () => {
  const shape = [4096];
  // base 0, both models δ ≈ 2.8e38 (≈ 3.1e38 after the l1 rescale): where both keep an element, the float32 sum of
  // the two overflows, the float64 mix (normalised: halved) does not
  const folders = [0, 0x7f50, 0x7f50].map((bits, m) => {
    const folder = join(dir, `della-overflow-${m}`);
    const writer = ModelFolderWriter.create(folder, [{ name: 'model.norm.weight', dtype: 'BF16', shape }]);
    writer.writeTensor('model.norm.weight', new Uint8Array(new Uint16Array(4096).fill(bits).buffer));
    writer.commit();
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'llama', num_hidden_layers: 0 }));
    return `della-overflow-${m}`;
  });
  const config = parseMergeConfig({
    merge_method: 'della',
    base_model: folders[0]!,
    models: folders.slice(1).map((model) => ({ model, parameters: { weight: 1, density: 0.9, epsilon: 0.05 } })),
    parameters: { normalize: true },
    out_dtype: 'bfloat16',
  });
  const plan = buildMergePlan(config, getMergeMethod('della'), models);
  const reference = collect();
  executePlan(plan, models, reference, { seed: 9, arithmetic: 'float32' });
  const expected = new Uint16Array(reference.tensors.get('model.norm.weight')!.slice().buffer);
  const both = expected.filter((bits) => bits > 0x7f50 && bits < 0x7f80).length;
  assert.ok(both > 2000, `most elements are kept by both models and finite in the reference (${both} of 4096)`);
  const out = join(dir, 'della-overflow-out');
  const { writer, sink, targets } = fileSink(out, plan);
  await executePlanWithKernels(plan, models, sink, pool, { fileBlockElements: 1000, seed: 9 });
  writer.commit();
  assert.deepEqual(targets, ['model.norm.weight', 'model.norm.weight'], 'written twice: in float32 (flagged), then in float64 over the same place');
  const written = HfCheckpoint.open(out);
  try {
    assert.deepEqual([...new Uint16Array(written.readBytes('model.norm.weight').slice().buffer)], [...expected]);
  } finally {
    written.close();
  }
});

for (const method of ['ties', 'dare_ties', 'della', 'breadcrumbs_ties', 'dare_linear'] as const) {
  test(`${method} over shards on disk: the workers read and decode their ranges; bytes equal the reference on 1 and 2 workers`, async () => {
    const config = parseMergeConfig({
      merge_method: method,
      base_model: 'base',
      models: [
        { model: 'a', parameters: { weight: 0.9, density: 0.3 } },
        { model: 'b', parameters: { weight: 0.6, density: 0.3 } },
        { model: 'c', parameters: { weight: 1.3, density: 0.5 } },
      ],
      parameters: { lambda: 0.8 },
      out_dtype: 'bfloat16',
    });
    const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
    const reference = collect();
    executePlan(plan, models, reference, { seed: 3, arithmetic: 'float32' });
    const onePool = await KernelPool.create({ workers: 1, minParallelElements: 256 });
    try {
      for (const [kernels, label, fileBlockElements] of [[pool, '2 workers', 1000 + 3], [onePool, '1 worker', 1 << 15], [callerPool, 'worker and caller', 4096]] as const) {
        const fast = collect();
        await executePlanWithKernels(plan, models, fast, kernels, { fileBlockElements, seed: 3 });
        assert.deepEqual([...fast.tensors.keys()], [...reference.tensors.keys()]);
        for (const [name, bytes] of reference.tensors) {
          assert.ok(Buffer.from(fast.tensors.get(name)!).equals(Buffer.from(bytes)), `${name} differs (${label})`);
        }
      }
    } finally {
      await onePool.close();
    }
  });
}

test('della (the whole-vector path) into output shards: the workers write each tensor; bytes equal the reference on 2 workers and worker and caller', async () => {
  const config = parseMergeConfig({
    merge_method: 'della',
    base_model: 'base',
    models: [
      { model: 'a', parameters: { weight: 0.9, density: 0.3 } },
      { model: 'b', parameters: { weight: 0.6, density: 0.4, epsilon: 0.2 } },
    ],
    out_dtype: 'bfloat16',
  });
  const plan = buildMergePlan(config, getMergeMethod('della'), models);
  const reference = collect();
  executePlan(plan, models, reference, { seed: 5, arithmetic: 'float32' });
  for (const [kernels, label] of [[pool, '2-workers'], [callerPool, 'worker-and-caller']] as const) {
    const out = join(dir, `della-out-${label}`);
    const { writer, sink, targets } = fileSink(out, plan);
    await executePlanWithKernels(plan, models, sink, kernels, { fileBlockElements: 1000 + 3, seed: 5 });
    writer.commit();
    assert.deepEqual(targets, plan.tensors.map((t) => t.name), `every tensor went straight to the file (${label})`);
    const written = HfCheckpoint.open(out);
    try {
      for (const [name, bytes] of reference.tensors) assert.ok(Buffer.from(written.readBytes(name)).equals(Buffer.from(bytes)), `${name} differs (${label})`);
    } finally {
      written.close();
    }
  }
});
