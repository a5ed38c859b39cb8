import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bf16BitsToF32, f32ToF16Bits } from '../core/float16.js';
import { KernelPool } from '../kernels/pool.js';
import { CutBands } from './fused-cut-bands.js';
import { FusedTaskVectors } from './fused-task-vectors.js';
import { parseMergeConfig } from './config.js';
import { executePlan, executePlanWithKernels } from './executor.js';
import { buildMergePlan } from './plan.js';
import { getMergeMethod } from './registry.js';
import { assertWorkersWrite, collect, writeModelFolder, folderModels, kernelCalls } from '../../test/support/merge-plan-harness.js';

// The block-wise task-vector passes (fused-task-vectors.ts) over shards on disk: bytes equal the reference
// executor's for the same seed, into memory and into a shard file written by the workers, on 1 and 2 workers.
// The deltas take only a handful of distinct values, so every top-k cut falls inside a run of thousands of ties
// that crosses read blocks and worker ranges: the tie numbering must continue exactly across both.

const SHAPES: Record<string, number[]> = {
  // five 16,384-element blocks, split across the workers
  'model.layers.0.mlp.down_proj.weight': [5, 16384],
  // not a multiple of the block or of 4
  'model.layers.0.mlp.up_proj.weight': [37, 1001],
  'model.layers.0.input_layernorm.weight': [24],
  'model.norm.weight': [3],
};
const MODELS = ['base', 'a', 'b', 'c'];

function bf16Bits(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** base from 8 values; a model adds −2..2 quanta of its own size (and, rarely, a large outlier) */
function tensorBits(model: number, name: string, numel: number): Uint16Array {
  const bits = new Uint16Array(numel);
  let s = name.length * 104729 + 17;
  let t = (model + 1) * 7919;
  for (let i = 0; i < numel; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const base = ((s >>> 20) % 8) * 0.125 - 0.5;
    if (model === 0) {
      bits[i] = bf16Bits(base);
      continue;
    }
    t = (Math.imul(t, 1664525) + 1013904223) >>> 0;
    const quanta = ((t >>> 24) % 5) - 2;
    const outlier = (t & 0xfff) === 7 ? 3 : 0;
    bits[i] = bf16Bits(base + quanta * 2 ** -(5 + model) + outlier);
  }
  return bits;
}

let dir: string;
let twoWorkers: KernelPool;
let oneWorker: KernelPool;
const models = folderModels(() => dir);
const specs = Object.entries(SHAPES).map(([name, shape]) => ({ name, shape, dtype: 'BF16' as const }));

/** the family's bytes in `dtype` (every value is exact in float16 and float32 too) */
function tensorBytes(dtype: InputDType, model: number, name: string, numel: number): Uint8Array {
  const bits = tensorBits(model, name, numel);
  if (dtype === 'BF16') return new Uint8Array(bits.buffer);
  const values = Float32Array.from(bits, (b) => bf16BitsToF32(b));
  if (dtype === 'F32') return new Uint8Array(values.buffer);
  return new Uint8Array(Uint16Array.from(values, (v) => f32ToF16Bits(v)).buffer);
}

type InputDType = 'BF16' | 'F16' | 'F32';
/** model folder of each input dtype: bfloat16 at the top, the others under f16/, f32/ */
const folderOf = (dtype: InputDType, model: string): string => (dtype === 'BF16' ? model : `${dtype.toLowerCase()}/${model}`);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelevo-fused-task-vectors-'));
  for (const dtype of ['BF16', 'F16', 'F32'] as const) {
    MODELS.forEach((model, m) => {
      writeModelFolder(join(dir, folderOf(dtype, model)), specs.map((spec) => ({ ...spec, dtype })), (name, numel) => tensorBytes(dtype, m, name, numel), 90000);
    });
  }
  twoWorkers = await KernelPool.create({ workers: 2, minParallelElements: 256 });
  oneWorker = await KernelPool.create({ workers: 1, minParallelElements: 256 });
});

after(async () => {
  await twoWorkers.close();
  await oneWorker.close();
  models.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

const CASES: { method: string; parameters?: Record<string, unknown>; outDtype: 'bfloat16' | 'float32' | 'float16'; inputs?: InputDType }[] = [
  // float32 inputs take the same direct select levels as bfloat16, float16 inputs the decoded route
  { method: 'ties', outDtype: 'bfloat16', inputs: 'F32' },
  { method: 'breadcrumbs_ties', outDtype: 'float16', inputs: 'F16' },
  { method: 'dare_ties', outDtype: 'float32', inputs: 'F16' },
  { method: 'ties', outDtype: 'bfloat16' },
  { method: 'ties', parameters: { normalize: false, lambda: 1.5 }, outDtype: 'float32' },
  { method: 'breadcrumbs_ties', outDtype: 'bfloat16' },
  { method: 'breadcrumbs', outDtype: 'float16' },
  { method: 'dare_ties', outDtype: 'bfloat16' },
  { method: 'dare_ties', parameters: { rescale: 'inverse_density' }, outDtype: 'bfloat16' },
  { method: 'dare_linear', outDtype: 'float32' },
  { method: 'task_arithmetic', outDtype: 'bfloat16' },
];

for (const { method, parameters, outDtype, inputs = 'BF16' } of CASES) {
  test(`${method} ${JSON.stringify(parameters ?? {})}, ${inputs} → ${outDtype}: the block-wise passes give the reference bytes, into memory and into a shard, on 1 and 2 workers`, async () => {
    const config = parseMergeConfig({
      merge_method: method,
      base_model: folderOf(inputs, 'base'),
      models: [
        // density 0.01 keeps nothing of the 24- and 3-element tensors (a warning, an all-zero task vector)
        { model: folderOf(inputs, 'a'), parameters: { weight: 0.9, density: 0.01 } },
        { model: folderOf(inputs, 'b'), parameters: { weight: 0.6, density: 0.3, gamma: 0.05 } },
        { model: folderOf(inputs, 'c'), parameters: { weight: 1.3, density: 1 } },
      ],
      parameters: { lambda: 0.8, ...parameters },
      out_dtype: outDtype,
    });
    const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
    const reference = collect();
    const referenceWarnings: string[] = [];
    executePlan(plan, models, reference, { seed: 3, arithmetic: 'float32', warn: (m) => referenceWarnings.push(m) });
    for (const [pool, label] of [[twoWorkers, '2 workers'], [oneWorker, '1 worker']] as const) {
      const fast = collect();
      const warnings: string[] = [];
      const calls = await kernelCalls(pool, () => executePlanWithKernels(plan, models, fast, pool, { seed: 3, warn: (m) => warnings.push(m) }).then(() => undefined));
      assert.ok((calls.get('taskVectorPass') ?? 0) >= 2 * specs.length, `${label}: the block-wise passes ran (${[...calls.keys()].join(', ')})`);
      assert.deepEqual(warnings, referenceWarnings, `${label}: same warnings`);
      for (const [name, bytes] of reference.tensors) {
        assert.ok(Buffer.from(fast.tensors.get(name)!).equals(Buffer.from(bytes)), `${name} differs (${label}, memory)`);
      }
      await assertWorkersWrite(dir, plan, models, pool, { seed: 3 }, reference.tensors, label);
    }
  });
}

test('look-ahead: with an idle calling thread each next tensor is planned and sampled during the FINAL pass before it, once; same bytes', async () => {
  const config = parseMergeConfig({
    merge_method: 'breadcrumbs_ties',
    base_model: 'base',
    models: ['a', 'b', 'c'].map((model) => ({ model, parameters: { weight: 1, density: 0.4, gamma: 0.05 } })),
    out_dtype: 'bfloat16',
  });
  const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
  const reference = collect();
  executePlan(plan, models, reference, { seed: 1, arithmetic: 'float32' });
  const callerPool = await KernelPool.create({ workers: 1, minParallelElements: 256, callerTakesPart: true });
  const sample = CutBands.prototype.sample;
  const prototype = FusedTaskVectors.prototype as unknown as { lookAhead: (...args: unknown[]) => void };
  const lookAhead = prototype.lookAhead;
  let events: string[] = [];
  CutBands.prototype.sample = function (this: CutBands, ...args: Parameters<CutBands['sample']>) {
    events.push(`sample ${args[4]}`);
    return sample.apply(this, args);
  };
  prototype.lookAhead = function (this: unknown, ...args: unknown[]) {
    events.push('look-ahead');
    return lookAhead.apply(this, args);
  };
  // on the instances (the harness's kernelCalls leaves its own wrapper there)
  const passesNoted = (pool: KernelPool): (() => void) => {
    const runSplit = pool.runSplit;
    pool.runSplit = function (this: KernelPool, kernel, n, argsFor, options) {
      let mode = -1;
      return runSplit.call(this, kernel, n, (start, length, part) => {
        const args = argsFor(start, length, part);
        if (kernel === 'taskVectorPass' && mode < 0) events.push(`${['LOAD', 'LEVEL2', 'FINAL'][(mode = args[0]!)]} ${n}`);
        return args;
      }, options);
    };
    return () => (pool.runSplit = runSplit);
  };
  const sizes = plan.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
  try {
    for (const [pool, idle] of [[twoWorkers, true], [callerPool, false]] as const) {
      events = [];
      const fast = collect();
      const restore = passesNoted(pool);
      await executePlanWithKernels(plan, models, fast, pool, { seed: 1 }).finally(restore);
      // every tensor has cuts (density 0.4 of ≥ 3 elements); a cut outside its band adds a LOAD and a LEVEL2 pass
      const expected = sizes.flatMap((n, t) =>
        idle
          ? [...(t === 0 ? [`sample ${n}`] : []), `LOAD ${n}`, `FINAL ${n}`, ...(t + 1 < sizes.length ? ['look-ahead', `sample ${sizes[t + 1]}`] : [])]
          : [`sample ${n}`, `LOAD ${n}`, `FINAL ${n}`],
      );
      const seen = events.filter((e, i) => !e.startsWith('LEVEL2') && !(e.startsWith('LOAD') && e === events[i - 1]));
      assert.deepEqual(seen, expected, idle ? 'idle calling thread' : 'calling thread takes a part');
      for (const [name, bytes] of reference.tensors) assert.ok(Buffer.from(fast.tensors.get(name)!).equals(Buffer.from(bytes)), `${name} differs`);
    }
  } finally {
    CutBands.prototype.sample = sample;
    prototype.lookAhead = lookAhead;
    await callerPool.close();
  }
});

test('look-ahead: a later tensor whose parameters fail their check raises the reference error, after the tensors before it', async () => {
  const config = parseMergeConfig({
    merge_method: 'ties',
    base_model: 'base',
    // only the norm tensors (the plan's last) get a negative density
    models: ['a', 'b', 'c'].map((model) => ({ model, parameters: { weight: 1, density: [{ filter: 'norm', value: -0.5 }, { value: 0.4 }] } })),
    out_dtype: 'bfloat16',
  });
  const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
  const failsAt = plan.tensors.findIndex((t) => t.name.includes('norm'));
  assert.ok(failsAt > 0, 'a tensor before the failing one');
  const reference = collect();
  const expected = (() => {
    try {
      executePlan(plan, models, reference, { seed: 1, arithmetic: 'float32' });
    } catch (error) {
      return error as Error;
    }
    assert.fail('the reference path accepted a negative density');
  })();
  const fast = collect();
  await assert.rejects(executePlanWithKernels(plan, models, fast, twoWorkers, { seed: 1 }), (error: Error) => {
    assert.equal(error.message, expected.message);
    return true;
  });
  // every tensor before the failing one was merged, with the reference bytes
  assert.deepEqual([...fast.tensors.keys()], plan.tensors.slice(0, failsAt).map((t) => t.name));
  for (const [name, bytes] of fast.tensors) assert.ok(Buffer.from(bytes).equals(Buffer.from(reference.tensors.get(name)!)), `${name} differs`);
});
