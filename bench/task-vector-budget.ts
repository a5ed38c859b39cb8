/**
 * bench:tv-budget — what #16's "≥ 2 GB/s each" leaves per element, and what our kernels and I/O take of it, per
 * task-vector method (issue #16). A merge of the bench family reads 4 bfloat16 inputs (8 bytes) per output
 * element, so 2 GB/s allows 4 ns of wall time, 8 ns of CPU on the machine's 2 cores, per output element. This
 * times, on one thread, every kernel each method's passes run per element (fused-task-vectors.ts for ties,
 * breadcrumbs_ties and dare_ties, the whole-vector path of fast-task-vectors.ts for della), on 16 real blocks of
 * a bench-family tensor in memory that stays in cache (as the passes' blocks do), and the positional reads and
 * writes the passes make (page cache → memory, and new output pages on /dev/shm, 128 KiB and 256 KiB at a
 * time). The sum leaves out the cut selection, the band sample, the worker round trips and the two threads'
 * contention, so it is a lower bound of the CPU a merge needs with these kernels. For dare_ties it also times the
 * same two passes written natively (bench/dare-ties-bound.cpp, g++ at 128, 256 and 512-bit vectors, checked to
 * compute the same norms and output bytes as our kernels): what the work costs in other hands, and at the widths
 * wasm SIMD (128 bits only) does not have.
 *
 *   npm run bench:tv-budget -- --family <dir written by bench:merge --family> [--tensor model.layers.1.mlp.down_proj.weight]
 *
 * Without --family a 2-layer family is written to a temporary folder (the tensors are the same shapes).
 */
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../src/io/open.js';
import { createSharedMemory, instantiateKernels, loadKernelModule, type KernelExports } from '../src/kernels/wasm/loader.js';
import { readFullyAt } from '../src/kernels/wasm/read-fully.js';
import { KEEP_BAND, KEEP_MASK, OUT_BF16 } from '../src/kernels/wasm/task-vector-passes.js';
import { TASK_INPUT_BF16 as BF16 } from '../src/kernels/wasm/task-vector-from-files.js';
import { L1_BLOCK } from '../src/merge/sparsify.js';
import { deltaPatterns, selectAscending } from '../src/merge/fused-cut-bands.js';
import { argValue } from './support/child-run.js';
import { runNativeDare } from './support/dare-native.js';
import { writeFamily } from './support/bf16-family.js';

const BLOCK = L1_BLOCK;
const BLOCKS = 16;
const CORES = 2;
const TARGET_GBS = 2;
const INPUT_BYTES_PER_ELEMENT = 8;
const DENSITY = 0.2;
const GAMMA = 0.01;

const work = mkdtempSync(join(tmpdir(), 'modelevo-tv-budget-'));
try {
  const kept = argValue('--family');
  const folders = kept !== undefined && existsSync(join(kept, 'ft-3', 'config.json')) ? ['base', 'ft-1', 'ft-2', 'ft-3'].map((n) => join(kept, n)) : writeFamily(join(work, 'family'), 2);
  const tensor = argValue('--tensor') ?? 'model.layers.1.mlp.down_proj.weight';
  const checkpoints = folders.map((f) => openCheckpoint(f));
  const shape = checkpoints[0]!.info(tensor).shape;
  const row = shape[shape.length - 1]!;
  const n = shape.reduce((a, b) => a * b, 1);
  const raws = checkpoints.map((c) => c.readBytes(tensor));
  const floats = checkpoints.map((c) => c.readFloat32(tensor));
  checkpoints.forEach((c) => c.close());

  // the cuts of the whole tensor (k-th largest |δ| patterns) and bands ±3% around them, as the passes would find
  const patterns = [1, 2, 3].map((j) => deltaPatterns(floats[0]!, floats[j]!));
  const largest = (p: Uint32Array, k: number): number => selectAscending(p.slice(), p.length - k);
  const cut = patterns.map((p) => largest(p, Math.round(DENSITY * n)));
  const upper = patterns.map((p) => largest(p, Math.round(GAMMA * n)));
  const band = (p: Uint32Array, q: number): [number, number] => [largest(p, Math.round((q + 0.03) * n)), largest(p, Math.max(1, Math.round((q - 0.03) * n)))];
  const bands = patterns.map((p) => band(p, DENSITY));
  const lowerBands = patterns.map((p) => band(p, DENSITY + GAMMA));
  const upperBands = patterns.map((p) => band(p, GAMMA));

  const memory = createSharedMemory(256 << 20);
  const k: KernelExports = instantiateKernels(loadKernelModule(), memory);
  let top = Math.ceil(k.heapBase() / 64) * 64;
  const alloc = (bytes: number): number => {
    const at = top;
    top += Math.ceil(bytes / 64) * 64;
    return at;
  };
  const bytes = new Uint8Array(memory.buffer);
  // 16 blocks spread over the tensor, whole rows for DELLA: each input's blocks side by side
  const rowsPerBlock = Math.max(1, Math.floor(BLOCK / row));
  const blockElements = row <= BLOCK ? rowsPerBlock * row : BLOCK;
  const starts = Array.from({ length: BLOCKS }, (_, b) => Math.floor((b * (n / blockElements - 1)) / (BLOCKS - 1)) * blockElements);
  const raw = raws.map((r) => {
    const at = alloc(BLOCKS * blockElements * 2);
    starts.forEach((s, b) => bytes.set(r.subarray(s * 2, (s + blockElements) * 2), at + b * blockElements * 2));
    return at;
  });
  const rawOf = (j: number, b: number): number => raw[j]! + b * blockElements * 2;
  const status = alloc(16);
  const scratch = alloc(1024);
  const records = [0, 1, 2].map(() => alloc(16));
  const records1 = [0, 1, 2].map(() => alloc(16));
  const gathered = [0, 1, 2, 3, 4, 5].map(() => alloc(blockElements * 4 + 64));
  const table = alloc(64);
  const bandTable = alloc(64);
  const modelRecords = alloc(72 * 3);
  const ties = alloc(64);
  const weights = alloc(32);
  const factors = alloc(32);
  const out = alloc(blockElements * 4);
  // a byte per four elements of the whole tensor, as the LOAD pass keeps DARE's masks
  const masks = [0, 1, 2].map(() => alloc(Math.ceil(n / 4)));
  const norms = alloc(64);
  const deltas = [0, 1, 2, 3].map(() => alloc(blockElements * 4));
  const pointerTable = alloc(64);
  const dellaScratch = alloc(k.dellaScratchBytes(row));
  const u32 = new Uint32Array(memory.buffer);
  const f64 = new Float64Array(memory.buffer);
  f64.set([1, 1, 1], weights / 8);
  f64.set([5, 5, 5], factors / 8);

  /**
   * ns per element of `run` over the 16 blocks: the best of 40 rounds of 4 sweeps, after 0.3 s of the same
   * work (V8 runs a wasm function on its baseline compiler's code until the optimised code is ready)
   */
  const time = (run: (b: number, index: number) => void): number => {
    const sweep = (): void => {
      for (let b = 0; b < BLOCKS; b++) run(b, starts[b]!);
    };
    for (const warm = performance.now(); performance.now() - warm < 300; ) sweep();
    let best = Infinity;
    for (let round = 0; round < 40; round++) {
      const started = performance.now();
      for (let r = 0; r < 4; r++) sweep();
      best = Math.min(best, (performance.now() - started) * 1e6);
    }
    return best / (4 * BLOCKS * blockElements);
  };
  const resetRecord = (at: number, buffer: number): void => u32.set([0, 0, blockElements, buffer], at / 4);
  const final = (recordsOf: (j: number) => number[], factorTable: number): ((b: number, index: number) => void) => {
    for (let j = 0; j < 3; j++) f64.set(recordsOf(j), modelRecords / 8 + 9 * j);
    return (b, index) => {
      u32.set([rawOf(0, b), rawOf(1, b), rawOf(2, b), rawOf(3, b)], table / 4);
      k.taskVectorFinal(table, blockElements, BF16, index, modelRecords, 3, weights, factorTable, 3, 1, 1, 1, OUT_BF16, out, scratch, 1, status);
    };
  };
  const NO_CUT = 0xffffffff;
  const keepBand = (j: number, high: number): number[] => [KEEP_BAND, cut[j]!, 0, 0, high, 0, 0, 1, ties + 8 * j];

  const rows: { method: string; load: [string, number][]; final: [string, number][]; reads: number }[] = [];
  // ties: LOAD counts above each model's band and gathers inside it (all three in one loop, as the pass does);
  // FINAL keeps the top 20% and mixes
  rows.push({
    method: 'ties',
    load: [['deltaBands (3 bands, one loop)', time((b) => {
      for (let j = 0; j < 3; j++) {
        resetRecord(records[j]!, gathered[j]!);
        const [lo, hi] = bands[j]!;
        u32.set([rawOf(j + 1, b), lo, hi, records[j]!], bandTable / 4 + 4 * j);
      }
      k.deltaBands(rawOf(0, b), blockElements, BF16, status, bandTable, 3, scratch);
    })]],
    final: [['taskVectorFinal (bands, float32 mix, bf16 out)', time(final((j) => keepBand(j, NO_CUT), 0))]],
    reads: 2,
  });
  rows.push({
    method: 'breadcrumbs_ties',
    load: [['deltaBand × 3, two bands each', time((b) => {
      for (let j = 0; j < 3; j++) {
        resetRecord(records[j]!, gathered[j]!);
        resetRecord(records1[j]!, gathered[j + 3]!);
        const [lo, hi] = lowerBands[j]!;
        const [lo1, hi1] = upperBands[j]!;
        k.deltaBand(rawOf(j + 1, b), rawOf(0, b), blockElements, BF16, status, lo, hi, records[j]!, lo1, hi1, records1[j]!, scratch);
      }
    })]],
    final: [['taskVectorFinal (two cuts per model)', time(final((j) => keepBand(j, upper[j]!), 0))]],
    reads: 2,
  });
  // dare_ties: LOAD draws the masks and sums |δ| before and after them (the l1 rescale); FINAL reads the masks
  const keepBelow = DENSITY * 2 ** 32;
  rows.push({
    method: 'dare_ties',
    load: [['dareNorms × 3 (draws, l1 norms, masks)', time((b, index) => {
      for (let j = 0; j < 3; j++) k.dareNorms(rawOf(j + 1, b), rawOf(0, b), blockElements, BF16, status, index, 0x1234 + j, 0x5678 + j, keepBelow, 1, norms, norms + 8, masks[j]! + index / 4, scratch);
    })]],
    final: [['taskVectorFinal (stored masks, l1 factors)', time(final((j) => [KEEP_MASK, masks[j]!, 0, 0, 1, 0, 0, 0, 0], factors))]],
    reads: 2,
  });
  // the native bound: dare_ties' two passes in g++ vector code on the same blocks, its norms and output bytes
  // checked against our kernels' (the l1 factors of these blocks, weights and λ 1)
  const wasmNorms = new Float64Array(BLOCKS * 6);
  for (let b = 0; b < BLOCKS; b++) {
    for (let j = 0; j < 3; j++) {
      k.dareNorms(rawOf(j + 1, b), rawOf(0, b), blockElements, BF16, status, starts[b]!, 0x1234 + j, 0x5678 + j, keepBelow, 1, norms, norms + 8, masks[j]! + starts[b]! / 4, scratch);
      wasmNorms.set(f64.subarray(norms / 8, norms / 8 + 2), b * 6 + 2 * j);
    }
  }
  const normSum = (j: number, which: number): number => starts.reduce((s, _, b) => s + wasmNorms[b * 6 + 2 * j + which]!, 0);
  const dareFactors = [0, 1, 2].map((j) => normSum(j, 0) / normSum(j, 1));
  const wasmOut = new Uint16Array(BLOCKS * blockElements);
  f64.set(dareFactors, factors / 8);
  const finalWithMasks = final((j) => [KEEP_MASK, masks[j]!, 0, 0, 1, 0, 0, 0, 0], factors);
  starts.forEach((s, b) => {
    finalWithMasks(b, s);
    wasmOut.set(new Uint16Array(memory.buffer, out, blockElements), b * blockElements);
  });
  const native = runNativeDare(work, raw.map((at) => bytes.slice(at, at + BLOCKS * blockElements * 2)), blockElements, BLOCKS, starts, dareFactors);
  const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
  for (const r of native) {
    const same = sameBits(r.norms, wasmNorms) && sameBits(r.out, wasmOut);
    if (!same) throw new Error(`the native dare_ties (${r.isa}, ${r.width} lanes) computed other bits than our kernels: the bound would not be of the same work`);
    rows.push({
      method: `dare_ties, native g++ ${r.isa} (${32 * r.width}-bit vectors; same norms and bytes as ours)`,
      load: [['LOAD, 3 models in one loop', r.load]],
      final: [['FINAL', r.final]],
      reads: 2,
    });
  }
  // della (whole-vector path): decode δ, norms, keep decisions per row, norms, mix, encode
  const dellaParts: [string, number][] = [
    ['decodeTaskVector × 4', time((b) => {
      for (let j = 0; j < 4; j++) k.decodeTaskVector(rawOf(j, b), j === 0 ? 0 : deltas[0]!, deltas[j]!, blockElements, BF16, status, 0);
    })],
    ['absSumBlocks × 6 (l1 before and after)', time(() => {
      for (let j = 1; j < 4; j++) {
        k.absSumBlocks(deltas[j]!, blockElements, norms);
        k.absSumBlocks(deltas[j]!, blockElements, norms + 8);
      }
    })],
    ['dellaRows × 3 (rank-free keep decisions)', time((b, index) => {
      for (let j = 1; j < 4; j++) {
        k.decodeTaskVector(rawOf(j, b), deltas[0]!, deltas[j]!, blockElements, BF16, status, 0);
        k.dellaRows(deltas[j]!, blockElements / row, row, index, 0x1234 + j, 0x5678 + j, DENSITY - 0.075, DENSITY + 0.075, 0, dellaScratch);
      }
    })],
    ['tiesCombineF32 + f32ToBf16', time(() => {
      u32.set([deltas[1]!, deltas[2]!, deltas[3]!], pointerTable / 4);
      k.tiesCombineF32(out, deltas[0]!, pointerTable, weights, 3, blockElements, 3, 1, 1, 1, factors, status);
      k.f32ToBf16(out, out, blockElements);
    })],
  ];
  // dellaRows' row above includes its decode (the rows are redone from the raw block each sweep)
  const decode3 = time((b) => {
    for (let j = 1; j < 4; j++) k.decodeTaskVector(rawOf(j, b), deltas[0]!, deltas[j]!, blockElements, BF16, status, 0);
  });
  dellaParts[2]![1] -= decode3;
  rows.push({ method: 'della', load: dellaParts.slice(0, 3), final: dellaParts.slice(3), reads: 1 });

  // I/O as the passes do it: 128 KiB positional reads of the family's shards (page cache), 256 KiB writes to a new /dev/shm file
  const shard = join(folders[1]!, 'model-00001-of-00003.safetensors');
  const readBuffer = new Uint8Array(128 << 10);
  const fd = openSync(existsSync(shard) ? shard : join(folders[1]!, 'model.safetensors'), 'r');
  // 512 MiB, or what a smaller family's shard holds
  const readBytes = Math.min(512 << 20, Math.floor(fstatSync(fd).size / readBuffer.length) * readBuffer.length);
  let readNs = Infinity;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (let at = 0; at < readBytes; at += readBuffer.length) readFullyAt(fd, readBuffer, at);
    readNs = Math.min(readNs, ((performance.now() - started) * 1e6) / readBytes);
  }
  closeSync(fd);
  const writeBuffer = new Uint8Array(256 << 10).fill(1);
  const writeBytes = 256 << 20;
  let writeNs = Infinity;
  for (let round = 0; round < 3; round++) {
    const dir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/modelevo-tv-budget-') : mkdtempSync(join(work, 'out-'));
    const out = openSync(join(dir, 'out.bin'), 'w');
    const started = performance.now();
    for (let at = 0; at < writeBytes; at += writeBuffer.length) writeSync(out, writeBuffer, 0, writeBuffer.length, at);
    writeNs = Math.min(writeNs, ((performance.now() - started) * 1e6) / writeBytes);
    closeSync(out);
    rmSync(dir, { recursive: true, force: true });
  }

  const budget = (CORES * INPUT_BYTES_PER_ELEMENT) / TARGET_GBS;
  console.log(`tensor ${tensor} [${shape.join(', ')}], ${BLOCKS} blocks of ${blockElements} elements; one thread; ${TARGET_GBS} GB/s of ${INPUT_BYTES_PER_ELEMENT} input bytes per output element on ${CORES} cores allows ${budget.toFixed(1)} ns of CPU per output element`);
  console.log(`positional reads ${readNs.toFixed(3)} ns/byte (page cache → memory, 128 KiB), writes ${writeNs.toFixed(3)} ns/byte (new /dev/shm pages, 256 KiB)`);
  console.log('| method | kernels, ns per output element (one thread, in cache) | reads + write, ns | sum, ns | share of the 8 ns budget |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    const kernels = [...r.load, ...r.final];
    const kernelNs = kernels.reduce((s, [, ns]) => s + ns, 0);
    const ioNs = r.reads * INPUT_BYTES_PER_ELEMENT * readNs + 2 * writeNs;
    const sum = kernelNs + ioNs;
    const parts = kernels.map(([name, ns]) => `${name} ${ns.toFixed(2)}`).join('; ');
    console.log(`| ${r.method} | ${parts} (total ${kernelNs.toFixed(2)}) | ${r.reads} × 8 B read + 2 B written: ${ioNs.toFixed(2)} | ${sum.toFixed(2)} | ${((100 * sum) / budget).toFixed(0)}% |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
