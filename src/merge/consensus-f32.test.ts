import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { f32ToBf16Bits } from '../core/float16.js';
import { KernelPool } from '../kernels/pool.js';
import { combineTaskVectors } from './consensus.js';
import { combineTaskVectorsAs, combineTaskVectorsFloat32, float32MixApplies, float32MixBound, plainDivisorOf } from './consensus-f32.js';
import { parseMergeConfig } from './config.js';
import { executePlan, executePlanWithKernels } from './executor.js';
import { buildMergePlan } from './plan.js';
import { getMergeMethod } from './registry.js';
import { collect, encodeFloats, folderModels, writeModelFolder } from '../../test/support/merge-plan-harness.js';

// The float32 task-vector mix (merge-methods.md §0; the kernels' default for 1–4 models, issue #16) against the
// float64 mix of consensus.ts: within float32MixBound wherever the elected sign cannot differ, on random task
// vectors; the cases where float32 is not used; and the overflow rule (a float32 result that is not finite
// means the float64 mix), through the kernels' FINAL pass on shards on disk, on 1 and 2 workers. That the
// kernels equal combineTaskVectorsFloat32 bit for bit is asserted by the fused-task-vector tests, whose
// reference executor runs with `arithmetic: 'float32'`.

const U = 2 ** -24;
const magnitude = fc.integer({ min: -30, max: 10 });
const element = fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), magnitude).map(([m, e]) => Math.fround(m * 2 ** e));
const weight = fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom(1, 0.5, 0));

test('float32 mix vs float64 mix: within float32MixBound wherever the elected sign is the same (random task vectors, 1–4 models)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((m) =>
        fc.record({
          weights: fc.array(weight, { minLength: m, maxLength: m }),
          rows: fc.array(fc.array(element, { minLength: m + 1, maxLength: m + 1 }), { minLength: 1, maxLength: 40 }),
          lambda: fc.oneof(fc.constant(1), fc.double({ min: -3, max: 3, noNaN: true })),
          consensus: fc.boolean(),
          normalize: fc.boolean(),
        }),
      ),
      ({ weights, rows, lambda, consensus, normalize }) => {
        const base = Float32Array.from(rows, (r) => r[0]!);
        const deltas = weights.map((_, i) => Float32Array.from(rows, (r) => r[i + 1]!));
        const options = { base, deltas, weights, consensus, normalize, lambda };
        const f32 = combineTaskVectorsFloat32(options);
        const f64 = combineTaskVectors(options);
        for (let j = 0; j < rows.length; j++) {
          const terms = weights.map((w, i) => w * deltas[i]![j]!);
          const total = terms.reduce((a, b) => a + b, 0);
          const absAll = terms.reduce((a, b) => a + Math.abs(b), 0);
          // within the float32 total's error of zero the elected sign may differ: no bound there
          if (consensus && Math.abs(total) <= (weights.length + 1) * U * absAll * 1.01 + 2 ** -140) continue;
          const mixed = consensus ? terms.filter((t) => (total >= 0 ? t > 0 : t < 0)) : terms;
          const mixedWeights = consensus ? weights.filter((_, i) => (total >= 0 ? terms[i]! > 0 : terms[i]! < 0)) : weights;
          let divisor = consensus ? mixedWeights.reduce((a, b) => a + b, 0) : plainDivisorOf(weights);
          if (Math.abs(divisor) < 1e-8) divisor = 1;
          const mix = mixed.reduce((a, b) => a + b, 0);
          const quotient = normalize ? mix / divisor : mix;
          const bound = float32MixBound({
            absTermSum: mixed.reduce((a, b) => a + Math.abs(b), 0),
            absWeightSum: normalize ? mixedWeights.reduce((a, b) => a + Math.abs(b), 0) : 0,
            divisor: normalize ? divisor : 1,
            quotient,
            base: base[j]!,
            lambda,
            models: weights.length,
          });
          const gap = Math.abs(f32[j]! - f64[j]!);
          assert.ok(gap <= bound, `element ${j}: |f32 − f64| = ${gap} > bound ${bound} (${JSON.stringify({ weights, row: rows[j], lambda, consensus, normalize })})`);
        }
      },
    ),
    { numRuns: 400, seed: 16 },
  );
});

test('float32 mix: equal to the float64 mix where every step is exact (dyadic values and weights), and the bound is not vacuous', () => {
  const base = Float32Array.of(1, -2, 0.5, 0);
  const deltas = [Float32Array.of(0.25, -0.5, 0, 0.125), Float32Array.of(-0.125, -0.25, 0.5, 0), Float32Array.of(0.5, 0.75, -0.25, -0.375)];
  for (const consensus of [true, false]) {
    for (const normalize of [true, false]) {
      const options = { base, deltas, weights: [1, 0.5, 2], consensus, normalize, lambda: 0.75 };
      assert.deepEqual([...combineTaskVectorsFloat32(options)], [...combineTaskVectors(options)], `consensus ${consensus}, normalize ${normalize}`);
    }
  }
  // one element, weights 0.1 (not a float32): the bound is a few float32 ulps of the values, not more
  const bound = float32MixBound({ absTermSum: 0.3, absWeightSum: 0.3, divisor: 0.3, quotient: 1, base: 1, lambda: 1, models: 3 });
  assert.ok(bound > 4 * U && bound < 64 * U, `bound ${bound / U} u`);
});

test('float32MixApplies: 1–4 models with weights, λ and divisor in float32 range; else the float64 mix', () => {
  assert.equal(float32MixApplies([1, 0.5, -2], 1, 1), true);
  assert.equal(float32MixApplies([1, 1, 1, 1], 0.3, 4), true);
  assert.equal(float32MixApplies([1, 1, 1, 1, 1], 1, 5), false, 'five models');
  assert.equal(float32MixApplies([1e-40, 1], 1, 1), false, 'a subnormal float32 weight');
  assert.equal(float32MixApplies([1, 1], 1e39, 2), false, 'λ beyond float32');
  assert.equal(float32MixApplies([0, 1], 1, 1), true, 'a zero weight is exact');
  const options = { base: Float32Array.of(0.5), deltas: [Float32Array.of(0.1)], weights: [1e-40], consensus: true, normalize: true, lambda: 1 };
  assert.deepEqual([...combineTaskVectorsAs('float32', options)], [...combineTaskVectors(options)]);
});

// base 0, two fine-tunes at 3e38: Σ w·δ = 6e38 overflows float32 (the float64 mix then divides by 2 → 3e38)
let dir: string;
let pools: KernelPool[];
const models = folderModels(() => dir);
const NAME = 'model.layers.0.mlp.down_proj.weight';
const NUMEL = 3 * 16384 + 11;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelevo-consensus-f32-'));
  ['base', 'a', 'b'].forEach((model, m) => {
    const values = Float32Array.from({ length: NUMEL }, (_, i) => (m === 0 ? ((i % 7) - 3) * 0.01 : (i % 5 === 0 ? 3e38 : ((i * m) % 11) * 0.02)));
    writeModelFolder(join(dir, model), [{ name: NAME, shape: [NUMEL], dtype: 'BF16' }], () => encodeFloats(values, 'BF16'));
  });
  pools = [await KernelPool.create({ workers: 2, minParallelElements: 256 }), await KernelPool.create({ workers: 1, minParallelElements: 256 })];
});

after(async () => {
  for (const pool of pools) await pool.close();
  models.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

test('a float32 mix that overflows is redone in float64: the kernels give the float64 reference bytes (finite), on 1 and 2 workers', async () => {
  for (const method of ['ties', 'task_arithmetic']) {
    const config = parseMergeConfig({
      merge_method: method,
      base_model: 'base',
      models: ['a', 'b'].map((model) => ({ model, parameters: { weight: 1, ...(method === 'ties' ? { density: 0.5 } : {}) } })),
      parameters: method === 'ties' ? {} : { normalize: true },
      out_dtype: 'bfloat16',
    });
    const plan = buildMergePlan(config, getMergeMethod(config.merge_method), models);
    const float64 = collect();
    executePlan(plan, models, float64, { arithmetic: 'float64' });
    const float32 = collect();
    executePlan(plan, models, float32, { arithmetic: 'float32' });
    const bytes = float64.tensors.get(NAME)!;
    assert.ok(Buffer.from(float32.tensors.get(NAME)!).equals(Buffer.from(bytes)), `${method}: the reference's float32 rule falls back too`);
    const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, NUMEL);
    assert.ok(bits.every((b) => (b & 0x7f80) !== 0x7f80), `${method}: every output finite`);
    assert.ok(bits.some((b) => b === f32ToBf16Bits(3e38)), `${method}: the overflowing elements are 3e38 (float64 mix)`);
    for (const pool of pools) {
      const fast = collect();
      await executePlanWithKernels(plan, models, fast, pool, { arithmetic: 'float32' });
      assert.ok(Buffer.from(fast.tensors.get(NAME)!).equals(Buffer.from(bytes)), `${method}, ${pool.partCount} threads`);
    }
  }
});
