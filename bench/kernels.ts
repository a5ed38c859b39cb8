// Kernel throughput: plain TypeScript reference vs WebAssembly SIMD on 1 and 2 worker threads (engines.md §4),
// beside the memory-copy bandwidth of this machine measured in the same run.
// Usage: npm run bench:kernels [-- --n 67108864 --repeats 3]
// GB/s counts bytes read + written per element (10^9 bytes per second); wasm arrays live in the pool's arena.
import { availableParallelism, cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createRng } from '../src/core/rng.js';
import { KernelPool } from '../src/kernels/pool.js';
import { referenceKernels, type Kernels } from '../src/kernels/index.js';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const N = argument('n', 64 * 2 ** 20);
const REPEATS = argument('repeats', 3);

interface Arrays {
  base: Float32Array;
  a: Float32Array;
  b: Float32Array;
  out: Float32Array;
  half: Uint16Array;
  hist: Uint32Array;
}

interface Case {
  name: string;
  bytesPerElement: number;
  run(kernels: Kernels, x: Arrays): Promise<unknown>;
}

const CASES: Case[] = [
  { name: 'lerp: weightedSum, 2 inputs', bytesPerElement: 12, run: (k, x) => k.weightedSum(x.out, [x.a, x.b], [0.3, 0.7]) },
  { name: 'weightedSum, 4 inputs', bytesPerElement: 20, run: (k, x) => k.weightedSum(x.out, [x.a, x.b, x.base, x.out], [0.1, 0.2, 0.3, 0.4]) },
  { name: 'deltaStats with base (f64 sums)', bytesPerElement: 12, run: (k, x) => k.deltaStats(x.a, x.b, x.base) },
  {
    name: 'tiesMix, 2 models, consensus + normalize',
    bytesPerElement: 16,
    run: (k, x) =>
      k.tiesMix(x.out, x.base, [x.a, x.b], { thresholds: [0.01, 0.01], weights: [1, 1], lambda: 1, consensus: true, normalize: true }),
  },
  { name: 'bf16 → f32', bytesPerElement: 6, run: (k, x) => k.bf16ToF32(x.half, x.out) },
  { name: 'f32 → bf16 (RNE, NaN-safe)', bytesPerElement: 6, run: (k, x) => k.f32ToBf16(x.a, x.half) },
  { name: 'f16 → f32', bytesPerElement: 6, run: (k, x) => k.f16ToF32(x.half, x.out) },
  { name: 'f32 → f16 (RNE, NaN-safe)', bytesPerElement: 6, run: (k, x) => k.f32ToF16(x.a, x.half) },
  { name: 'absHistogram11', bytesPerElement: 4, run: (k, x) => k.absHistogram11(x.a, x.hist) },
];

function fill(x: Arrays): void {
  const rng = createRng('bench-kernels');
  for (let i = 0; i < N; i++) {
    const z = rng.normal() * 0.02;
    x.base[i] = z;
    x.a[i] = z + rng.normal() * 1e-3;
    x.b[i] = z + rng.normal() * 1e-3;
  }
  x.out.fill(0);
  x.half.fill(0x3c00);
}

function plainArrays(): Arrays {
  const x = {
    base: new Float32Array(N),
    a: new Float32Array(N),
    b: new Float32Array(N),
    out: new Float32Array(N),
    half: new Uint16Array(N),
    hist: new Uint32Array(2048),
  };
  fill(x);
  return x;
}

function arenaArrays(pool: KernelPool, source: Arrays): Arrays {
  const arena = pool.arena;
  const x = { base: arena.f32(N), a: arena.f32(N), b: arena.f32(N), out: arena.f32(N), half: arena.u16(N), hist: new Uint32Array(2048) };
  x.base.set(source.base);
  x.a.set(source.a);
  x.b.set(source.b);
  x.half.set(source.half);
  return x;
}

async function bestMs(run: () => Promise<unknown>, repeats: number): Promise<number> {
  await run(); // warm-up: JIT, page faults, worker start-up
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

function copyBandwidth(): number {
  const bytes = 256 * 2 ** 20;
  const from = new Uint8Array(bytes).fill(1);
  const to = new Uint8Array(bytes);
  to.set(from);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    to.set(from);
    best = Math.min(best, performance.now() - start);
  }
  return (2 * bytes) / (best / 1000) / 1e9;
}

const gbps = (bytesPerElement: number, ms: number): number => (bytesPerElement * N) / (ms / 1000) / 1e9;

async function main(): Promise<void> {
  console.log(`# bench:kernels — n = ${N} float32 elements (${((N * 4) / 2 ** 20).toFixed(0)} MiB per array), best of ${REPEATS}`);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} logical CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`);
  const copy = copyBandwidth();
  console.log(`memory copy (TypedArray.set of 256 MiB, read + write): ${copy.toFixed(1)} GB/s\n`);

  const plain = plainArrays();
  const pools = { one: await KernelPool.create({ workers: 1 }), two: await KernelPool.create({ workers: 2 }) };
  const resident = { one: arenaArrays(pools.one, plain), two: arenaArrays(pools.two, plain) };

  const rows: string[] = [];
  for (const c of CASES) {
    const tsMs = await bestMs(() => c.run(referenceKernels, plain), Math.min(REPEATS, 2));
    const oneMs = await bestMs(() => c.run(pools.one, resident.one), REPEATS);
    const twoMs = await bestMs(() => c.run(pools.two, resident.two), REPEATS);
    const cell = (ms: number) => `${ms.toFixed(1)} ms / ${gbps(c.bytesPerElement, ms).toFixed(1)}`;
    rows.push(
      `| ${c.name} (${c.bytesPerElement} B) | ${cell(tsMs)} | ${cell(oneMs)} | ${cell(twoMs)} | ${(tsMs / twoMs).toFixed(1)}× | ${(gbps(c.bytesPerElement, twoMs) / copy).toFixed(2)} |`,
    );
    console.log(rows.at(-1));
  }
  // The convenience path: plain JS arrays streamed through arena staging chunks (copy in, kernel, copy out).
  const streamedMs = await bestMs(() => pools.two.weightedSum(plain.out, [plain.a, plain.b], [0.3, 0.7]), REPEATS);
  console.log(`\nlerp streamed from JS arrays through 64 MiB staging chunks, 2 workers: ${streamedMs.toFixed(1)} ms / ${gbps(12, streamedMs).toFixed(1)} GB/s`);

  console.log('\n| kernel (bytes/element) | plain TS reference | wasm SIMD, 1 worker | wasm SIMD, 2 workers | 2 workers vs TS | 2 workers / copy bandwidth |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  await Promise.all(Object.values(pools).map((pool) => pool.close()));
}

await main();
