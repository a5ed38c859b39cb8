/**
 * The packed SIMD GEMM against the reference triple loop on random shapes (sizes deliberately not multiples
 * of the 4×8 tile or the SIMD width, all four transpose combinations, padded leading dimensions, beta ∈
 * {0, 1, 0.5}), within the float32 error bound of a length-k dot product: k·ε·Σ|a||b| (Higham, Thm 3.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createWasmKernels } from './wasm/index.js';
import { gemmReference } from './reference/gemm.js';
import type { GemmArgs } from './kernels.js';
import { createRng } from '../../core/rng.js';

const EPS32 = 2 ** -23;

interface Case extends GemmArgs {
  size: number;
}

function layout(transA: boolean, transB: boolean, m: number, n: number, k: number, pad: number, beta: number): Case {
  const [aRows, aCols] = transA ? [k, m] : [m, k];
  const [bRows, bCols] = transB ? [n, k] : [k, n];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = n + pad;
  const a = 3; // odd offsets: operands need not be 16-byte aligned
  const b = a + aRows * lda + 1;
  const c = b + bRows * ldb + 2;
  return { transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, size: c + m * ldc + 1 };
}

/** |C_wasm − C_ref| ≤ (k + 2)·ε·(Σ_p |a_ip||b_pj| + |beta·c|) + tiny, per element */
function assertWithinBound(data: Float32Array, ref: Float64Array, original: Float64Array, g: Case): void {
  const [aRow, aCol] = g.transA ? [1, g.lda] : [g.lda, 1];
  const [bRow, bCol] = g.transB ? [1, g.ldb] : [g.ldb, 1];
  for (let i = 0; i < g.m; i++) {
    for (let j = 0; j < g.n; j++) {
      let magnitude = 0;
      for (let p = 0; p < g.k; p++) magnitude += Math.abs(original[g.a + i * aRow + p * aCol]! * original[g.b + p * bRow + j * bCol]!);
      const at = g.c + i * g.ldc + j;
      magnitude += Math.abs(g.beta * original[at]!);
      const bound = (g.k + 2) * EPS32 * magnitude + 1e-30;
      const diff = Math.abs(data[at]! - ref[at]!);
      if (!(diff <= bound)) assert.fail(`C[${i},${j}] = ${data[at]} vs reference ${ref[at]} (bound ${bound}) for ${JSON.stringify({ ...g, size: undefined })}`);
    }
  }
}

test('sgemm matches the reference GEMM on random shapes, transposes, strides and beta', () => {
  const wasm = createWasmKernels(1 << 20);
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 75 }),
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 0, max: 300 }), // crosses the KC = 256 block boundary
      fc.integer({ min: 0, max: 3 }),
      fc.constantFrom(0, 1, 0.5),
      fc.integer(),
      (transA, transB, m, n, k, pad, beta, seed) => {
        const g = layout(transA, transB, m, n, k, pad, beta);
        const rng = createRng('gemm-prop', seed);
        const region = wasm.data.subarray(wasm.base, wasm.base + g.size);
        for (let i = 0; i < g.size; i++) region[i] = rng.next() * 2 - 1;
        const original = Float64Array.from(region);
        const ref = Float64Array.from(region);
        gemmReference(ref, g);
        wasm.gemm({ ...g, a: g.a + wasm.base, b: g.b + wasm.base, c: g.c + wasm.base });
        assertWithinBound(region, ref, original, g);
        // nothing outside C's rows and columns was written
        for (let i = 0; i < g.size; i++) {
          const row = Math.floor((i - g.c) / g.ldc);
          const col = (i - g.c) % g.ldc;
          const inC = i >= g.c && row < g.m && col < g.n;
          if (!inC) assert.equal(region[i], Math.fround(original[i]!), `element ${i} outside C changed`);
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('sgemm crosses the NC = 512 column block and the MC = 64 row block', () => {
  const wasm = createWasmKernels(1 << 20);
  for (const [m, n, k] of [[5, 530, 21], [131, 9, 13]] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const g = layout(transA, transB, m, n, k, 1, 0.5);
        const rng = createRng('gemm-blocks', m, transA ? 1 : 0, transB ? 1 : 0);
        const region = wasm.data.subarray(wasm.base, wasm.base + g.size);
        for (let i = 0; i < g.size; i++) region[i] = rng.next() * 2 - 1;
        const original = Float64Array.from(region);
        const ref = Float64Array.from(region);
        gemmReference(ref, g);
        wasm.gemm({ ...g, a: g.a + wasm.base, b: g.b + wasm.base, c: g.c + wasm.base });
        assertWithinBound(region, ref, original, g);
      }
    }
  }
});

test('sgemm with beta = 0 ignores NaN already in C, and k = 0 gives beta·C', () => {
  const wasm = createWasmKernels(4096);
  const g = layout(false, false, 5, 9, 7, 0, 0);
  const region = wasm.data.subarray(wasm.base, wasm.base + g.size);
  region.fill(1);
  region.fill(NaN, g.c, g.c + g.m * g.ldc);
  wasm.gemm({ ...g, a: g.a + wasm.base, b: g.b + wasm.base, c: g.c + wasm.base });
  for (let i = 0; i < g.m * g.n; i++) assert.equal(region[g.c + i], 7); // a row of 7 ones times a column of 7 ones
  const empty = layout(false, false, 3, 5, 0, 0, 0.5);
  const r2 = wasm.data.subarray(wasm.base, wasm.base + empty.size);
  r2.fill(4);
  wasm.gemm({ ...empty, a: empty.a + wasm.base, b: empty.b + wasm.base, c: empty.c + wasm.base });
  for (let i = 0; i < 15; i++) assert.equal(r2[empty.c + i], 2);
});

test('reference GEMM reproduces a hand-computed 2×3·3×2 product with transposes', () => {
  // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]] → AB = [[58,64],[139,154]]
  const data = new Float64Array([1, 2, 3, 4, 5, 6, 7, 9, 11, 8, 10, 12, 0, 0, 0, 0]);
  gemmReference(data, { transA: false, transB: true, m: 2, n: 2, k: 3, a: 0, lda: 3, b: 6, ldb: 3, beta: 0, c: 12, ldc: 2 });
  assert.deepEqual(Array.from(data.subarray(12)), [58, 64, 139, 154]);
});
