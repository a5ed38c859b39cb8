import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bf16BitsToF32 } from '../../core/float16.js';
import { absBitsOf } from '../reference/select.js';
import { createSharedMemory, instantiateKernels, loadKernelModule } from './loader.js';

// assembly/select-bands.ts `deltaBands` (one band of each of 1..4 models in one loop) against one
// `deltaBand` call per band (select-band.test.ts checks that one against a plain reference): the same counts
// above, the same gathered patterns up to each capacity, the same counts past it, the same status; bfloat16 and
// float32 inputs, NaN/±Inf, cuts at patterns the data holds, scalar tails, a range cut into two calls.

const memory = createSharedMemory(64 * 65536);
const kernels = instantiateKernels(loadKernelModule(), memory);
const N = 300;

test('deltaBands: the counts, gathered patterns and status of one deltaBand call per band, for 1..4 models', () => {
  const heap = Math.ceil(kernels.heapBase() / 64) * 64;
  const status = [heap, heap + 4];
  const work = heap + 64;
  const table = work + 256;
  // records: 4 bands × (fused, per band) at 16 bytes each; then the inputs (base + 4 models) and the buffers
  const record = (band: number, fused: number): number => table + 128 + (band * 2 + fused) * 16;
  const input = (j: number): number => table + 512 + j * 4 * N;
  const buffer = (band: number, fused: number): number => input(5) + (band * 2 + fused) * 4 * (N + 4);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: N }),
      fc.constantFrom('bf16', 'f32'),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 5 * N, maxLength: 5 * N }),
      // per band: two cut draws (data patterns or any bits) and a capacity
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean(), fc.integer({ min: 0, max: N })), { minLength: 4, maxLength: 4 }),
      fc.nat(),
      fc.option(fc.tuple(fc.constantFrom(0x7f80, 0xff80, 0x7fc0), fc.integer({ min: 0, max: 4 }), fc.nat())),
      (count, n, form, halves, cuts, cut, poison) => {
        const bf16 = form === 'bf16';
        const values = Array.from({ length: 5 }, (_, j) => halves.slice(j * N, j * N + n));
        // models near the base (small δ, as task vectors) and far from it, by turns
        for (let j = 1; j < 5; j += 2) values[j] = values[j]!.map((h, i) => (h & 0x8000 ? values[0]![i]! ^ (h & 0x3f) : h));
        if (poison !== null && n > 0) values[poison[1]]![poison[2] % n] = poison[0];
        const floats = values.map((v) => v.map(bf16BitsToF32));
        floats.forEach((v, j) => {
          if (bf16) new Uint16Array(memory.buffer, input(j), n).set(values[j]!);
          else new Float32Array(memory.buffer, input(j), n).set(v);
        });
        const width = bf16 ? 2 : 4;
        const bands = cuts.slice(0, count).map(([p, q, fromData, capacity], band) => {
          const patterns = floats[band + 1]!.map((x, i) => absBitsOf(x - floats[0]![i]!));
          const pick = (v: number): number => (fromData && n > 0 ? patterns[v % n]! : v);
          const [a, b] = [pick(p), pick(q)];
          return { lo: Math.min(a, b), hi: Math.max(a, b), capacity };
        });
        for (let band = 0; band < count; band++) {
          for (const fused of [0, 1]) new Uint32Array(memory.buffer, record(band, fused), 4).set([0, 0, bands[band]!.capacity, buffer(band, fused)]);
        }
        new Int32Array(memory.buffer, status[0]!, 2).fill(0);
        const split = n === 0 ? 0 : cut % (n + 1);
        for (const [from, to] of [[0, split], [split, n]] as const) {
          for (let band = 0; band < count; band++) {
            const { lo, hi } = bands[band]!;
            kernels.deltaBand(input(band + 1) + from * width, input(0) + from * width, to - from, bf16 ? 1 : 0, status[0]!, lo, hi, record(band, 0), 0, 0, 0, work);
            new Uint32Array(memory.buffer, table + band * 16, 4).set([input(band + 1) + from * width, lo, hi, record(band, 1)]);
          }
          kernels.deltaBands(input(0) + from * width, to - from, bf16 ? 1 : 0, status[1]!, table, count, work);
        }
        const [one, fused] = new Int32Array(memory.buffer, status[0]!, 2);
        assert.equal(fused, one, 'status');
        for (let band = 0; band < count; band++) {
          const [above, gathered] = new Uint32Array(memory.buffer, record(band, 0), 2);
          assert.deepEqual([...new Uint32Array(memory.buffer, record(band, 1), 2)], [above, gathered], `band ${band}: above, gathered`);
          const kept = Math.min(gathered!, bands[band]!.capacity);
          assert.deepEqual([...new Uint32Array(memory.buffer, buffer(band, 1), kept)], [...new Uint32Array(memory.buffer, buffer(band, 0), kept)], `band ${band}: patterns`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
