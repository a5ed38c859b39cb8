import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { counterStream } from '../core/counter-rng.js';
import { KernelPool } from '../kernels/pool.js';
import { KernelSparsifier } from './kernel-sparsify.js';
import { l1Norm, sparsify, type SparsifierName, type SparsifyOptions } from './sparsify.js';

// 40 rows × 2,600: 104,000 elements, more than two 16,384-element blocks per worker range, so 2 workers cut the
// tensor in two ranges and the ties at every cut straddle them
const ROWS = 40;
const ROW = 2600;
const N = ROWS * ROW;

/** Coarse values (multiples of 1/64 in [−2, 2]): thousands of entries tie at every cut. */
function tiedDelta(seed: number): Float32Array {
  const out = new Float32Array(N);
  let s = seed >>> 0;
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (Math.floor((s / 2 ** 32) * 257) - 128) / 64;
  }
  return out;
}

const pools: KernelPool[] = [];
before(async () => {
  for (const workers of [0, 1, 2]) pools.push(await KernelPool.create({ workers, minParallelElements: 256 }));
});
after(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

function optionsFor(name: SparsifierName, extra: Partial<SparsifyOptions>): SparsifyOptions {
  const random = name === 'random' || name === 'della_magprune';
  return {
    density: 0.3,
    rescale: 'none',
    shape: [ROWS, ROW],
    tensorName: 'model.layers.0.mlp.up_proj.weight',
    modelRef: 'expert',
    ...(random ? { stream: counterStream(5, 'model.layers.0.mlp.up_proj.weight', 'expert') } : {}),
    ...extra,
  };
}

/** Runs the kernel sparsifier on an arena copy of `delta`; returns the kept values after its l1 factor. */
async function onKernels(pool: KernelPool, name: SparsifierName, delta: Float32Array, options: SparsifyOptions): Promise<Float32Array> {
  const mark = pool.arena.mark();
  try {
    const sparsifier = new KernelSparsifier(pool, delta.length, options.shape[options.shape.length - 1]!);
    const work = pool.arena.f32(delta.length);
    work.set(delta);
    const factor = await sparsifier.sparsify(name, work, options);
    const out = work.slice();
    if (factor !== 1) for (let j = 0; j < out.length; j++) out[j] = out[j]! * factor;
    return out;
  } finally {
    pool.arena.release(mark);
  }
}

const CASES: readonly { name: SparsifierName; extra: Partial<SparsifyOptions> }[] = [
  { name: 'magnitude', extra: {} },
  { name: 'magnitude', extra: { density: 0.9, rescale: 'l1' } },
  { name: 'magnitude', extra: { density: 0.05, rescale: 'inverse_density' } },
  { name: 'magnitude_outliers', extra: { gamma: 0.02 } },
  { name: 'magnitude_outliers', extra: { density: 0.6, gamma: 0.1, rescale: 'l1' } },
  { name: 'magnitude_outliers', extra: { gamma: 0 } },
  { name: 'random', extra: { rescale: 'l1' } },
  { name: 'random', extra: { density: 0.7, rescale: 'inverse_density' } },
  { name: 'della_magprune', extra: { rescale: 'l1' } },
  { name: 'della_magprune', extra: { density: 0.5, epsilon: 0.3, rescale: 'inverse_density' } },
];

for (const { name, extra } of CASES) {
  test(`kernel ${name} ${JSON.stringify(extra)}: bit for bit the reference sparsify on 0, 1 and 2 workers`, async () => {
    const delta = tiedDelta(name.length * 31 + Object.keys(extra).length);
    const options = optionsFor(name, extra);
    const reference = sparsify(name, delta.slice(), { ...options, inPlace: true });
    for (const pool of pools) {
      const got = await onKernels(pool, name, delta, options);
      const at = got.findIndex((v, i) => !Object.is(v, reference[i]));
      assert.equal(at, -1, `${pool.workerCount} workers: element ${at} is ${got[at]}, reference ${reference[at]}`);
    }
  });
}

test('kernel magnitude: exactly k entries kept, ties at the cut kept lowest index first', async () => {
  const delta = tiedDelta(3);
  const got = await onKernels(pools[2]!, 'magnitude', delta, optionsFor('magnitude', {}));
  const k = Math.floor(0.3 * N);
  const kept = [...got.keys()].filter((i) => got[i] !== 0);
  assert.equal(kept.length, k);
  const smallestKept = Math.min(...kept.map((i) => Math.abs(delta[i]!)));
  const dropped = [...delta.keys()].filter((i) => got[i] === 0 && delta[i] !== 0);
  const largestDropped = Math.max(...dropped.map((i) => Math.abs(delta[i]!)));
  assert.ok(smallestKept >= largestDropped);
  // every tied entry kept comes before every tied entry dropped
  const lastKeptTie = Math.max(...kept.filter((i) => Math.abs(delta[i]!) === smallestKept));
  const firstDroppedTie = Math.min(...dropped.filter((i) => Math.abs(delta[i]!) === smallestKept));
  assert.ok(lastKeptTie < firstDroppedTie, `tie kept at ${lastKeptTie} after a tie dropped at ${firstDroppedTie}`);
});

test('kernel DARE mask: keep rate within 5σ of the binomial, kept values scaled by 1/density, l1 norm matched', async () => {
  const delta = Float32Array.from({ length: N }, (_, i) => 1 + (i % 7) / 8);
  for (const density of [0.05, 0.3, 0.9]) {
    const inverse = await onKernels(pools[2]!, 'random', delta, optionsFor('random', { density, rescale: 'inverse_density' }));
    const kept = inverse.filter((v) => v !== 0).length;
    const sigma = Math.sqrt(N * density * (1 - density));
    assert.ok(Math.abs(kept - N * density) < 5 * sigma, `density ${density}: kept ${kept} of ${N}`);
    inverse.forEach((v, i) => {
      if (v !== 0) assert.equal(v, Math.fround(delta[i]! * (1 / density)));
    });
    const l1 = await onKernels(pools[1]!, 'random', delta, optionsFor('random', { density, rescale: 'l1' }));
    let norm = 0;
    for (const v of l1) norm += Math.abs(v);
    assert.ok(Math.abs(norm / l1Norm(delta) - 1) < 1e-6, `l1 ratio ${norm / l1Norm(delta)}`);
  }
});

test('kernel DELLA: keep odds rise linearly with the rank in each row (float64 expectation, 5σ per decile)', async () => {
  // distinct magnitudes in every row, in a scrambled order
  const delta = new Float32Array(N);
  for (let r = 0; r < ROWS; r++) for (let j = 0; j < ROW; j++) delta[r * ROW + j] = (((j * 1031 + r * 7) % ROW) + 1) * (j % 2 ? -1 : 1);
  const density = 0.4;
  const epsilon = 0.2;
  const got = await onKernels(pools[2]!, 'della_magprune', delta, optionsFor('della_magprune', { density, epsilon, rescale: 'none' }));
  const deciles = 10;
  const kept = new Float64Array(deciles);
  const expected = new Float64Array(deciles);
  const variance = new Float64Array(deciles);
  for (let i = 0; i < N; i++) {
    const rank = Math.abs(delta[i]!) - 1; // magnitudes 1..ROW are their own ranks
    const p = density - epsilon + (2 * epsilon * rank) / (ROW - 1);
    const d = Math.min(deciles - 1, Math.floor((rank / ROW) * deciles));
    expected[d]! += p;
    variance[d]! += p * (1 - p);
    if (got[i] !== 0) {
      kept[d]!++;
      assert.equal(got[i], delta[i]);
    }
  }
  for (let d = 0; d < deciles; d++) {
    assert.ok(Math.abs(kept[d]! - expected[d]!) < 5 * Math.sqrt(variance[d]!), `decile ${d}: kept ${kept[d]}, expected ${expected[d]!.toFixed(1)}`);
  }
  assert.ok(kept[deciles - 1]! > kept[0]! * 2, 'top decile not kept more often than the bottom one');
});

/** δ of 16-bit inputs, mostly: 80% of the entries multiples of 2⁻⁹ (their low 11 bits 0), the rest full float32 */
function mostlyShortDelta(n: number): Float32Array {
  const delta = tiedDelta(n + 7).slice(0, n);
  for (let i = 0; i < n; i += 5) delta[i] = delta[i]! + Math.fround(((i * 7919) % 1000) * 1.2345e-7);
  return delta;
}

test('kernel DELLA on rows of 1001 (not a multiple of 4: the scalar tail) and of 1, on ties and on mostly-short patterns (a dominant radix digit): bit for bit the reference on 0, 1 and 2 workers', async () => {
  for (const [rows, row, make] of [[7, 1001, tiedDelta], [5, 1, tiedDelta], [6, 2048, mostlyShortDelta]] as const) {
    const delta = make(rows * row).slice(0, rows * row);
    for (const rescale of ['l1', 'inverse_density'] as const) {
      const options = { ...optionsFor('della_magprune', { rescale, density: 0.45, epsilon: 0.25 }), shape: [rows, row] };
      const reference = sparsify('della_magprune', delta.slice(), { ...options, inPlace: true });
      for (const pool of pools) {
        const got = await onKernels(pool, 'della_magprune', delta, options);
        const at = got.findIndex((v, i) => !Object.is(v, reference[i]));
        assert.equal(at, -1, `${rows}×${row}, ${rescale}, ${pool.workerCount} workers: element ${at} is ${got[at]}, reference ${reference[at]}`);
      }
    }
  }
});
