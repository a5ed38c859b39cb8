import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelPool } from '../pool.js';
import { linearFromFilesArgs, linearFromFilesScratchBytes } from './file-kernels.js';

// Differential tests of assembly/merge-f64.ts linearF64 (generic and unrolled bf16 loops), assembly/merge-f32.ts
// linearF32 (generic and packed bf16 loops) and of the file-reading linearF64FromFiles / linearF32FromFiles
// (output in memory or written to a file) against plain loops written here: acc starts at −0, zero weights are
// skipped; float64: the sum is rounded once to float32; float32: the weight is rounded to float32 and so is every
// product and partial sum; then to bfloat16 by round-to-nearest-even.

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

function bf16ToNumber(bits: number): number {
  U32[0] = (bits & 0xffff) << 16;
  return F32[0]!;
}

function f32BitsOf(x: number): number {
  F32[0] = x;
  return U32[0]!;
}

function bf16Of(x: number): number {
  const bits = f32BitsOf(x);
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function expectedLinear(inputs: readonly Uint16Array[], weights: readonly number[], n: number, outBf16: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let acc = -0;
    weights.forEach((w, j) => {
      if (w !== 0) acc += w * bf16ToNumber(inputs[j]![i]!);
    });
    const rounded = Math.fround(acc);
    out.push(outBf16 ? bf16Of(rounded) : f32BitsOf(rounded));
  }
  return out;
}

function expectedLinearF32(inputs: readonly Uint16Array[], weights: readonly number[], n: number, outBf16: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let acc = -0;
    weights.forEach((w, j) => {
      const w32 = Math.fround(w);
      if (w32 !== 0) acc = Math.fround(acc + Math.fround(w32 * bf16ToNumber(inputs[j]![i]!)));
    });
    out.push(outBf16 ? bf16Of(acc) : f32BitsOf(acc));
  }
  return out;
}

type LinearKernelName = 'linearF64' | 'linearF32';
const EXPECTED: Record<LinearKernelName, typeof expectedLinear> = { linearF64: expectedLinear, linearF32: expectedLinearF32 };

/** Finite bf16 patterns with signed zeros, subnormals, ties at the bf16 cut and wide exponents. */
function bf16Inputs(seed: number, n: number): Uint16Array {
  const out = new Uint16Array(n);
  let s = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const kind = s % 11;
    if (kind === 0) out[i] = 0x8000;
    else if (kind === 1) out[i] = 0x0000;
    else if (kind === 2) out[i] = (s >>> 8) & 0x807f; // subnormal
    else {
      const exponent = 100 + ((s >>> 4) % 60);
      out[i] = ((s >>> 20) & 0x8000) | (exponent << 7) | ((s >>> 12) & 0x7f);
    }
  }
  return out;
}

let pools: { name: string; pool: KernelPool }[] = [];
before(async () => {
  pools = [
    { name: 'calling thread', pool: await KernelPool.create({ workers: 0 }) },
    { name: '2 workers', pool: await KernelPool.create({ workers: 2, minParallelElements: 16 }) },
  ];
});
after(async () => {
  for (const { pool } of pools) await pool.close();
});

interface Case {
  readonly n: number;
  readonly weights: readonly number[];
  readonly outBf16: boolean;
  readonly overflowsFloat32?: boolean;
}

const CASES: Case[] = [
  { n: 0, weights: [0.25, 0.25, 0.25, 0.25], outBf16: true },
  { n: 1, weights: [0.25, 0.25, 0.25, 0.25], outBf16: true },
  { n: 7, weights: [0.3, -1.7], outBf16: true },
  { n: 8, weights: [1], outBf16: true },
  { n: 9, weights: [0.1, 0.2, 0.7], outBf16: false },
  { n: 17, weights: [2.5, -0.5, 1e-3, 3], outBf16: true },
  { n: 1003, weights: [0.25, 0.25, 0.25, 0.25], outBf16: true },
  { n: 1003, weights: [0.4, 0, 0.6], outBf16: true }, // a zero weight takes the generic loop
  { n: 1003, weights: [0.2, 0.2, 0.2, 0.2, 0.2], outBf16: false }, // five inputs: generic loop
  // 1e30·x overflows float32 for the larger inputs: linearF32 flags it (reference path), linearF64 writes ±Inf
  { n: 4099, weights: [1e30, -1e-30], outBf16: false, overflowsFloat32: true },
];

async function runLinear(pool: KernelPool, inputs: readonly Uint16Array[], c: Case, kernel: LinearKernelName = 'linearF64'): Promise<{ out: number[]; status: number }> {
  const mark = pool.arena.mark();
  try {
    const count = c.weights.length;
    const views = inputs.map((x) => {
      const view = pool.arena.u16(Math.max(1, c.n));
      view.set(x.subarray(0, c.n));
      return view;
    });
    const out = c.outBf16 ? pool.arena.u16(Math.max(1, c.n)) : pool.arena.u32(Math.max(1, c.n));
    const table = pool.arena.u32(Math.max(1, pool.workerCount) * count);
    const weights = pool.arena.f64(count);
    weights.set(c.weights);
    const status = pool.arena.u32(1);
    status[0] = 0;
    const flags = pool.constantOf('LINEAR_IN_BF16') | (c.outBf16 ? pool.constantOf('LINEAR_OUT_BF16') : 0);
    const outBytes = c.outBf16 ? 2 : 4;
    await pool.runSplit(kernel, c.n, (offset, length, part) => {
      views.forEach((view, j) => (table[part * count + j] = view.byteOffset + offset * 2));
      return [out.byteOffset + offset * outBytes, table.byteOffset + part * count * 4, weights.byteOffset, count, length, flags, status.byteOffset];
    });
    return { out: [...out.subarray(0, c.n)], status: status[0]! };
  } finally {
    pool.arena.release(mark);
  }
}

for (const kernel of ['linearF64', 'linearF32'] as const) {
  const loop = kernel === 'linearF64' ? 'a float64 loop' : 'a float32 loop';
  test(`${kernel} over bf16 inputs equals ${loop}, unrolled and generic, any length`, async () => {
    for (const { name, pool } of pools) {
      for (const c of CASES) {
        const inputs = c.weights.map((_, j) => bf16Inputs(j + 1, c.n));
        const { out, status } = await runLinear(pool, inputs, c, kernel);
        if (kernel === 'linearF32' && c.overflowsFloat32) {
          assert.equal(status, 1, `${name} n=${c.n}: float32 overflow flagged`);
          continue;
        }
        assert.equal(status, 0, `${name} n=${c.n}: no non-finite input`);
        assert.deepEqual(out, EXPECTED[kernel](inputs, c.weights, c.n, c.outBf16), `${name} n=${c.n} weights=${c.weights.join(',')}`);
      }
    }
  });

  test(`${kernel} flags NaN/±Inf in any input, in the eight-wide body and the tail, even under a zero weight`, async () => {
    const pool = pools[0]!.pool;
    for (const [weights, input, at, bits] of [
      [[0.5, 0.5], 1, 3, 0x7f80], // +Inf in the unrolled body
      [[0.5, 0.5], 0, 1001, 0xffc1], // NaN in the tail
      [[0.25, 0.25, 0.25, 0.25], 3, 500, 0xff80], // −Inf, fourth input
      [[0.5, -0.5], 0, 8, 0x7f80], // +Inf beside a negative weight
      [[1, 0], 1, 20, 0x7fc0], // NaN under a zero weight (generic loop)
    ] as const) {
      const c = { n: 1003, weights, outBf16: true };
      const inputs = weights.map((_, j) => bf16Inputs(j + 7, c.n));
      inputs[input]![at] = bits;
      assert.equal((await runLinear(pool, inputs, c, kernel)).status, 1, `bits ${bits.toString(16)} at ${at} of input ${input}`);
    }
    const largest = { n: 64, weights: [0.5, 0.5], outBf16: true };
    const finite = [new Uint16Array(64).fill(0x7f7f), new Uint16Array(64).fill(0xff7f)]; // ±bf16 max stays finite
    assert.equal((await runLinear(pool, finite, largest, kernel)).status, 0);
  });
}

test('linearF32 flags a float32 sum that overflows from finite inputs (the executor then takes the reference path)', async () => {
  const pool = pools[0]!.pool;
  // 2·bf16max overflows float32 even though 2·x − x is finite in float64
  const inputs = [new Uint16Array(64).fill(0x7f7f), new Uint16Array(64).fill(0x7f7f)];
  const c = { n: 64, weights: [2, -1], outBf16: true };
  assert.equal((await runLinear(pool, inputs, c, 'linearF32')).status, 1);
  assert.equal((await runLinear(pool, inputs, c, 'linearF64')).status, 0);
});

test('linearF32 over float32 inputs equals a float32 loop (generic loop, tail)', async () => {
  for (const { name, pool } of pools) {
    const n = 1001;
    const weights = [0.3, -1.25, 0, 2.5e-3];
    const inputs = weights.map((_, j) => {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = Math.sin(i * (j + 1) * 0.37) * 10 ** ((i % 7) - 3);
      return x;
    });
    const mark = pool.arena.mark();
    try {
      const views = inputs.map((x) => {
        const view = pool.arena.f32(n);
        view.set(x);
        return view;
      });
      const out = pool.arena.f32(n);
      const table = pool.arena.u32(Math.max(1, pool.workerCount) * weights.length);
      const w = pool.arena.f64(weights.length);
      w.set(weights);
      const status = pool.arena.u32(1);
      status[0] = 0;
      await pool.runSplit('linearF32', n, (offset, length, part) => {
        views.forEach((view, j) => (table[part * weights.length + j] = view.byteOffset + offset * 4));
        return [out.byteOffset + offset * 4, table.byteOffset + part * weights.length * 4, w.byteOffset, weights.length, length, 0, status.byteOffset];
      });
      assert.equal(status[0], 0);
      for (let i = 0; i < n; i++) {
        let acc = -0;
        weights.forEach((wj, j) => {
          if (wj !== 0) acc = Math.fround(acc + Math.fround(Math.fround(wj) * inputs[j]![i]!));
        });
        assert.equal(out[i], acc, `${name} element ${i}`);
      }
    } finally {
      pool.arena.release(mark);
    }
  }
});

for (const kernel of ['linearF64', 'linearF32'] as const) {
  test(`${kernel}FromFiles reads its ranges from the files and equals the loop (blocks, parts, offsets, output in memory or to a file)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelevo-file-kernels-'));
    try {
      for (const { name, pool } of pools) {
        for (const c of [
          { n: 1003, weights: [0.25, 0.25, 0.25, 0.25], outBf16: true, block: 100, toFile: false },
          { n: 1003, weights: [0.25, 0.25, 0.25, 0.25], outBf16: true, block: 100, toFile: true },
          { n: 4099, weights: [0.7, -0.3, 1.1], outBf16: false, block: 1 << 15, toFile: false },
          { n: 4099, weights: [0.7, -0.3, 1.1], outBf16: false, block: 1000, toFile: true },
          { n: 5, weights: [1, 0], outBf16: true, block: 3, toFile: true },
        ]) {
          const count = c.weights.length;
          const inputs = c.weights.map((_, j) => bf16Inputs(j + 11, c.n));
          // each file has an odd-sized header before the data, as safetensors shards do
          const lead = [8, 13, 1, 99];
          const tag = `${kernel}-${name.replace(/ /g, '-')}-${c.n}-${c.block}`;
          const fds = inputs.map((x, j) => {
            const path = join(dir, `${tag}-${j}.bin`);
            writeFileSync(path, Buffer.concat([Buffer.alloc(lead[j]!, 0xee), Buffer.from(x.buffer, x.byteOffset, x.byteLength)]));
            return openSync(path, 'r');
          });
          const outBytes = c.outBf16 ? 2 : 4;
          const outPath = join(dir, `${tag}-out.bin`);
          const outLead = 21; // the output tensor sits after other bytes too, which must stay untouched
          writeFileSync(outPath, Buffer.alloc(outLead + c.n * outBytes + 5, 0xaa));
          const outFd = openSync(outPath, 'r+');
          const mark = pool.arena.mark();
          try {
            const out = c.outBf16 ? pool.arena.u16(c.n) : pool.arena.u32(c.n);
            const weights = pool.arena.f64(count);
            weights.set(c.weights);
            const status = pool.arena.u32(1);
            status[0] = 0;
            const stride = linearFromFilesScratchBytes(count, c.block, 2, outBytes);
            const scratch = pool.arena.u32(Math.ceil((Math.max(1, pool.workerCount) * stride) / 4));
            const flags = pool.constantOf('LINEAR_IN_BF16') | (c.outBf16 ? pool.constantOf('LINEAR_OUT_BF16') : 0);
            await pool.runSplit(`${kernel}FromFiles`, c.n, (offset, length, part) =>
              linearFromFilesArgs({
                out: out.byteOffset + offset * outBytes,
                outFd: c.toFile ? outFd : undefined,
                outPosition: c.toFile ? outLead + offset * outBytes : undefined,
                weights: weights.byteOffset,
                count,
                n: length,
                flags,
                status: status.byteOffset,
                scratch: scratch.byteOffset + part * stride,
                blockElements: c.block,
                inBytes: 2,
                outBytes,
                fds,
                positions: lead.slice(0, count).map((l) => l + offset * 2),
              }),
            );
            assert.equal(status[0], 0);
            const label = `${name} n=${c.n} block=${c.block} ${c.toFile ? 'to file' : 'in memory'}`;
            const expected = EXPECTED[kernel](inputs, c.weights, c.n, c.outBf16);
            if (!c.toFile) assert.deepEqual([...out], expected, label);
            else {
              const file = readFileSync(outPath);
              const body = file.subarray(outLead, outLead + c.n * outBytes);
              const values = c.outBf16 ? new Uint16Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)) : new Uint32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
              assert.deepEqual([...values], expected, label);
              assert.ok(file.subarray(0, outLead).every((b) => b === 0xaa) && file.subarray(outLead + c.n * outBytes).every((b) => b === 0xaa), `${label}: bytes outside the tensor untouched`);
              assert.equal(file.length, outLead + c.n * outBytes + 5);
            }
          } finally {
            pool.arena.release(mark);
            fds.forEach((fd) => closeSync(fd));
            closeSync(outFd);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('linearF64FromFiles reports a file shorter than the range with the position', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-file-kernels-'));
  const path = join(dir, 'short.bin');
  writeFileSync(path, Buffer.alloc(10));
  const fd = openSync(path, 'r');
  const pool = pools[1]!.pool;
  const mark = pool.arena.mark();
  try {
    const out = pool.arena.u16(64);
    const weights = pool.arena.f64(1);
    weights[0] = 1;
    const status = pool.arena.u32(1);
    const scratch = pool.arena.u32(Math.ceil((2 * linearFromFilesScratchBytes(1, 64, 2)) / 4));
    const args = linearFromFilesArgs({
      out: out.byteOffset,
      weights: weights.byteOffset,
      count: 1,
      n: 64,
      flags: pool.constantOf('LINEAR_IN_BF16') | pool.constantOf('LINEAR_OUT_BF16'),
      status: status.byteOffset,
      scratch: scratch.byteOffset,
      blockElements: 64,
      inBytes: 2,
      outBytes: 2,
      fds: [fd],
      positions: [0],
    });
    await assert.rejects(
      pool.runSplit('linearF64FromFiles', 64, () => args),
      (error: Error) => /file ended at byte 10, expected 118 more bytes/.test(error.message),
    );
  } finally {
    pool.arena.release(mark);
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
