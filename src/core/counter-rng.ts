/**
 * Counter-based random numbers: the draw for element i of a stream is a pure function of (key, i), so a
 * tensor's random mask is the same whichever thread computes which element range, in whatever order
 * (merge-methods.md §0; DARE and DELLA masks). The WebAssembly kernels (assembly/sparsify.ts) compute the
 * same function bit for bit; this file is its reference.
 *
 * The key is two 32-bit words drawn from `createRng(...keyParts)` (run seed, tensor name, model reference).
 * The draw is two rounds of the `lowbias32` integer hash (C. Wellons, "hash prospector", 2018) with a key word
 * folded in before each round:
 *   u32(i) = h(h(i ⊕ k0) + k1),  h(x) = x ⊕ x≫16; x·0x7feb352d; x ⊕ x≫15; x·0x846ca68b; x ⊕ x≫16
 * Each step is a bijection of 32-bit integers, so within one stream no two of the first 2^32 indices share a
 * draw; streams with different keys are unrelated. Uniforms are u32 / 2^32 (32 random bits, like `Rng.next`).
 */
import { createRng } from './rng.js';

export interface CounterStream {
  readonly k0: number;
  readonly k1: number;
}

/** The stream for the given key parts, e.g. `counterStream(seed, tensorName, modelRef)`. */
export function counterStream(...keyParts: (string | number)[]): CounterStream {
  const rng = createRng('counter', ...keyParts);
  return { k0: rng.nextUint32(), k1: rng.nextUint32() };
}

function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The 32-bit draw for element `index` (an integer in [0, 2^32)). */
export function counterUint32(stream: CounterStream, index: number): number {
  return lowbias32((lowbias32((index ^ stream.k0) >>> 0) + stream.k1) >>> 0);
}

/** Uniform in [0, 1) for element `index`: counterUint32 / 2^32. */
export function counterUniform(stream: CounterStream, index: number): number {
  return counterUint32(stream, index) / 4294967296;
}
