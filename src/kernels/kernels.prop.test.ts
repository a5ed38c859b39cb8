// Property tests: on arbitrary inputs (NaN, ±Infinity, subnormals, −0 included) the wasm kernels agree with
// the reference kernels. Arithmetic results are compared as values (a NaN result's payload is unspecified in
// WebAssembly); conversions are compared as bit patterns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KernelPool } from './pool.js';
import { referenceKernels } from './index.js';

let pool: KernelPool;

before(async () => {
  pool = await KernelPool.create({ workers: 1, minParallelElements: 0 });
});

after(async () => {
  await pool.close();
});

const RUNS = { numRuns: 150 };

function sameValues(actual: Float32Array, expected: Float32Array): boolean {
  return actual.every((v, i) => Object.is(v, expected[i]) || (Number.isNaN(v) && Number.isNaN(expected[i]!)));
}

/** `count` arrays of one shared arbitrary length. */
const arraysOfOneLength = (count: number) =>
  fc.nat({ max: 70 }).chain((n) => fc.array(fc.float32Array({ minLength: n, maxLength: n }), { minLength: count, maxLength: count }));

const weight = fc.float({ noNaN: true, min: -4, max: 4 });

test('weightedSum: wasm = reference on arbitrary float32 inputs', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }).chain((count) => fc.tuple(arraysOfOneLength(count), fc.array(weight, { minLength: count, maxLength: count }))),
      async ([inputs, weights]) => {
        const n = inputs[0]!.length;
        const fast = new Float32Array(n);
        const slow = new Float32Array(n);
        await pool.weightedSum(fast, inputs, weights);
        await referenceKernels.weightedSum(slow, inputs, weights);
        return sameValues(fast, slow);
      },
    ),
    RUNS,
  );
});

test('tiesMix: wasm = reference on arbitrary inputs, thresholds, weights and flags', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }).chain((count) =>
        fc.tuple(
          arraysOfOneLength(count + 1),
          fc.array(fc.float({ noNaN: true, min: 0, max: 2 }), { minLength: count, maxLength: count }),
          fc.array(weight, { minLength: count, maxLength: count }),
          weight,
          fc.boolean(),
          fc.boolean(),
        ),
      ),
      async ([[base, ...models], thresholds, weights, lambda, consensus, normalize]) => {
        const options = { thresholds, weights, lambda, consensus, normalize };
        const fast = new Float32Array(base!.length);
        const slow = new Float32Array(base!.length);
        await pool.tiesMix(fast, base!, models, options);
        await referenceKernels.tiesMix(slow, base!, models, options);
        return sameValues(fast, slow);
      },
    ),
    RUNS,
  );
});

test('f32 → bf16 / f16 and back: wasm = reference bit for bit on arbitrary bit patterns', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint32Array({ maxLength: 80 }), async (bits) => {
      const input = new Float32Array(bits.buffer, bits.byteOffset, bits.length);
      for (const [narrow, widen] of [
        ['f32ToBf16', 'bf16ToF32'],
        ['f32ToF16', 'f16ToF32'],
      ] as const) {
        const fast = new Uint16Array(bits.length);
        const slow = new Uint16Array(bits.length);
        await pool[narrow](input, fast);
        await referenceKernels[narrow](input, slow);
        assert.deepEqual(fast, slow, narrow);
        const fastWide = new Float32Array(bits.length);
        const slowWide = new Float32Array(bits.length);
        await pool[widen](fast, fastWide);
        await referenceKernels[widen](slow, slowWide);
        assert.deepEqual(new Uint32Array(fastWide.buffer), new Uint32Array(slowWide.buffer), widen);
      }
    }),
    RUNS,
  );
});

test('deltaStats: wasm within 1e-9 of the float64 reference on finite inputs', async () => {
  const finite = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: 70 }).chain((n) => fc.array(fc.array(finite, { minLength: n, maxLength: n }), { minLength: 3, maxLength: 3 })),
      fc.boolean(),
      async ([a, b, base], withBase) => {
        const [fa, fb, fz] = [a!, b!, base!].map((v) => Float32Array.from(v));
        const fast = await pool.deltaStats(fa!, fb!, withBase ? fz : undefined);
        const slow = await referenceKernels.deltaStats(fa!, fb!, withBase ? fz : undefined);
        const magnitude = await referenceKernels.deltaStats(fa!.map(Math.abs), fb!.map(Math.abs));
        const baseMagnitude = withBase ? fz!.reduce((s, v) => s + Math.abs(v), 0) : 0;
        const bound = (x: number) => 1e-9 * (x + baseMagnitude);
        return (
          Math.abs(fast.sumX - slow.sumX) <= bound(magnitude.sumX) &&
          Math.abs(fast.sumY - slow.sumY) <= bound(magnitude.sumY) &&
          Math.abs(fast.sumXX - slow.sumXX) <= 1e-9 * slow.sumXX &&
          Math.abs(fast.sumYY - slow.sumYY) <= 1e-9 * slow.sumYY &&
          Math.abs(fast.sumXY - slow.sumXY) <= 1e-9 * Math.sqrt(slow.sumXX * slow.sumYY)
        );
      },
    ),
    RUNS,
  );
});

test('absHistogram11: wasm = reference and the bins sum to the length', async () => {
  await fc.assert(
    fc.asyncProperty(fc.float32Array({ maxLength: 100 }), async (x) => {
      const fast = new Uint32Array(2048);
      const slow = new Uint32Array(2048);
      await pool.absHistogram11(x, fast);
      await referenceKernels.absHistogram11(x, slow);
      assert.deepEqual(fast, slow);
      assert.equal(fast.reduce((s, c) => s + c, 0), x.length);
    }),
    RUNS,
  );
});
