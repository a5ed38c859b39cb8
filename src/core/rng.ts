/**
 * Seeded random streams. A stream is keyed by strings (run seed, tensor name, model reference, ...) so that
 * results never depend on processing order, thread count or worker split (merge-methods.md §0).
 * Generator: xoshiro128** seeded through splitmix32 from an FNV-1a hash of the key parts.
 */

export interface Rng {
  /** uniform in [0, 1) with 32 random bits */
  next(): number;
  /** uniform 32-bit unsigned integer */
  nextUint32(): number;
  /** standard normal (Box–Muller, one value per call) */
  normal(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** the generator's state, JSON-serialisable; `rngFromState` resumes it */
  state(): [number, number, number, number];
}

function fnv1a(text: string, hash: number): number {
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A stream for the given key parts, e.g. `createRng(seed, tensorName, modelRef)`. */
export function createRng(...keyParts: (string | number)[]): Rng {
  let hash = 0x811c9dc5;
  for (const part of keyParts) hash = fnv1a(`${typeof part}:${part}\u0000`, hash);
  const mix = splitmix32(hash);
  return rngFromState([mix(), mix(), mix(), mix()]);
}

export function rngFromState(initial: readonly [number, number, number, number]): Rng {
  let [a, b, c, d] = initial.map((x) => x >>> 0) as [number, number, number, number];
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point of xoshiro
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  const next = (): number => nextUint32() / 4294967296;
  return {
    nextUint32,
    next,
    normal() {
      let u = next();
      while (u === 0) u = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    int(n: number) {
      return Math.floor(next() * n);
    },
    state() {
      return [a, b, c, d];
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
