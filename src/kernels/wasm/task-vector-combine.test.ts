import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSharedMemory, instantiateKernels, loadKernelModule } from './loader.js';
import { combineToFileArgs, combineToFileScratchBytes, runCombineToFile } from './task-vector-combine.js';
import { OUT_BF16, OUT_F16, OUT_F32 } from './task-vector-passes.js';

// taskVectorCombineToFile (block by block: mix, encode, stage, write) against the whole range mixed by one
// tiesCombineF32 call and encoded by one conversion: the same file bytes for every output encoding, with blocks
// that do not divide the range and ranges long enough that the 256 KiB staging fills and is written mid-range
// (bfloat16: 131,072 elements per write); a range written at an offset leaves the bytes before it alone; a result
// that is not finite sets the status.

const memory = createSharedMemory(1024 * 65536);
const kernels = instantiateKernels(loadKernelModule(), memory);
const N = 300_001;
const MODELS = 3;

/** a deterministic float32 in about ±4 (x ≥ 0 draws) */
function values(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 8;
  }
  return out;
}

test('taskVectorCombineToFile writes the bytes of one whole-range tiesCombineF32 + encode, for f32, bf16 and f16 outputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-combine-'));
  try {
    let top = Math.ceil(kernels.heapBase() / 64) * 64;
    const alloc = (bytes: number): number => {
      const at = top;
      top += Math.ceil(bytes / 64) * 64;
      return at;
    };
    const base = alloc(N * 4);
    const deltas = Array.from({ length: MODELS }, () => alloc(N * 4));
    const mixed = alloc(N * 4);
    const encoded = alloc(N * 4);
    const table = alloc(64);
    const weights = alloc(64);
    const factors = alloc(64);
    const status = alloc(64);
    const blockElements = 1003;
    const scratch = alloc(combineToFileScratchBytes(blockElements));
    const f32 = new Float32Array(memory.buffer);
    const f64 = new Float64Array(memory.buffer);
    const i32 = new Int32Array(memory.buffer);
    f32.set(values(1, N), base / 4);
    deltas.forEach((at, j) => f32.set(values(2 + j, N).map((v, i) => (i % (j + 2) === 0 ? 0 : v / 16)), at / 4));
    f64.set([0.9, 0.6, 1.3], weights / 8);
    f64.set([1.25, 0.8, 2.5], factors / 8);
    new Uint32Array(memory.buffer, table, MODELS).set(deltas);
    const mix = { plainDivisor: 2.8, lambda: 0.7, consensus: 1, normalize: 1 };
    // the reference: the whole range at once
    i32[status / 4] = 0;
    kernels.tiesCombineF32(mixed, base, table, weights, MODELS, N, mix.plainDivisor, mix.lambda, mix.consensus, mix.normalize, factors, status);
    assert.equal(i32[status / 4], 0);
    for (const [outKind, width] of [[OUT_BF16, 2], [OUT_F16, 2], [OUT_F32, 4]] as const) {
      if (outKind === OUT_BF16) kernels.f32ToBf16(mixed, encoded, N);
      else if (outKind === OUT_F16) kernels.f32ToF16(mixed, encoded, N);
      else new Uint8Array(memory.buffer).copyWithin(encoded, mixed, mixed + N * 4);
      const expected = Buffer.from(new Uint8Array(memory.buffer, encoded, N * width));
      // two ranges, the second at an offset into the file after 7 bytes that must stay
      const path = join(dir, `out-${outKind}.bin`);
      writeFileSync(path, Buffer.alloc(7 + N * width, 0xab));
      const fd = openSync(path, 'r+');
      try {
        const split = 160_000;
        for (const [start, n] of [[0, split], [split, N - split]] as const) {
          const args = combineToFileArgs({
            n,
            base: base + start * 4,
            deltas: deltas.map((at) => at + start * 4),
            weights,
            factors,
            ...mix,
            status,
            scratch,
            blockElements,
            outKind,
            outFd: fd,
            outPosition: 7 + start * width,
          });
          runCombineToFile(kernels, memory, args);
        }
      } finally {
        closeSync(fd);
      }
      const written = readFileSync(path);
      assert.ok(written.subarray(0, 7).equals(Buffer.alloc(7, 0xab)), 'the bytes before the tensor are untouched');
      assert.ok(written.subarray(7).equals(expected), `output kind ${outKind}: the bytes of the whole-range mix`);
      assert.equal(i32[status / 4], 0);
    }
    // a float32 overflow: the status says so (the caller redoes the tensor in float64)
    f32[deltas[0]! / 4 + 123_456] = 3e38;
    f32[deltas[2]! / 4 + 123_456] = 3e38;
    f64.set([1, 1, 1], weights / 8);
    f64.set([1, 1, 1], factors / 8);
    const fd = openSync(join(dir, 'overflow.bin'), 'w');
    try {
      runCombineToFile(kernels, memory, combineToFileArgs({ n: N, base, deltas, weights, factors, plainDivisor: 1, lambda: 1, consensus: 1, normalize: 0, status, scratch, blockElements, outKind: OUT_BF16, outFd: fd, outPosition: 0 }));
    } finally {
      closeSync(fd);
    }
    assert.equal(i32[status / 4], 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
