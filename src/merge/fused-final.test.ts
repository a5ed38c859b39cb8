import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bf16BitsToF32, f32ToBf16Bits } from '../core/float16.js';
import type { KernelPool } from '../kernels/pool.js';
import { finalPassTuning, PASS_FINAL, PASS_LOAD } from '../kernels/wasm/task-vector-passes.js';
import { parseMergeConfig } from './config.js';
import { executePlan, executePlanWithKernels } from './executor.js';
import { buildMergePlan } from './plan.js';
import { getMergeMethod } from './registry.js';
import { assertWorkersWrite, collect, encodeFloats, writeModelFolder, folderModels, oneAndTwoWorkerPools } from '../../test/support/merge-plan-harness.js';

// The FINAL pass of the block-wise task-vector passes: the fused kernel (float32 mix by default, float64 on
// request) and the block-wise kernels give the reference executor's bytes for the same arithmetic, on 1 and 2
// workers, into memory and into a shard written by the workers, with three and four fine-tunes and with five
// (more inputs than the fused kernel takes), negative and zero weights, bfloat16 and float16 inputs. Task vectors
// mix a bell-shaped part with runs of exact ties, so the top-k cuts' tie numbering crosses blocks and worker ranges.

const SHAPES: Record<string, number[]> = {
  // ten 16,384-element blocks, split across the workers: one worker stages its output in two writes
  'model.layers.0.mlp.down_proj.weight': [10, 16384],
  // not a multiple of the block or of 4
  'model.layers.0.mlp.up_proj.weight': [37, 1001],
  'model.layers.0.input_layernorm.weight': [24],
};
const MODELS = ['base', 'a', 'b', 'c', 'd', 'e'];

function tensorValues(model: number, name: string, numel: number): Float32Array {
  const values = new Float32Array(numel);
  let s = name.length * 104729 + 17;
  let t = (model + 1) * 7919;
  for (let i = 0; i < numel; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const base = bf16BitsToF32(f32ToBf16Bits(((s >>> 8) / 2 ** 24 - 0.5) * 0.07));
    if (model === 0) {
      values[i] = base;
      continue;
    }
    t = (Math.imul(t, 1664525) + 1013904223) >>> 0;
    // half the elements: a few exact quanta (long runs of ties); the rest: spread out, sometimes an outlier
    const tied = (t >>> 31) === 1;
    const quanta = ((t >>> 24) % 5) - 2;
    values[i] = tied ? base + quanta * 2 ** -(6 + (model % 3)) : base + ((t >>> 8) / 2 ** 24 - 0.5) * 0.01 * model + ((t & 0xff) === 3 ? 2 : 0);
  }
  return values;
}

type InputDType = 'BF16' | 'F16';
let dir: string;
let pools: [KernelPool, string][];
const models = folderModels(() => dir);
const folderOf = (dtype: InputDType, model: string): string => `${dtype}/${model}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelevo-fused-final-'));
  for (const dtype of ['BF16', 'F16'] as const) {
    MODELS.forEach((model, m) => {
      const specs = Object.entries(SHAPES).map(([name, shape]) => ({ name, shape, dtype }));
      writeModelFolder(join(dir, folderOf(dtype, model)), specs, (name, numel) => encodeFloats(tensorValues(m, name, numel), dtype), 90000);
    });
  }
  pools = await oneAndTwoWorkerPools();
});

after(async () => {
  for (const [pool] of pools) await pool.close();
  models.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The modes of the taskVectorPass jobs run while `run` runs. */
async function passModes(pool: KernelPool, run: () => Promise<void>): Promise<number[]> {
  const modes: number[] = [];
  const original = pool.runSplit;
  pool.runSplit = (kernel, n, argsFor, options) =>
    original.call(
      pool,
      kernel,
      n,
      (start, length, part) => {
        const args = argsFor(start, length, part);
        if (kernel === 'taskVectorPass') modes.push(args[0]!);
        return args;
      },
      options,
    );
  try {
    await run();
  } finally {
    pool.runSplit = original;
  }
  return modes;
}

const PARAMETERS = [
  { weight: 0.9, density: 0.2 },
  { weight: 0.6, density: 0.5, gamma: 0.05 },
  { weight: 1.3, density: 0.05 },
  { weight: -0.4, density: 0.3 },
  { weight: 0.7, density: 0.9 },
];

const CASES: { method: string; inputs: InputDType; models: number; parameters?: Record<string, unknown>; weights?: number[] }[] = [
  { method: 'ties', inputs: 'BF16', models: 3 },
  { method: 'breadcrumbs_ties', inputs: 'BF16', models: 3 },
  { method: 'dare_ties', inputs: 'BF16', models: 3 },
  { method: 'dare_ties', inputs: 'F16', models: 3, parameters: { rescale: 'inverse_density' } },
  { method: 'ties', inputs: 'F16', models: 3, parameters: { normalize: false } },
  { method: 'task_arithmetic', inputs: 'BF16', models: 3 },
  // four models (the fused kernel's most), one weight negative; a zero weight, whose products are ±0
  { method: 'ties', inputs: 'BF16', models: 4 },
  { method: 'dare_ties', inputs: 'F16', models: 4 },
  { method: 'breadcrumbs_ties', inputs: 'BF16', models: 3, weights: [0.9, 0, -1.3] },
  { method: 'ties', inputs: 'BF16', models: 5 },
  // the fused kernel's loop for bands of scale 1 and weights ≥ 1e-8 on bfloat16, one per model count and cut form
  { method: 'ties', inputs: 'BF16', models: 4, weights: [0.9, 0.6, 1.3, 0.7] },
  { method: 'ties', inputs: 'BF16', models: 2 },
  { method: 'ties', inputs: 'BF16', models: 1 },
  { method: 'breadcrumbs_ties', inputs: 'BF16', models: 4, weights: [0.9, 0.6, 1.3, 0.7] },
  { method: 'breadcrumbs_ties', inputs: 'BF16', models: 2 },
  { method: 'breadcrumbs_ties', inputs: 'BF16', models: 1 },
  { method: 'breadcrumbs_ties', inputs: 'BF16', models: 3, parameters: { normalize: true } },
  { method: 'ties', inputs: 'BF16', models: 3, parameters: { normalize: false } },
  { method: 'dare_ties', inputs: 'BF16', models: 3, parameters: { normalize: true } },
  { method: 'dare_ties', inputs: 'BF16', models: 2 },
  { method: 'dare_ties', inputs: 'BF16', models: 4, weights: [0.9, 0.6, 1.3, 0.7] },
  { method: 'dare_ties', inputs: 'BF16', models: 1 },
  { method: 'dare_ties', inputs: 'BF16', models: 5 },
];

const PATHS: { label: string; fused: boolean; arithmetic?: 'float64' }[] = [
  { label: 'fused kernel, float32 mix', fused: true },
  { label: 'block-wise FINAL kernels', fused: false },
  // the reference's float64 mix on the fused kernel (the default is its float32 mix)
  { label: 'fused kernel, float64 mix', fused: true, arithmetic: 'float64' },
];

for (const [c, { method, inputs, models: count, parameters, weights }] of CASES.entries()) {
  // every path for the first three cases (one per sparsifier kind), the default one for the rest
  for (const { label: path, fused, arithmetic = 'float32' } of c < 3 ? PATHS : PATHS.slice(0, 1)) {
    test(`${method} ${JSON.stringify(parameters ?? {})}, ${inputs}, ${count} models${weights ? ` weights ${weights.join(' ')}` : ''}, ${path}: reference bytes on 1 and 2 workers`, async () => {
      finalPassTuning.fused = fused;
      try {
        const config = parseMergeConfig({
          merge_method: method,
          base_model: folderOf(inputs, 'base'),
          models: MODELS.slice(1, 1 + count).map((m, j) => ({ model: folderOf(inputs, m), parameters: { ...PARAMETERS[j]!, ...(weights ? { weight: weights[j] } : {}) } })),
          parameters: { lambda: 0.8, ...parameters },
          out_dtype: inputs === 'BF16' ? 'bfloat16' : 'float16',
        });
        const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
        const reference = collect();
        // the block-wise FINAL kernels mix in float64 only
        const mix = fused ? arithmetic : 'float64';
        executePlan(plan, models, reference, { seed: 5, arithmetic: count <= 4 ? mix : 'float64' });
        for (const [pool, label] of pools) {
          const fast = collect();
          const modes = await passModes(pool, () => executePlanWithKernels(plan, models, fast, pool, { seed: 5, arithmetic: mix }).then(() => undefined));
          assert.ok(modes.filter((mode) => mode === PASS_FINAL).length >= Object.keys(SHAPES).length, `${label}: the FINAL passes ran`);
          assert.ok(modes.filter((mode) => mode === PASS_LOAD).length >= Object.keys(SHAPES).length, `${label}: the LOAD passes ran`);
          for (const [name, bytes] of reference.tensors) {
            assert.ok(Buffer.from(fast.tensors.get(name)!).equals(Buffer.from(bytes)), `${name} differs (${label})`);
          }
          // the workers write the output blocks to the shard themselves, in staged runs of blocks
          await assertWorkersWrite(dir, plan, models, pool, { seed: 5, arithmetic: mix }, reference.tensors, label);
        }
      } finally {
        finalPassTuning.fused = true;
      }
    });
  }
}
