import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bf16BitsToF32 } from '../../core/float16.js';
import { createSharedMemory, instantiateKernels, loadKernelModule } from './loader.js';

// assembly/select-band.ts `deltaBand` against a plain reference: the count of |x − b| patterns above hi, the
// patterns in [lo, hi] in index order (only the first `capacity` stored, the count running on past it), and the
// status (δ not finite), for bfloat16 and float32 inputs and for δ given as float32 (base 0), with the range cut
// into two calls that continue the record; cuts up to 0xffffffff (the kernel clamps them for its signed compares).

const memory = createSharedMemory(64 * 65536);
const kernels = instantiateKernels(loadKernelModule(), memory);
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
const absBits = (x: number): number => {
  scratch[0] = x;
  return scratchBits[0]! & 0x7fffffff;
};

test('deltaBand: count above, gathered patterns in order up to the capacity, status; one or two bands; bfloat16, float32 and given δ; two calls', () => {
  const heap = kernels.heapBase();
  const status = heap;
  const record = heap + 64;
  const x = heap + 1024;
  const b = x + 4 * 512;
  const buffer = b + 4 * 512;
  const record1 = record + 16;
  const buffer1 = buffer + 4 * 512;
  const work = buffer1 + 4 * 512;
  fc.assert(
    fc.property(
      // bfloat16 bit patterns (NaN/±Inf included: their exponent is all ones in 1/256 of draws)
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 300 }),
      fc.oneof(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 0, max: 0xffffffff })),
      fc.oneof(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 0, max: 0xffffffff })),
      fc.integer({ min: 0, max: 40 }),
      fc.constantFrom('bf16', 'f32', 'delta'),
      fc.nat(),
      fc.option(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 40 }))),
      // cuts at patterns the data holds (entries equal to a cut, in the SIMD groups and in the scalar tail)
      fc.boolean(),
      // one input forced to +Inf, −Inf or NaN at a drawn place (the draws above hold them too rarely)
      fc.option(fc.tuple(fc.constantFrom(0x7f80, 0xff80, 0x7fc0), fc.nat())),
      (drawn, p0, q0, capacity, form, cut, second0, cutsFromData, poison) => {
        const pairs = drawn.map(([u, v]) => [u, v] as [number, number]);
        const n = pairs.length;
        if (poison !== null && n > 0) pairs[poison[1] % n]![0] = poison[0];
        const split = n === 0 ? 0 : cut % (n + 1);
        const given = form === 'delta';
        const bf16 = form === 'bf16';
        const xs = pairs.map(([u]) => bf16BitsToF32(u));
        // δ given: x holds it, base is 0 (the kernel checks nothing: the decode did)
        const bs = pairs.map(([, v]) => (given ? 0 : bf16BitsToF32(v)));
        const patterns = xs.map((value, i) => absBits(Math.fround(value - bs[i]!)));
        const fromData = (v: number): number => (cutsFromData && n > 0 ? patterns[v % n]! : v);
        const [p, q] = [fromData(p0), fromData(q0)];
        const second = second0 === null ? null : ([fromData(second0[0]), fromData(second0[1]), second0[2]] as const);
        const [lo, hi] = p <= q ? [p, q] : [q, p];
        const [lo1, hi1] = second === null ? [0, 0] : second[0] <= second[1] ? [second[0], second[1]] : [second[1], second[0]];
        if (bf16) {
          new Uint16Array(memory.buffer, x, n).set(pairs.map(([u]) => u));
          new Uint16Array(memory.buffer, b, n).set(pairs.map(([, v]) => v));
        } else {
          new Float32Array(memory.buffer, x, n).set(xs);
          new Float32Array(memory.buffer, b, n).set(bs);
        }
        new Int32Array(memory.buffer, status, 1)[0] = 0;
        new Uint32Array(memory.buffer, record, 4).set([0, 0, capacity, buffer]);
        new Uint32Array(memory.buffer, record1, 4).set([0, 0, second?.[2] ?? 0, buffer1]);
        const r1 = second === null ? 0 : record1;
        const width = bf16 ? 2 : 4;
        const kind = bf16 ? 1 : 0;
        const base = given ? 0 : b;
        kernels.deltaBand(x, base, split, kind, status, lo, hi, record, lo1, hi1, r1, work);
        kernels.deltaBand(x + split * width, given ? 0 : b + split * width, n - split, kind, status, lo, hi, record, lo1, hi1, r1, work);
        // NaN/±Inf in x or b, or a difference beyond float32: |δ| bits ≥ 0x7f800000
        const bad = !given && patterns.some((bits) => bits >= 0x7f800000);
        assert.equal(new Int32Array(memory.buffer, status, 1)[0], bad ? 1 : 0);
        // then the executor reruns the tensor on the reference path: only the flag matters
        if (bad) return;
        if (given && xs.some((v) => Number.isNaN(v))) return;
        const bands: [number, number, number, number, number][] = [[lo, hi, capacity, record, buffer]];
        if (second !== null) bands.push([lo1, hi1, second[2], record1, buffer1]);
        for (const [low, high, room, at, stored] of bands) {
          const inside = patterns.filter((bits) => bits >= low && bits <= high);
          const [above, count] = new Uint32Array(memory.buffer, at, 2);
          assert.equal(above, patterns.filter((bits) => bits > high).length);
          assert.equal(count, inside.length);
          const kept = Math.min(room, inside.length);
          assert.deepEqual([...new Uint32Array(memory.buffer, stored, kept)], inside.slice(0, kept));
        }
      },
    ),
    { numRuns: 300 },
  );
});
