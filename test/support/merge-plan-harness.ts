/**
 * Shared pieces of the merge executor tests that run plans over model folders written to a temp dir
 * (fast-path-files, fused-task-vectors, fused-cut-bands): checkpoints opened once per key, an in-memory tensor
 * sink, and a count of the kernel pool's calls by kernel name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/core/float16.js';
import { HfCheckpoint } from '../../src/io/hf-folder.js';
import { ModelFolderWriter } from '../../src/io/shard-writer.js';
import { KernelPool } from '../../src/kernels/pool.js';
import { executePlanWithKernels, type ExecuteOptions, type TensorSink } from '../../src/merge/executor.js';
import type { MergePlan, PlanModels } from '../../src/merge/plan.js';

/** Plan models read from `<folder()>/<key>`, each opened on first use; `closeAll` closes them. */
export function folderModels(folder: () => string): PlanModels & { closeAll(): void } {
  const opened = new Map<string, HfCheckpoint>();
  return {
    keyOf: (ref) => ref,
    get: (key) => {
      let checkpoint = opened.get(key);
      if (checkpoint === undefined) {
        checkpoint = HfCheckpoint.open(join(folder(), key));
        opened.set(key, checkpoint);
      }
      return checkpoint;
    },
    closeAll: () => {
      for (const checkpoint of opened.values()) checkpoint.close();
      opened.clear();
    },
  };
}

/** A sink keeping a copy of every tensor written to it. */
export function collect(): TensorSink & { tensors: Map<string, Uint8Array> } {
  const tensors = new Map<string, Uint8Array>();
  return { tensors, writeTensor: (name, bytes) => tensors.set(name, bytes.slice()) };
}

/** Counts the kernel pool's calls by kernel name while `run` runs. */
export async function kernelCalls(pool: KernelPool, run: () => Promise<void>): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  const original = pool.runSplit;
  pool.runSplit = (kernel, ...rest) => {
    calls.set(kernel, (calls.get(kernel) ?? 0) + 1);
    return original.call(pool, kernel, ...rest);
  };
  try {
    await run();
  } finally {
    pool.runSplit = original;
  }
  return calls;
}

/**
 * Runs `plan` on `pool` into a new model folder under `dir` (the workers write each tensor at its place in the
 * shard) and asserts that every tensor there equals `reference`'s bytes; removes the folder after.
 */
export async function assertWorkersWrite(
  dir: string,
  plan: MergePlan,
  models: PlanModels,
  pool: KernelPool,
  options: ExecuteOptions,
  reference: Map<string, Uint8Array>,
  label: string,
): Promise<void> {
  const out = mkdtempSync(join(dir, 'out-'));
  try {
    const writer = ModelFolderWriter.create(join(out, 'm'), plan.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })));
    await executePlanWithKernels(plan, models, writer, pool, options);
    writer.commit();
    const written = HfCheckpoint.open(join(out, 'm'));
    try {
      for (const [name, bytes] of reference) {
        assert.ok(Buffer.from(written.readBytes(name)).equals(Buffer.from(bytes)), `${name} differs (${label}, written by the workers)`);
      }
    } finally {
      written.close();
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A pool of two workers and one of one, labelled, with small parallel thresholds so test tensors split. */
export async function oneAndTwoWorkerPools(): Promise<[KernelPool, string][]> {
  return [
    [await KernelPool.create({ workers: 2, minParallelElements: 256 }), '2 workers'],
    [await KernelPool.create({ workers: 1, minParallelElements: 256 }), '1 worker'],
  ];
}

/** float32 values as the bytes of a float32, bfloat16 or float16 tensor (round to nearest even) */
export function encodeFloats(values: Float32Array, dtype: 'F32' | 'BF16' | 'F16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return new Uint8Array(Uint16Array.from(values, (v) => (dtype === 'BF16' ? f32ToBf16Bits(v) : f32ToF16Bits(v))).buffer);
}

/** A one-layer llama model folder at `folder`: the tensors' bytes from `bytesOf`, sharded at `maxShardBytes`. */
export function writeModelFolder(
  folder: string,
  specs: readonly { readonly name: string; readonly shape: readonly number[]; readonly dtype: 'F32' | 'BF16' | 'F16' }[],
  bytesOf: (name: string, numel: number) => Uint8Array,
  maxShardBytes?: number,
): void {
  const writer = ModelFolderWriter.create(folder, specs.map((spec) => ({ ...spec, shape: [...spec.shape] })), maxShardBytes === undefined ? {} : { maxShardBytes });
  for (const { name, shape } of specs) writer.writeTensor(name, bytesOf(name, shape.reduce((a, b) => a * b, 1)));
  writer.commit();
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'llama', num_hidden_layers: 1 }));
}
