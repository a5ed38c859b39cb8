/**
 * WASM elementwise kernels, reductions and optimiser passes against the reference kernels on random sizes
 * (mostly not multiples of 4) and random hyperparameters, on the same float32 data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createWasmKernels } from './wasm/index.js';
import { ReferenceKernels } from './reference/index.js';
import type { Activation, NnKernels } from './kernels.js';
import { createRng } from '../../core/rng.js';

const wasm = createWasmKernels(1 << 16);
const size = fc.integer({ min: 1, max: 203 });
const ACTS: Activation[] = ['identity', 'relu', 'sigmoid', 'tanh', 'gelu'];

/** runs `op` on identical copies of random data under both implementations and compares the whole region */
function compare(seed: number, floats: number, op: (k: NnKernels, base: number) => number | void, tol = 2e-6): void {
  const region = wasm.data.subarray(wasm.base, wasm.base + floats);
  const rng = createRng('elementwise-prop', seed);
  for (let i = 0; i < floats; i++) region[i] = 4 * rng.next() - 2;
  const ref = new ReferenceKernels(Float32Array.from(region));
  const a = op(wasm, wasm.base);
  const b = op(ref, 0);
  if (typeof a === 'number') assert.ok(Math.abs(a - (b as number)) <= 1e-9 * Math.max(1, Math.abs(b as number)), `result ${a} vs ${b}`);
  for (let i = 0; i < floats; i++) {
    const x = region[i]!;
    const y = ref.data[i]!;
    assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `element ${i}: wasm ${x} vs reference ${y}`);
  }
}

test('bias + activation, activation and its backward, column sums, multiply', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 37 }), fc.constantFrom(...ACTS), fc.boolean(), fc.nat(), (rows, cols, act, withBias, seed) => {
      const n = rows * cols;
      // layout: y | bias | pre | dy | dx | out
      compare(seed, 5 * n + 2 * cols, (k, o) => k.biasActivation(o, withBias ? o + n : -1, rows, cols, act, act === 'gelu' ? o + n + cols : -1));
      compare(seed, 3 * n, (k, o) => k.activation(o, o + n, n, act));
      compare(seed, 4 * n, (k, o) => k.activationBackward(o, o + n, o + 2 * n, o + 3 * n, n, act));
      compare(seed, n + cols, (k, o) => k.columnSums(o, rows, cols, o + n), 1e-5);
      compare(seed, 3 * n, (k, o) => k.multiply(o, o + n, o + 2 * n, n));
    }),
    { numRuns: 60 },
  );
});

test('sum of squares, SGD and Adam/AdamW passes', () => {
  fc.assert(
    fc.property(size, fc.nat(), fc.double({ min: 1e-4, max: 0.5, noNaN: true }), fc.constantFrom(0, 0.9), fc.boolean(), fc.constantFrom(0, 0.01), fc.integer({ min: 1, max: 50 }), (n, seed, lr, momentum, flag, weightDecay, step) => {
      compare(seed, n, (k, o) => k.sumSquares(o, n));
      compare(seed, 3 * n, (k, o) => k.sgdStep(o, o + n, momentum ? o + 2 * n : -1, n, { lr, momentum, nesterov: flag, weightDecay, gradScale: 0.7 }));
      // v must be non-negative, as it is in training
      compare(seed, 4 * n, (k, o) => {
        for (let i = 0; i < n; i++) k.data[o + 3 * n + i] = Math.abs(k.data[o + 3 * n + i]!);
        k.adamStep(o, o + n, o + 2 * n, o + 3 * n, n, { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, decoupled: flag, gradScale: 0.7, step });
      }, 2e-5);
    }),
    { numRuns: 60 },
  );
});

test('sparse diffusion over (row, column, value) triples, both directions, accumulating into y', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 37 }), fc.integer({ min: 0, max: 40 }), fc.boolean(), fc.nat(), (nodes, width, nnz, transposed, seed) => {
      // layout: triples | x | y; the triples are rewritten with integer node indices (duplicates allowed: they add)
      const rng = createRng('sparse-diffuse-prop', seed);
      const triples = Array.from({ length: nnz }, () => [Math.floor(rng.next() * nodes), Math.floor(rng.next() * nodes), 2 * rng.next() - 1] as const);
      compare(seed, 3 * nnz + 2 * nodes * width, (k, o) => {
        triples.forEach(([v, w, a], e) => k.data.set([v, w, a], o + 3 * e));
        k.sparseDiffuse(o, nnz, o + 3 * nnz, o + 3 * nnz + nodes * width, width, transposed);
      });
    }),
    { numRuns: 150 },
  );
});
