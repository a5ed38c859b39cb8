import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelPool } from '../pool.js';
import { linearFromFilesArgs, linearFromFilesScratchBytes } from './file-kernels.js';

// Differential tests of assembly/merge-f64.ts linearF64 (generic and unrolled bf16 loops) and of the
// file-reading linearF64FromFiles against a plain float64 loop written here: acc starts at −0, zero weights
// are skipped, the sum is rounded once to float32, then to bfloat16 by round-to-nearest-even.

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
  { n: 4099, weights: [1e30, -1e-30], outBf16: false },
];

async function runLinear(pool: KernelPool, inputs: readonly Uint16Array[], c: Case): Promise<{ out: number[]; status: number }> {
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
    await pool.runSplit('linearF64', c.n, (offset, length, part) => {
      views.forEach((view, j) => (table[part * count + j] = view.byteOffset + offset * 2));
      return [out.byteOffset + offset * outBytes, table.byteOffset + part * count * 4, weights.byteOffset, count, length, flags, status.byteOffset];
    });
    return { out: [...out.subarray(0, c.n)], status: status[0]! };
  } finally {
    pool.arena.release(mark);
  }
}

test('linearF64 over bf16 inputs equals a float64 loop, unrolled and generic, any length', async () => {
  for (const { name, pool } of pools) {
    for (const c of CASES) {
      const inputs = c.weights.map((_, j) => bf16Inputs(j + 1, c.n));
      const { out, status } = await runLinear(pool, inputs, c);
      assert.equal(status, 0, `${name} n=${c.n}: no non-finite input`);
      assert.deepEqual(out, expectedLinear(inputs, c.weights, c.n, c.outBf16), `${name} n=${c.n} weights=${c.weights.join(',')}`);
    }
  }
});

test('linearF64 flags NaN/±Inf in any input, in the eight-wide body and the tail, even under a zero weight', async () => {
  const pool = pools[0]!.pool;
  for (const [weights, input, at, bits] of [
    [[0.5, 0.5], 1, 3, 0x7f80], // +Inf in the unrolled body
    [[0.5, 0.5], 0, 1001, 0xffc1], // NaN in the tail
    [[0.25, 0.25, 0.25, 0.25], 3, 500, 0xff80], // −Inf, fourth input
    [[1, 0], 1, 20, 0x7fc0], // NaN under a zero weight (generic loop)
  ] as const) {
    const c = { n: 1003, weights, outBf16: true };
    const inputs = weights.map((_, j) => bf16Inputs(j + 7, c.n));
    inputs[input]![at] = bits;
    assert.equal((await runLinear(pool, inputs, c)).status, 1, `bits ${bits.toString(16)} at ${at} of input ${input}`);
  }
  const largest = { n: 64, weights: [0.5, 0.5], outBf16: true };
  const finite = [new Uint16Array(64).fill(0x7f7f), new Uint16Array(64).fill(0xff7f)]; // ±bf16 max stays finite
  assert.equal((await runLinear(pool, finite, largest)).status, 0);
});

test('linearF64FromFiles reads its ranges from the files and equals the float64 loop (blocks, parts, offsets)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-file-kernels-'));
  try {
    for (const { name, pool } of pools) {
      for (const c of [
        { n: 1003, weights: [0.25, 0.25, 0.25, 0.25], outBf16: true, block: 100 },
        { n: 4099, weights: [0.7, -0.3, 1.1], outBf16: false, block: 1 << 15 },
        { n: 5, weights: [1, 0], outBf16: true, block: 3 },
      ]) {
        const count = c.weights.length;
        const inputs = c.weights.map((_, j) => bf16Inputs(j + 11, c.n));
        // each file has an odd-sized header before the data, as safetensors shards do
        const lead = [8, 13, 1, 99];
        const fds = inputs.map((x, j) => {
          const path = join(dir, `${name.replace(/ /g, '-')}-${c.n}-${j}.bin`);
          writeFileSync(path, Buffer.concat([Buffer.alloc(lead[j]!, 0xee), Buffer.from(x.buffer, x.byteOffset, x.byteLength)]));
          return openSync(path, 'r');
        });
        const mark = pool.arena.mark();
        try {
          const outBytes = c.outBf16 ? 2 : 4;
          const out = c.outBf16 ? pool.arena.u16(c.n) : pool.arena.u32(c.n);
          const weights = pool.arena.f64(count);
          weights.set(c.weights);
          const status = pool.arena.u32(1);
          status[0] = 0;
          const stride = linearFromFilesScratchBytes(count, c.block, 2);
          const scratch = pool.arena.u32(Math.ceil((Math.max(1, pool.workerCount) * stride) / 4));
          const flags = pool.constantOf('LINEAR_IN_BF16') | (c.outBf16 ? pool.constantOf('LINEAR_OUT_BF16') : 0);
          await pool.runSplit('linearF64FromFiles', c.n, (offset, length, part) =>
            linearFromFilesArgs({
              out: out.byteOffset + offset * outBytes,
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
          assert.deepEqual([...out], expectedLinear(inputs, c.weights, c.n, c.outBf16), `${name} n=${c.n} block=${c.block}`);
        } finally {
          pool.arena.release(mark);
          fds.forEach((fd) => closeSync(fd));
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

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
