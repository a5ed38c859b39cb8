import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Checkpoint } from '../io/checkpoint.js';
import { MemoryCheckpoint, type MemoryTensor } from '../io/memory-checkpoint.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../core/float16.js';
import { parseMergeConfig } from './config.js';
import { buildMergePlan, type PlanModels } from './plan.js';
import { measureRelatedness } from './relatedness.js';
import { getMergeMethod } from './registry.js';

// 2.5M bf16 elements (5 MB): sampled in 16 runs of 1,024 elements; a matrix small enough to read whole; a norm
// weight, which the check leaves out
const SHAPES: Record<string, number[]> = { 'model.embed_tokens.weight': [2500, 1000], 'model.layers.0.mlp.up_proj.weight': [10, 100], 'model.norm.weight': [1000] };

function model(seed: number, scale: number, dtype: 'BF16' | 'F16' | 'F32'): MemoryCheckpoint {
  const tensors = new Map<string, MemoryTensor>();
  let s = 99;
  let t = seed * 7 + 1;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const numel = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(numel);
    for (let i = 0; i < numel; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      t = (Math.imul(t, 22695477) + 1) >>> 0;
      values[i] = (s / 2 ** 32 - 0.5) + scale * (t / 2 ** 32 - 0.5);
    }
    const data = dtype === 'F32' ? values : Uint16Array.from(values, (v) => (dtype === 'BF16' ? f32ToBf16Bits(v) : f32ToF16Bits(v)));
    tensors.set(name, { dtype, shape, data: new Uint8Array(data.buffer) });
  }
  return new MemoryCheckpoint(tensors, { source: `m${seed}`, config: { model_type: 'llama', num_hidden_layers: 1 } });
}

/** The same checkpoint with a positional range reader, as shards on disk have. */
function withRangeReader(checkpoint: MemoryCheckpoint): Checkpoint {
  const reads: number[] = [];
  return Object.assign(Object.create(checkpoint) as Checkpoint, {
    reads,
    readRangeInto(name: string, byteOffset: number, target: Uint8Array): void {
      reads.push(target.length);
      target.set(checkpoint.readBytes(name).subarray(byteOffset, byteOffset + target.length));
    },
  });
}

for (const dtype of ['BF16', 'F16', 'F32'] as const) {
  test(`relatedness: the sampled range reads give exactly the statistics of decoding whole ${dtype} tensors, reading only the sample`, () => {
    const family = new Map<string, MemoryCheckpoint>([
      ['base', model(0, 0, dtype)],
      ['near', model(1, 0.1, dtype)],
      ['far', model(2, 3, dtype)],
    ]);
    const config = parseMergeConfig({ merge_method: 'task_arithmetic', base_model: 'base', models: ['near', 'far'].map((m) => ({ model: m, parameters: { weight: 1 } })) });
    const plan = (models: PlanModels) => buildMergePlan(config, getMergeMethod('task_arithmetic'), models);
    const whole: PlanModels = { keyOf: (r) => r, get: (k) => family.get(k)! };
    const ranged = new Map([...family].map(([k, v]) => [k, withRangeReader(v)]));
    const sampled: PlanModels = { keyOf: (r) => r, get: (k) => ranged.get(k)! };
    const expected = measureRelatedness(plan(whole), whole);
    const got = measureRelatedness(plan(sampled), sampled);
    assert.deepEqual(got, expected);
    assert.equal(expected.length, 2);
    assert.ok(!expected[0]!.unrelated && expected[1]!.unrelated, JSON.stringify(expected));
    const reads = (ranged.get('base') as unknown as { reads: number[] }).reads;
    // only the sampled runs are read: 16 reads of 1,024 elements for the embedding, one for the small matrix
    const width = dtype === 'F32' ? 4 : 2;
    assert.deepEqual(reads, [...new Array<number>(16).fill(1024 * width), 1000 * width]);
  });
}
