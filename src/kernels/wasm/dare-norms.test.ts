import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { f32ToBf16Bits, f32ToF16Bits } from '../../core/float16.js';
import { createSharedMemory, instantiateKernels, loadKernelModule } from './loader.js';
import { TASK_INPUT_BF16, TASK_INPUT_F16, TASK_INPUT_F32 } from './task-vector-from-files.js';

// assembly/dare-norms.ts `dareNorms` against the kernels it replaces in the LOAD pass of a DARE merge with the l1
// rescale: decodeTaskVector (base, then δ = x − base) + absSumBlocks + dareKeep + absSumBlocks. The two float64
// norms must be the same bits (their summation order decides the l1 factor's last bits), and so must the status,
// for bfloat16, float16 and float32 blocks of every length up to a whole l1 block, with scale 1 and ≠ 1, a keep-all
// bound, and NaN/±Inf inputs; and the mask it keeps for the FINAL pass holds dareKeep's decisions.

const memory = createSharedMemory(64 * 65536);
const kernels = instantiateKernels(loadKernelModule(), memory);
const BLOCK = 16384;

test('dareNorms: the norms before and after the mask are the bits of decodeTaskVector + absSumBlocks + dareKeep + absSumBlocks', () => {
  const heap = kernels.heapBase();
  const status = heap;
  const norms = heap + 64;
  const rawX = heap + 1024;
  const rawBase = rawX + 4 * BLOCK;
  const base = rawBase + 4 * BLOCK;
  const delta = base + 4 * BLOCK;
  const mask = delta + 4 * BLOCK;
  const f64 = new Float64Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);
  fc.assert(
    fc.property(
      fc.constantFrom(TASK_INPUT_BF16, TASK_INPUT_F16, TASK_INPUT_F32),
      fc.integer({ min: 1, max: BLOCK }),
      fc.nat(),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      // keep fractions spread over [0, 1] (a double drawn in [0, 2³²] is mostly tiny or near 2³²: masks of none or all)
      fc.oneof(fc.integer({ min: 0, max: 1000 }).map((p) => (p / 1000) * 2 ** 32), fc.double({ min: 0, max: 2 ** 32, noNaN: true }), fc.constant(2 ** 33)),
      fc.oneof(fc.constant(1), fc.double({ min: 0.5, max: 20, noNaN: true })),
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.boolean(),
      (kind, n, seed, k0, k1, keepBelow, scale, indexStart, poison) => {
        const width = kind === TASK_INPUT_F32 ? 4 : 2;
        let s = seed >>> 0;
        const draw = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
        // magnitudes spread over 2^±20 (2^±10 for float16): the float64 sums round, so their order shows in the bits
        const spread = kind === TASK_INPUT_F16 ? 10 : 20;
        const next = (): number => (draw() - 0.5) * 2 ** Math.round((draw() - 0.5) * 2 * spread);
        const encode = (v: number): number => (kind === TASK_INPUT_BF16 ? f32ToBf16Bits(v) : f32ToF16Bits(v));
        for (const at of [rawX, rawBase]) {
          if (width === 4) new Float32Array(memory.buffer, at, n).set(Array.from({ length: n }, next));
          else new Uint16Array(memory.buffer, at, n).set(Array.from({ length: n }, () => encode(next())));
        }
        if (poison) {
          const where = (seed % n) * width;
          if (width === 4) new Float32Array(memory.buffer, rawBase + where, 1)[0] = Infinity;
          else new Uint16Array(memory.buffer, rawBase + where, 1)[0] = kind === TASK_INPUT_BF16 ? 0x7f80 : 0x7c00;
        }
        // the replaced kernels
        i32[status / 4] = 0;
        kernels.decodeTaskVector(rawBase, 0, base, n, kind, status, 0);
        kernels.decodeTaskVector(rawX, base, delta, n, kind, status, 0);
        kernels.absSumBlocks(delta, n, norms);
        kernels.dareKeep(delta, delta, n, indexStart, k0, k1, keepBelow, scale);
        kernels.absSumBlocks(delta, n, norms + 8);
        const expected = [f64[norms / 8]!, f64[norms / 8 + 1]!, i32[status / 4]!];
        i32[status / 4] = 0;
        f64[norms / 8] = -1;
        f64[norms / 8 + 1] = -1;
        kernels.dareNorms(rawX, rawBase, n, kind, status, indexStart, k0, k1, keepBelow, scale, norms, norms + 8, mask, mask + BLOCK);
        const got = [f64[norms / 8]!, f64[norms / 8 + 1]!, i32[status / 4]!];
        // the mask: bit l of byte g is dareKeep's decision for element 4g + l (kept ones of a vector of ones)
        new Float32Array(memory.buffer, delta, n).fill(1);
        kernels.dareKeep(delta, delta, n, indexStart, k0, k1, keepBelow, 1);
        const kept = new Float32Array(memory.buffer, delta, n);
        const bytes = new Uint8Array(memory.buffer, mask, Math.ceil(n / 4));
        for (let i = 0; i < n; i++) assert.equal((bytes[i >> 2]! >> (i & 3)) & 1, kept[i] === 1 ? 1 : 0, `mask bit of element ${i}`);
        if (poison) assert.equal(got[2], 1, 'status flags the infinite base value');
        else assert.deepEqual(got, expected);
        if (!poison) assert.ok(Object.is(got[0], expected[0]) && Object.is(got[1], expected[1]));
      },
    ),
    { numRuns: 150, seed: 16 },
  );
});
