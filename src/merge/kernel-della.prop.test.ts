// DELLA's rank-free kernel path (assembly/della-l1.ts: the l1 rescale and no rescale) against the reference
// sparsify, bit for bit, on rows built to reach each of its decisions: the sure keeps and drops, bucket bounds,
// the exact ranks of crowded buckets, zeros, one-bucket rows, windows too steep for it (the ranked path).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { counterStream } from '../core/counter-rng.js';
import { KernelPool } from '../kernels/pool.js';
import { KernelSparsifier } from './kernel-sparsify.js';
import { sparsify, type SparsifyOptions } from './sparsify.js';

const pools: KernelPool[] = [];
before(async () => {
  for (const workers of [0, 2]) pools.push(await KernelPool.create({ workers, minParallelElements: 256 }));
});
after(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

async function onKernels(pool: KernelPool, delta: Float32Array, options: SparsifyOptions): Promise<Float32Array> {
  const mark = pool.arena.mark();
  try {
    const sparsifier = new KernelSparsifier(pool, delta.length, options.shape[options.shape.length - 1]!);
    const work = pool.arena.f32(delta.length);
    work.set(delta);
    const factor = await sparsifier.sparsify('della_magprune', work, options);
    const out = work.slice();
    if (factor !== 1) for (let j = 0; j < out.length; j++) out[j] = out[j]! * factor;
    return out;
  } finally {
    pool.arena.release(mark);
  }
}

async function assertReference(delta: Float32Array, rows: number, density: number, epsilon: number, rescale: 'l1' | 'none', seed: number): Promise<void> {
  const options: SparsifyOptions = {
    density,
    epsilon,
    rescale,
    shape: [rows, delta.length / rows],
    tensorName: 'model.layers.3.mlp.down_proj.weight',
    modelRef: 'expert',
    stream: counterStream(seed, 'model.layers.3.mlp.down_proj.weight', 'expert'),
  };
  const reference = sparsify('della_magprune', delta.slice(), { ...options, inPlace: true });
  for (const pool of pools) {
    const got = await onKernels(pool, delta, options);
    const at = got.findIndex((v, i) => !Object.is(v, reference[i]));
    assert.equal(at, -1, `${rows} rows of ${delta.length / rows}, density ${density}, ε ${epsilon}, ${rescale}, ${pool.workerCount} workers: element ${at} is ${got[at]}, reference ${reference[at]}`);
  }
}

// any float32 (subnormals, ±0), a few tied magnitudes, or a crowd 1 + k·2^-20 sharing one or two buckets
const anyValue = fc.float({ noNaN: true, noDefaultInfinity: true });
const tiedValue = fc.constantFrom(0, -0, 0.5, -0.5, 1, -1, 0.25, 2);
const crowdValue = fc.integer({ min: -300, max: 300 }).map((k) => Math.fround((1 + Math.abs(k) * 2 ** -20) * Math.sign(k || 1)));
const value = fc.oneof(anyValue, tiedValue, crowdValue);

const window = fc.record({
  density: fc.double({ min: 0.02, max: 0.98, noNaN: true }),
  share: fc.oneof(fc.double({ min: 0, max: 0.999, noNaN: true }), fc.constantFrom(0, 1e-9, 1e-6, 0.999999)),
});

test('kernel DELLA (l1 and no rescale): bit for bit the reference on random rows and windows, 0 and 2 workers', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 2, max: 300 }),
      fc.array(value, { minLength: 1200, maxLength: 1200 }),
      window,
      fc.constantFrom('l1' as const, 'none' as const),
      fc.integer({ min: 0, max: 1000 }),
      async (rows, row, values, { density, share }, rescale, seed) => {
        // ε = share of the room the window has inside (0, 1)
        const epsilon = share * Math.min(density, 1 - density);
        if (!(density - epsilon > 0 && density + epsilon < 1)) return;
        await assertReference(Float32Array.from(values.slice(0, rows * row)), rows, density, epsilon, rescale, seed);
      },
    ),
    { numRuns: 120, seed: 1607 },
  );
});

test('kernel DELLA (l1): the real rows of a merge (5,632 wide), a top keep odds within 2^-32 of 1, all-zero and one-value rows', async () => {
  // |δ| spread over exponents like a fine-tune's, signs mixed, a few exact zeros
  const row = 5632;
  const delta = new Float32Array(3 * row);
  let s = 12345;
  for (let i = 0; i < row; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const magnitude = 2 ** -(8 + (s % 17)) * (1 + ((s >>> 8) % 1000) / 1000);
    delta[i] = s % 97 === 0 ? 0 : s & 1 ? magnitude : -magnitude;
  }
  delta.fill(0.375, 2 * row);
  await assertReference(delta, 3, 0.2, 0.15, 'l1', 7);
  await assertReference(delta, 3, 0.5, 0.5 - 2 ** -34, 'l1', 8);
  await assertReference(delta, 3, 0.5, 1e-7, 'none', 9);
});
