// Differential tests: every WebAssembly kernel against the plain-TS reference (src/kernels/reference/wasm-refs.ts),
// on the calling thread, on 1 and 2 workers, on 1 worker plus the calling thread, and streamed through small
// staging chunks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, type Rng } from '../core/rng.js';
import { KernelPool } from './pool.js';
import {
  absHistogram11Ref,
  bf16ToF32Ref,
  deltaStatsRef,
  f16ToF32Ref,
  f32ToBf16Ref,
  f32ToF16Ref,
  tiesMixRef,
  weightedSumRef,
  type TiesMixOptions,
} from './reference/wasm-refs.js';
import { bf16ToF32Array, f16ToF32Array, f32ToBf16Array, f32ToF16Array } from '../core/float16.js';

const BLOCK = 16384;
const ODD_LENGTHS = [0, 1, 3, 5, 7, 9, 15, 17, 31, 33, 63, 65, 1023, BLOCK + 1, 2 * BLOCK + 13, 3 * BLOCK - 5];

type Pools = Record<'inline' | 'oneWorker' | 'twoWorkers' | 'chunked' | 'workerAndCaller', KernelPool>;
let pools: Pools;

before(async () => {
  pools = {
    inline: await KernelPool.create({ workers: 0 }),
    oneWorker: await KernelPool.create({ workers: 1, minParallelElements: 0 }),
    twoWorkers: await KernelPool.create({ workers: 2, minParallelElements: 0 }),
    // One split block per staging chunk: the most chunk boundaries possible.
    chunked: await KernelPool.create({ workers: 2, minParallelElements: 0, chunkBytes: BLOCK * 4 }),
    // one worker, and the calling thread computes the other part of every call
    workerAndCaller: await KernelPool.create({ workers: 1, minParallelElements: 0, callerTakesPart: true }),
  };
});

after(async () => {
  await Promise.all(Object.values(pools).map((pool) => pool.close()));
});

function gaussian(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

function assertSameBits(actual: Float32Array | Uint16Array, expected: Float32Array | Uint16Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = actual instanceof Float32Array ? new Uint32Array(actual.buffer, actual.byteOffset, actual.length) : actual;
  const e = expected instanceof Float32Array ? new Uint32Array(expected.buffer, expected.byteOffset, expected.length) : expected;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what}: element ${i} has bits 0x${a[i]!.toString(16)}, expected 0x${e[i]!.toString(16)}`);
  }
}

const allPatterns = Uint16Array.from({ length: 65536 }, (_, i) => i);

/** f32 inputs that stress rounding: decoded 16-bit values, exact midpoints between them, edge cases, random bits. */
function conversionInputs(): Float32Array {
  const values: number[] = [];
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  const push = (b: number): void => {
    bits[0] = b >>> 0;
    values.push(asFloat[0]!);
  };
  const f16 = new Float32Array(65536);
  f16ToF32Ref(allPatterns, f16);
  for (let i = 0; i < 65536; i++) {
    values.push(f16[i]!);
    // midpoint to the next f16 and its f32 neighbours (ties and near-ties)
    const next = f16[(i + 1) & 0xffff]!;
    if (Number.isFinite(f16[i]!) && Number.isFinite(next) && Math.sign(next) === Math.sign(f16[i]!)) {
      const mid = Math.fround((f16[i]! + next) / 2);
      asFloat[0] = mid;
      const m = bits[0]!;
      push(m);
      push(m + 1);
      push(m - 1);
    }
    push(i << 16); // every bf16 value
    push((i << 16) | 0x8000); // bf16 ties
    push((i << 16) | 0x8001);
    push((i << 16) | 0x7fff);
  }
  for (const edge of [0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45,
    1.1754943508222875e-38, 65504, 65519.99609375, 65520, 65536, 2 ** -24, 2 ** -25, 2 ** -26, 2 ** -14]) values.push(edge);
  for (const b of [0x7f800001, 0x7fc00000, 0x7fffffff, 0xff800001, 0xffc00001, 0xffffffff, 0x7fbfffff, 0x00000001]) push(b);
  const rng = createRng('kernels-test', 'random-bits');
  for (let i = 0; i < 1 << 18; i++) push(rng.nextUint32());
  return Float32Array.from(values);
}

describe('dtype conversions are bit-exact against the reference', () => {
  test('bf16 → f32 and f16 → f32 on all 65,536 patterns, every pool', async () => {
    const expectedBf16 = new Float32Array(65536);
    bf16ToF32Ref(allPatterns, expectedBf16);
    const expectedF16 = new Float32Array(65536);
    f16ToF32Ref(allPatterns, expectedF16);
    for (const [name, pool] of Object.entries(pools)) {
      const out = new Float32Array(65536);
      await pool.bf16ToF32(allPatterns, out);
      assertSameBits(out, expectedBf16, `${name} bf16ToF32`);
      await pool.f16ToF32(allPatterns, out);
      assertSameBits(out, expectedF16, `${name} f16ToF32`);
    }
  });

  test('f32 → bf16 and f32 → f16 on edge cases, exact midpoints and random bit patterns', async () => {
    const input = conversionInputs();
    const expectedBf16 = new Uint16Array(input.length);
    f32ToBf16Ref(input, expectedBf16);
    const expectedF16 = new Uint16Array(input.length);
    f32ToF16Ref(input, expectedF16);
    for (const [name, pool] of Object.entries(pools)) {
      const out = new Uint16Array(input.length);
      await pool.f32ToBf16(input, out);
      assertSameBits(out, expectedBf16, `${name} f32ToBf16`);
      await pool.f32ToF16(input, out);
      assertSameBits(out, expectedF16, `${name} f32ToF16`);
    }
  });

  test('agree with the project conversion reference (core/float16.ts) bit for bit', async () => {
    const input = conversionInputs();
    const pool = pools.twoWorkers;
    const narrow = new Uint16Array(input.length);
    const expectedNarrow = new Uint16Array(input.length);
    for (const [kernel, reference] of [['f32ToBf16', f32ToBf16Array], ['f32ToF16', f32ToF16Array]] as const) {
      await pool[kernel](input, narrow);
      reference(input, expectedNarrow);
      assertSameBits(narrow, expectedNarrow, `${kernel} vs float16.ts`);
    }
    const wide = new Float32Array(65536);
    const expectedWide = new Float32Array(65536);
    for (const [kernel, reference] of [['bf16ToF32', bf16ToF32Array], ['f16ToF32', f16ToF32Array]] as const) {
      await pool[kernel](allPatterns, wide);
      reference(allPatterns, expectedWide);
      assertSameBits(wide, expectedWide, `${kernel} vs float16.ts`);
    }
  });

  test('odd lengths and empty arrays (scalar tails)', async () => {
    const source = conversionInputs();
    for (const n of ODD_LENGTHS) {
      const input = source.subarray(1000, 1000 + n);
      const expected = new Uint16Array(n);
      const out = new Uint16Array(n);
      f32ToF16Ref(input, expected);
      await pools.twoWorkers.f32ToF16(input, out);
      assertSameBits(out, expected, `f32ToF16 n=${n}`);
      f32ToBf16Ref(input, expected);
      await pools.inline.f32ToBf16(input, out);
      assertSameBits(out, expected, `f32ToBf16 n=${n}`);
      const halves = Uint16Array.from({ length: n }, (_, i) => (31000 + 7 * i) & 0xffff);
      const wide = new Float32Array(n);
      const wideExpected = new Float32Array(n);
      f16ToF32Ref(halves, wideExpected);
      await pools.chunked.f16ToF32(halves, wide);
      assertSameBits(wide, wideExpected, `f16ToF32 n=${n}`);
    }
  });
});

describe('weightedSum', () => {
  test('equals the float32 reference bit for bit for 0–5 inputs and odd lengths', async () => {
    const rng = createRng('kernels-test', 'weighted-sum');
    for (const count of [0, 1, 2, 3, 5]) {
      for (const n of ODD_LENGTHS) {
        const inputs = Array.from({ length: count }, () => gaussian(rng, n));
        const weights = Array.from({ length: count }, () => rng.normal());
        const expected = new Float32Array(n);
        weightedSumRef(expected, inputs, weights);
        for (const [name, pool] of Object.entries(pools)) {
          const out = new Float32Array(n).fill(NaN);
          await pool.weightedSum(out, inputs, weights);
          assertSameBits(out, expected, `${name} count=${count} n=${n}`);
        }
      }
    }
  });

  test('agrees with a float64 weighted sum to 1e-6 relative', async () => {
    const rng = createRng('kernels-test', 'weighted-sum-f64');
    const n = 100_003;
    const inputs = Array.from({ length: 4 }, () => gaussian(rng, n, 0.02));
    const weights = [0.4, 0.3, 0.2, 0.1];
    const out = new Float32Array(n);
    await pools.twoWorkers.weightedSum(out, inputs, weights);
    for (let i = 0; i < n; i++) {
      let exact = 0;
      let magnitude = 0;
      for (let j = 0; j < 4; j++) {
        exact += weights[j]! * inputs[j]![i]!;
        magnitude += Math.abs(weights[j]! * inputs[j]![i]!);
      }
      assert.ok(Math.abs(out[i]! - exact) <= 1e-6 * magnitude, `element ${i}: ${out[i]} vs ${exact}`);
    }
  });

  test('works in place (out is one of the inputs) and on arena-resident arrays', async () => {
    const rng = createRng('kernels-test', 'in-place');
    const n = 2 * BLOCK + 77;
    const a = gaussian(rng, n);
    const b = gaussian(rng, n);
    const expected = new Float32Array(n);
    weightedSumRef(expected, [a, b], [0.25, 0.75]);
    const pool = pools.twoWorkers;
    const mark = pool.arena.mark();
    const residentA = pool.arena.f32(n);
    const residentB = pool.arena.f32(n);
    residentA.set(a);
    residentB.set(b);
    assert.ok(pool.arena.owns(residentA) && !pool.arena.owns(a));
    await pool.weightedSum(residentA, [residentA, residentB], [0.25, 0.75]);
    assertSameBits(residentA, expected, 'resident in place');
    pool.arena.release(mark);
    const copy = a.slice();
    await pools.chunked.weightedSum(copy, [copy, b], [0.25, 0.75]);
    assertSameBits(copy, expected, 'streamed in place');
  });
});

describe('deltaStats', () => {
  function assertClose(actual: number, expected: number, scale: number, what: string): void {
    assert.ok(Math.abs(actual - expected) <= 1e-9 * scale, `${what}: ${actual} vs ${expected} (scale ${scale})`);
  }

  test('matches the float64 reference to 1e-9 relative, with and without base, odd lengths', async () => {
    const rng = createRng('kernels-test', 'delta-stats');
    for (const n of [...ODD_LENGTHS, 200_001]) {
      const base = gaussian(rng, n, 0.05);
      const a = base.map((v) => v + rng.normal() * 1e-3);
      const b = base.map((v) => v + rng.normal() * 1e-3);
      for (const withBase of [true, false]) {
        const expected = deltaStatsRef(a, b, withBase ? base : undefined);
        // Scale: the sum of |terms| bounds every float64 summation error.
        const abs = deltaStatsRef(a.map(Math.abs), b.map(Math.abs));
        const zAbs = withBase ? deltaStatsRef(base.map(Math.abs), base.map(Math.abs)).sumX : 0;
        const scaleX = abs.sumX + zAbs;
        const scaleY = abs.sumY + zAbs;
        for (const [name, pool] of Object.entries(pools)) {
          const got = await pool.deltaStats(a, b, withBase ? base : undefined);
          const what = `${name} n=${n} base=${withBase}`;
          assert.equal(got.n, n);
          assertClose(got.sumX, expected.sumX, scaleX, `${what} sumX`);
          assertClose(got.sumY, expected.sumY, scaleY, `${what} sumY`);
          assertClose(got.sumXX, expected.sumXX, expected.sumXX, `${what} sumXX`);
          assertClose(got.sumYY, expected.sumYY, expected.sumYY, `${what} sumYY`);
          assertClose(got.sumXY, expected.sumXY, Math.sqrt(expected.sumXX * expected.sumYY), `${what} sumXY`);
        }
      }
    }
  });

  test('is bit-identical for any worker count and chunk size', async () => {
    const rng = createRng('kernels-test', 'delta-stats-split');
    const n = 5 * BLOCK + 321;
    const [a, b, base] = [gaussian(rng, n), gaussian(rng, n), gaussian(rng, n)];
    const results = await Promise.all(Object.values(pools).map((pool) => pool.deltaStats(a!, b!, base!)));
    for (const result of results.slice(1)) assert.deepEqual(result, results[0]);
  });
});

describe('tiesMix', () => {
  test('equals the float32 reference bit for bit for every flag combination, 1–4 models, odd lengths', async () => {
    const rng = createRng('kernels-test', 'ties');
    for (const count of [1, 2, 3, 4]) {
      for (const n of ODD_LENGTHS) {
        const base = gaussian(rng, n, 0.05);
        const models = Array.from({ length: count }, () => base.map((v) => v + rng.normal() * 1e-2));
        const weights = Array.from({ length: count }, (_, j) => (j === 1 ? -0.5 : 0.2 + rng.next()));
        // Each threshold is the |δ| of one element, so that element sits exactly on the cut (kept: |δ| ≥ t).
        const thresholds = models.map((m) => {
          if (n === 0) return 0;
          const k = rng.int(n);
          return Math.abs(Math.fround(m[k]! - base[k]!));
        });
        for (const consensus of [true, false]) {
          for (const normalize of [true, false]) {
            const options: TiesMixOptions = { thresholds, weights, lambda: 1.3, consensus, normalize };
            const expected = new Float32Array(n);
            tiesMixRef(expected, base, models, options);
            for (const [name, pool] of Object.entries(pools)) {
              const out = new Float32Array(n).fill(NaN);
              await pool.tiesMix(out, base, models, options);
              assertSameBits(out, expected, `${name} count=${count} n=${n} consensus=${consensus} normalize=${normalize}`);
            }
          }
        }
      }
    }
  });

  test('agrees with a float64 evaluation of §3.6 to 1e-6 relative away from sign ties', async () => {
    const rng = createRng('kernels-test', 'ties-f64');
    const n = 50_001;
    const base = gaussian(rng, n, 0.05);
    const models = Array.from({ length: 3 }, () => base.map((v) => v + rng.normal() * 1e-2));
    const options: TiesMixOptions = { thresholds: [0.004, 0.006, 0.008], weights: [1, 0.7, 0.4], lambda: 1, consensus: true, normalize: true };
    const out = new Float32Array(n);
    await pools.twoWorkers.tiesMix(out, base, models, options);
    let compared = 0;
    for (let i = 0; i < n; i++) {
      const d = models.map((m, j) => {
        const delta = m[i]! - base[i]!;
        return Math.abs(delta) >= options.thresholds[j]! ? options.weights[j]! * delta : 0;
      });
      const total = d.reduce((s, v) => s + v, 0);
      const magnitude = d.reduce((s, v) => s + Math.abs(v), 0);
      if (Math.abs(total) < 1e-4 * magnitude) continue; // election within rounding of a tie
      const positive = total >= 0;
      let mixed = 0;
      let divisor = 0;
      d.forEach((v, j) => {
        if (positive ? v > 0 : v < 0) {
          mixed += v;
          divisor += options.weights[j]!;
        }
      });
      if (Math.abs(divisor) < 1e-8) divisor = 1;
      const exact = base[i]! + mixed / divisor;
      assert.ok(Math.abs(out[i]! - exact) <= 1e-6 * (Math.abs(base[i]!) + magnitude), `element ${i}: ${out[i]} vs ${exact}`);
      compared++;
    }
    assert.ok(compared > n * 0.9);
  });
});

describe('absHistogram11', () => {
  test('matches the reference, accumulates across calls, counts every element', async () => {
    const rng = createRng('kernels-test', 'histogram');
    for (const n of [...ODD_LENGTHS, 100_003]) {
      const x = gaussian(rng, n, 0.01);
      if (n > 10) x.set([0, -0, Infinity, NaN, 1e-45, -3e38], 3);
      const expected = new Uint32Array(2048);
      absHistogram11Ref(x, expected);
      absHistogram11Ref(x, expected);
      for (const [name, pool] of Object.entries(pools)) {
        const hist = new Uint32Array(2048);
        await pool.absHistogram11(x, hist);
        await pool.absHistogram11(x, hist);
        assert.deepEqual(hist, expected, `${name} n=${n}`);
        assert.equal(hist.reduce((s, c) => s + c, 0), 2 * n);
      }
    }
  });
});

test('callerTakesPart: the calling thread runs the last part itself, so one worker and the caller split each call', async () => {
  const pool = await KernelPool.create({ workers: 1, minParallelElements: 0, callerTakesPart: true });
  try {
    assert.equal(pool.workerCount, 1);
    assert.equal(pool.partCount, 2);
    const n = 4 * BLOCK;
    const parts: number[][] = [];
    const x = pool.arena.f32(n);
    x.fill(3);
    const status = pool.arena.u32(1);
    status[0] = 0;
    await pool.runSplit('findNonFinite', n, (start, length, part) => {
      parts.push([start, length, part]);
      return [x.byteOffset + start * 4, length, status.byteOffset];
    });
    assert.deepEqual(parts, [[0, 2 * BLOCK, 0], [2 * BLOCK, 2 * BLOCK, 1]]);
    // a non-finite value in the caller's part is found there (status is shared memory)
    x[3 * BLOCK + 5] = Number.POSITIVE_INFINITY;
    await pool.runSplit('findNonFinite', n, (start, length) => [x.byteOffset + start * 4, length, status.byteOffset]);
    assert.equal(status[0], 1);
  } finally {
    await pool.close();
  }
});
