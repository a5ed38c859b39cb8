// Kinship on the kernel pool (compute-pool.ts) against the float64 reference formulas: fixtures and random
// families written to disk, 1e-12 relative; identical results for 0, 1 (+ caller) and 2 worker threads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { KernelPool } from '../kernels/pool.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../core/float16.js';
import { openCheckpoint } from '../io/open.js';
import { writeSafetensors } from '../io/safetensors/writer.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { DType } from '../core/dtype.js';
import { computeKinship, type KinshipResult } from './compute.js';
import { computeKinshipOnPool, MomentSet } from './compute-pool.js';
import { matrixEntry } from './matrix.js';
import {
  FAMILY_DIR,
  concatenatedDelta,
  readFamilyModel,
  referenceCosine,
  referenceEuclidean,
  referencePcc,
} from '../../test/kinship/reference.js';

const REFERENCE = {
  pcc: referencePcc,
  cs: referenceCosine,
  cs_abs: (x: Float64Array, y: Float64Array) => Math.abs(referenceCosine(x, y)),
  ed: referenceEuclidean,
};
type MetricName = keyof typeof REFERENCE;
const METRICS = Object.keys(REFERENCE) as MetricName[];

let pools: { name: string; pool: KernelPool }[] = [];
before(async () => {
  pools = [
    { name: 'calling thread', pool: await KernelPool.create({ workers: 0 }) },
    { name: '1 worker + caller', pool: await KernelPool.create({ workers: 1, callerTakesPart: true, minParallelElements: 0 }) },
    { name: '2 workers', pool: await KernelPool.create({ workers: 2, minParallelElements: 0 }) },
  ];
});
after(async () => {
  await Promise.all(pools.map(({ pool }) => pool.close()));
});

/** |a − b| ≤ 1e-12 · max(1, |b|): relative for distances, absolute for the bounded similarities; NaN = NaN */
function close(actual: number, expected: number, tolerance = 1e-12): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

function assertMatchesReference(result: KinshipResult, deltas: readonly Float64Array[], label: string): void {
  for (const metric of METRICS.filter((m) => result.matrices[m] !== undefined)) {
    const matrix = result.matrices[metric]!;
    for (let i = 0; i < deltas.length; i++) {
      for (let j = 0; j < deltas.length; j++) {
        const expected = i === j ? (metric === 'ed' ? 0 : REFERENCE[metric](deltas[i]!, deltas[i]!)) : REFERENCE[metric](deltas[i]!, deltas[j]!);
        const actual = matrixEntry(matrix, i, j);
        assert.ok(close(actual, expected), `${label} ${metric}[${i}][${j}]: ${actual} vs reference ${expected}`);
      }
    }
  }
}

test('fixture family (f32 and bf16 files, sharded base): every metric within 1e-12 of float64, same for every thread count', async () => {
  const refs = ['expert-literature', 'expert-code-bf16', 'expert-math', 'expert-code'];
  const baseValues = readFamilyModel('base');
  const names = [...baseValues.keys()];
  const deltas = refs.map((r) => concatenatedDelta(readFamilyModel(r), baseValues, names));
  for (const baseFolder of ['base', 'base-sharded']) {
    const base = openCheckpoint(`${FAMILY_DIR}${baseFolder}`);
    const models = refs.map((r) => openCheckpoint(`${FAMILY_DIR}${r}`));
    try {
      const results = [];
      for (const { name, pool } of pools) {
        const result = await computeKinshipOnPool(pool, base, models, { metrics: METRICS });
        assertMatchesReference(result, deltas, `${baseFolder}, ${name}:`);
        results.push(result);
        // three models, no distance: the kernel's register-only 3-model path
        const three = await computeKinshipOnPool(pool, base, models.slice(0, 3), { metrics: ['pcc', 'cs'] });
        assertMatchesReference(three, deltas.slice(0, 3), `${baseFolder}, ${name}, 3 models:`);
      }
      assert.deepEqual(results[1]!.matrices, results[0]!.matrices);
      assert.deepEqual(results[2]!.matrices, results[0]!.matrices);
      const typescript = computeKinship(base, models, { metrics: METRICS });
      assert.equal(results[0]!.tensorsCompared, typescript.tensorsCompared);
      assert.equal(results[0]!.elementsCompared, typescript.elementsCompared);
    } finally {
      [base, ...models].forEach((c) => c.close());
    }
  }
});

test('split mode and the direct diagonal agree with the TypeScript path within 1e-12', async () => {
  const base = openCheckpoint(`${FAMILY_DIR}base`);
  const models = ['expert-code', 'expert-math'].map((r) => openCheckpoint(`${FAMILY_DIR}${r}`));
  try {
    for (const options of [{ mode: 'split' as const }, { diagonal: 'direct' as const }]) {
      const expected = computeKinship(base, models, { metrics: METRICS, ...options });
      const actual = await computeKinshipOnPool(pools[2]!.pool, base, models, { metrics: METRICS, ...options });
      for (const metric of METRICS) {
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) {
            const a = matrixEntry(actual.matrices[metric]!, i, j);
            const e = matrixEntry(expected.matrices[metric]!, i, j);
            assert.ok(close(a, e), `${JSON.stringify(options)} ${metric}[${i}][${j}]: ${a} vs ${e}`);
          }
        }
      }
    }
  } finally {
    [base, ...models].forEach((c) => c.close());
  }
});

test('a checkpoint without shard files (base+LoRA view) is computed by the TypeScript path in the same result', async () => {
  const base = openCheckpoint(`${FAMILY_DIR}base`);
  const models = [openCheckpoint(`${FAMILY_DIR}expert-code`), openCheckpoint(`${FAMILY_DIR}base+${FAMILY_DIR}lora-code`)];
  try {
    const expected = computeKinship(base, models, { metrics: ['pcc', 'ed'] });
    const actual = await computeKinshipOnPool(pools[1]!.pool, base, models, { metrics: ['pcc', 'ed'] });
    assert.equal(matrixEntry(actual.matrices.pcc!, 0, 1), matrixEntry(expected.matrices.pcc!, 0, 1));
    assert.equal(matrixEntry(actual.matrices.ed!, 0, 1), matrixEntry(expected.matrices.ed!, 0, 1));
  } finally {
    [base, ...models].forEach((c) => c.close());
  }
});

const ENCODE: Record<'F32' | 'BF16' | 'F16', (values: Float32Array) => { bytes: Uint8Array; decoded: Float64Array }> = {
  F32: (v) => ({ bytes: new Uint8Array(v.buffer.slice(0)), decoded: Float64Array.from(v) }),
  BF16: (v) => encode16(v, f32ToBf16Bits, (h) => new Float32Array(new Uint32Array([h << 16]).buffer)[0]!),
  F16: (v) => {
    const bits = Uint16Array.from(v, (x) => f32ToF16Bits(x));
    return { bytes: new Uint8Array(bits.buffer), decoded: Float64Array.from(bits, (h) => halfToNumber(h)) };
  },
};

function encode16(v: Float32Array, toBits: (x: number) => number, fromBits: (h: number) => number) {
  const bits = Uint16Array.from(v, (x) => toBits(x));
  return { bytes: new Uint8Array(bits.buffer), decoded: Float64Array.from(bits, (h) => fromBits(h)) };
}

/** IEEE binary16 → number, written out from the format's definition (independent of the kernels) */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const familyArbitrary = fc.record({
  models: fc.constantFrom(1, 2, 3, 3, 4),
  lengths: fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 3 }),
  dtypes: fc.array(fc.constantFrom<'F32' | 'BF16' | 'F16'>('F32', 'BF16', 'F16'), { minLength: 5, maxLength: 5 }),
  offset: fc.constantFrom(0, 0.5, -3),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

test('random families (any dtype per model, 1–4 models, odd lengths, a common delta offset): 1e-12 of float64, equal for 1 and 2 workers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-kinship-pool-'));
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(familyArbitrary, async ({ models, lengths, dtypes, offset, seed }) => {
        let state = seed;
        const uniform = () => ((state = (Math.imul(state, 48271) % 2147483647) >>> 0) / 2147483647) * 2 - 1;
        const folder = join(dir, `run-${run++}`);
        const deltas: number[][] = Array.from({ length: models }, () => []);
        const paths: string[] = [];
        const baseValues = lengths.map((n) => Float32Array.from({ length: n }, () => uniform()));
        const shared = lengths.map((n) => Float32Array.from({ length: n }, () => 0.1 * uniform()));
        const decodedBase: Float64Array[] = [];
        for (let m = 0; m <= models; m++) {
          const dtype = dtypes[m]! as DType & keyof typeof ENCODE;
          const tensors = lengths.map((n, t) => {
            const values = m === 0 ? baseValues[t]! : Float32Array.from(baseValues[t]!, (b, k) => b + offset + shared[t]![k]! + 0.05 * uniform());
            const { bytes, decoded } = ENCODE[dtype](values);
            if (m === 0) decodedBase.push(decoded);
            else for (let k = 0; k < n; k++) deltas[m - 1]!.push(decoded[k]! - decodedBase[t]![k]!);
            return { name: `t${t}.weight`, dtype, shape: [n], data: bytes };
          });
          const path = join(folder + `-${m}.safetensors`);
          writeSafetensors(path, tensors);
          paths.push(path);
        }
        const opened: Checkpoint[] = paths.map((p) => openCheckpoint(p));
        try {
          const referenceDeltas = deltas.map((d) => Float64Array.from(d));
          const one = await computeKinshipOnPool(pools[1]!.pool, opened[0]!, opened.slice(1), { metrics: METRICS });
          const two = await computeKinshipOnPool(pools[2]!.pool, opened[0]!, opened.slice(1), { metrics: METRICS });
          assertMatchesReference(two, referenceDeltas, `seed ${seed}:`);
          assert.deepEqual(one.matrices, two.matrices);
          // without ed the kernel skips the squared differences (and for 3 models takes its register-only path)
          const similarities = ['pcc', 'cs', 'cs_abs'] as const;
          const oneSimilar = await computeKinshipOnPool(pools[1]!.pool, opened[0]!, opened.slice(1), { metrics: [...similarities] });
          const twoSimilar = await computeKinshipOnPool(pools[2]!.pool, opened[0]!, opened.slice(1), { metrics: [...similarities] });
          assertMatchesReference(twoSimilar, referenceDeltas, `seed ${seed}, similarities only:`);
          assert.deepEqual(oneSimilar.matrices, twoSimilar.matrices);
        } finally {
          opened.forEach((c) => c.close());
          paths.forEach((p) => rmSync(p, { force: true }));
        }
      }),
      { numRuns: 25 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MomentSet combining two blocks equals the moments of their union (Chan et al.)', () => {
  // two models, blocks [1, 2] / [3, 5] and [0] / [4]: union x = 1, 2, 0, y = 3, 5, 4
  const set = new MomentSet(2);
  // record: means (x̄, ȳ), centred (xx, xy, yy), squared difference of centred values
  set.add(Float64Array.from([1.5, 4, 0.5, 1, 2, 0.5]), 0, 2, true);
  set.add(Float64Array.from([0, 4, 0, 0, 0, 0]), 0, 1, true);
  const m = set.pair(0, 1);
  assert.equal(m.count, 3);
  assert.ok(close(m.meanX, 1) && close(m.meanY, 4));
  assert.ok(close(m.m2x, 2) && close(m.m2y, 2) && close(m.coMoment, 1));
  // x − y = −2, −3, −4: centred squares 1 + 0 + 1
  assert.ok(close(m.centredSquaredDifference, 2));
});
