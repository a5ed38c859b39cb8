import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bf16BitsToF32, f32ToBf16Bits } from '../core/float16.js';
import type { KernelPool } from '../kernels/pool.js';
import { parseMergeConfig } from './config.js';
import { executePlan, executePlanWithKernels } from './executor.js';
import { bandAround, CutBands, cutBandTuning, descendSummed, selectAscending } from './fused-cut-bands.js';
import { TASK_INPUT_BF16 } from '../kernels/wasm/task-vector-from-files.js';
import { descendHistogram } from '../kernels/reference/select.js';
import fc from 'fast-check';
import { buildMergePlan } from './plan.js';
import { getMergeMethod } from './registry.js';
import { collect, encodeFloats, folderModels, writeModelFolder, oneAndTwoWorkerPools, kernelCalls } from '../../test/support/merge-plan-harness.js';

// The bracketed cuts of fused-cut-bands.ts: the band path (cut selected among the gathered entries, no LEVEL2
// read) and the fallback (cut outside its band, or a range over its capacity) give the reference executor's
// bytes on 1 and 2 workers, on bell-shaped task vectors (the bench family's kind) and on heavily tied ones.

const SHAPES: Record<string, number[]> = {
  // 81,920 elements: the sample is 64 runs, not the whole tensor
  'model.layers.0.mlp.down_proj.weight': [5, 16384],
  'model.layers.0.mlp.up_proj.weight': [37, 1001],
  // sampled whole: one run longer than the sample's runs
  'model.layers.0.input_layernorm.weight': [3000],
  'model.norm.weight': [24],
};
const MODELS = ['base', 'a', 'b', 'c'];

/** base ~ bell(0.02), model m adds bell(0.002): δ takes many distinct values; `tied`: 5 δ values only */
function tensorValues(model: number, name: string, numel: number, tied: boolean): Float32Array {
  const values = new Float32Array(numel);
  let s = name.length * 104729 + 17;
  let t = (model + 1) * 7919;
  const bell = (): number => {
    let sum = 0;
    for (let k = 0; k < 4; k++) {
      t = (Math.imul(t, 1664525) + 1013904223) >>> 0;
      sum += t / 2 ** 32;
    }
    return sum - 2;
  };
  for (let i = 0; i < numel; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const base = ((s >>> 8) / 2 ** 24 - 0.5) * 0.07;
    if (model === 0) values[i] = base;
    else if (tied) values[i] = bf16BitsToF32(f32ToBf16Bits(base)) + Math.round(bell() * 2) * 2 ** -9;
    else values[i] = base + bell() * 0.0035;
  }
  return values;
}

type InputDType = 'BF16' | 'F16' | 'F32';
let dir: string;
let pools: [KernelPool, string][];
const models = folderModels(() => dir);
const folderOf = (dtype: InputDType, tied: boolean, model: string): string => `${tied ? 'tied' : 'bell'}-${dtype}/${model}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelevo-fused-cut-bands-'));
  for (const dtype of ['BF16', 'F16', 'F32'] as const) {
    for (const tied of [false, true]) {
      MODELS.forEach((model, m) => {
        const specs = Object.entries(SHAPES).map(([name, shape]) => ({ name, shape, dtype }));
        writeModelFolder(join(dir, folderOf(dtype, tied, model)), specs, (name, numel) => encodeFloats(tensorValues(m, name, numel, tied), dtype), 90000);
      });
    }
  }
  pools = await oneAndTwoWorkerPools();
});

after(async () => {
  for (const [pool] of pools) await pool.close();
  models.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

const tensorCount = Object.keys(SHAPES).length;
const CASES: { method: string; inputs: InputDType; tied: boolean; tuning: { margin: number; capacity: number }; passes: number; label: string }[] = [
  // default tuning on bell-shaped task vectors: every cut inside its band, two passes per tensor
  { method: 'ties', inputs: 'BF16', tied: false, tuning: { ...cutBandTuning }, passes: 2, label: 'default band' },
  { method: 'breadcrumbs_ties', inputs: 'F32', tied: false, tuning: { ...cutBandTuning }, passes: 2, label: 'default band' },
  { method: 'ties', inputs: 'F16', tied: false, tuning: { ...cutBandTuning }, passes: 2, label: 'default band' },
  // a band holding everything: the band path even on runs of thousands of ties across blocks and ranges
  { method: 'ties', inputs: 'BF16', tied: true, tuning: { margin: 1, capacity: 1 }, passes: 2, label: 'whole band' },
  { method: 'breadcrumbs_ties', inputs: 'F16', tied: true, tuning: { margin: 1, capacity: 1 }, passes: 2, label: 'whole band' },
  // an empty margin and no capacity: every cut falls back to the histogram LOAD and LEVEL2 (four passes)
  { method: 'ties', inputs: 'BF16', tied: false, tuning: { margin: 0, capacity: 0 }, passes: 4, label: 'fallback' },
  { method: 'breadcrumbs_ties', inputs: 'F32', tied: true, tuning: { margin: 0, capacity: 0 }, passes: 4, label: 'fallback' },
];

for (const { method, inputs, tied, tuning, passes, label } of CASES) {
  test(`${method}, ${inputs} ${tied ? 'tied' : 'bell'} task vectors, ${label}: reference bytes on 1 and 2 workers, ${passes} passes per tensor`, async () => {
    const saved = { ...cutBandTuning };
    Object.assign(cutBandTuning, tuning);
    try {
      const config = parseMergeConfig({
        merge_method: method,
        base_model: folderOf(inputs, tied, 'base'),
        models: [
          { model: folderOf(inputs, tied, 'a'), parameters: { weight: 0.9, density: 0.2 } },
          { model: folderOf(inputs, tied, 'b'), parameters: { weight: 0.6, density: 0.5, gamma: 0.05 } },
          { model: folderOf(inputs, tied, 'c'), parameters: { weight: 1.3, density: 0.05 } },
        ],
        parameters: { lambda: 0.8 },
        out_dtype: 'bfloat16',
      });
      const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
      const reference = collect();
      executePlan(plan, models, reference, { seed: 3, arithmetic: 'float32' });
      for (const [pool, poolLabel] of pools) {
        const fast = collect();
        const calls = await kernelCalls(pool, () => executePlanWithKernels(plan, models, fast, pool, { seed: 3 }).then(() => undefined));
        assert.equal(calls.get('taskVectorPass'), passes * tensorCount, `${poolLabel}: passes (${JSON.stringify([...calls])})`);
        if (passes === 2) assert.ok((calls.get('absHistogramPrefixMany') ?? 0) > 0, `${poolLabel}: cuts selected among the gathered entries`);
        for (const [name, bytes] of reference.tensors) {
          assert.ok(Buffer.from(fast.tensors.get(name)!).equals(Buffer.from(bytes)), `${name} differs (${poolLabel})`);
        }
      }
    } finally {
      Object.assign(cutBandTuning, saved);
    }
  });
}

test('bandAround brackets the sample quantile: about k/n ± margin of the sample lies above hi / at or above lo', () => {
  const sorted = Uint32Array.from({ length: 1000 }, (_, i) => 1000 + i * 3);
  // quantile 0.25 ± 0.125 (exact in binary): 125 sample entries above hi, 375 above lo (lo itself is inside)
  // the sample in any order (bandAround reorders it in place)
  const shuffled = (): Uint32Array => Uint32Array.from(sorted).sort((a, b) => ((a * 7919) % 1009) - ((b * 7919) % 1009));
  const [lo, hi] = bandAround(shuffled(), 250, 1000, 0.125);
  assert.equal(sorted.filter((p) => p > hi).length, 125);
  assert.equal(sorted.filter((p) => p > lo).length, 375);
  // near the top there is no upper end, near the bottom the band reaches 0
  assert.deepEqual(bandAround(shuffled(), 1, 1000, 0.125), [sorted[1000 - 1 - 126]!, 0xffffffff]);
  assert.deepEqual(bandAround(shuffled(), 1000, 1000, 0.125), [0, sorted[1000 - 1 - 875]!]);
});

test('descendSummed: descendHistogram of the bin-wise sum of the ranges\' histograms', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }).chain((bins) => fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: bins, maxLength: bins }), { minLength: 1, maxLength: 3 })),
      fc.nat(),
      (ranges, pick) => {
        const histograms = ranges.map((counts) => Uint32Array.from(counts));
        const total = histograms[0]!.map((_, b) => histograms.reduce((sum, h) => sum + h[b]!, 0));
        const entries = total.reduce((a, b) => a + b, 0);
        fc.pre(entries > 0);
        const rank = 1 + (pick % entries);
        assert.deepEqual(descendSummed(histograms, rank), descendHistogram(total, rank));
      },
    ),
    { numRuns: 300, seed: 16 },
  );
  assert.throws(() => descendSummed([Uint32Array.of(1, 0), Uint32Array.of(0, 1)], 3), /fewer than 3/);
});

test('selectAscending: the entry a sort would put at each position, with heavy ties', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 200 }), fc.nat(), (values, pick) => {
      const sorted = Uint32Array.from(values).sort();
      const at = pick % values.length;
      assert.equal(selectAscending(Uint32Array.from(values), at), sorted[at]);
    }),
    { numRuns: 500, seed: 16 },
  );
});

test('sample: a file that ends inside the sampled runs is a CheckpointError (the reads do not spin on end of file)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'modelevo-cut-bands-short-'));
  const path = join(folder, 'short.bin');
  // 100 bfloat16 values where the tensor needs 20,000
  writeFileSync(path, new Uint8Array(200));
  const fd = openSync(path, 'r');
  try {
    const bands = new CutBands(pools[0]![0], 1, 20000);
    assert.throws(
      () => bands.sample([{ model: 0, k: 100 }], [{ fd, position: 0 }, { fd, position: 0 }], TASK_INPUT_BF16, 2, 20000),
      (error: Error & { code?: string }) => error.code === 'CHECKPOINT_INVALID' && /file ended at byte 200/.test(error.message),
    );
  } finally {
    closeSync(fd);
    rmSync(folder, { recursive: true, force: true });
  }
});
