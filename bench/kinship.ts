/**
 * bench:kinship — throughput of full-vector kinship (kinship.md §3) on a synthetic Llama-shaped bf16 family
 * (base + 3 fine-tunes, ~2 GB each, page cache warm), beside memory-copy bandwidth measured in the same run.
 * GB/s = bytes of safetensors data read (all four models) per second. Files go to a temp dir, removed after.
 *
 * Usage: npm run bench:kinship [-- --layers 20 --repeats 3 --keep]
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../src/io/open.js';
import type { Checkpoint } from '../src/io/checkpoint.js';
import { computeKinship } from '../src/kinship/compute.js';
import { f32ToBf16Array } from '../src/core/float16.js';
import { llamaTensorShapes } from './support/llama-shapes.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const LAYERS = flag('layers', 20);
const REPEATS = flag('repeats', 3);
/** xorshift32 uniform in [−1, 1): fast enough to generate gigabytes (a bench does not need Gaussians) */
function fillUniform(out: Float32Array, seed: number, scale: number, add?: Float32Array): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (add ? add[i]! : 0) + ((s >>> 0) / 2147483648 - 1) * scale;
  }
}

/** Minimal safetensors writer (formats.md §1): u64 header length, JSON header padded to 8 bytes, data. */
function writeFamily(dir: string, shapes: [string, number[]][]): string[] {
  const files = ['base', 'tune-a', 'tune-b', 'tune-c'].map((m) => join(dir, `${m}.safetensors`));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const prefix = Buffer.alloc(8 + json.length);
  prefix.writeBigUInt64LE(BigInt(json.length), 0);
  prefix.write(json, 8, 'utf8');
  const fds = files.map((f) => openSync(f, 'w'));
  fds.forEach((fd) => writeSync(fd, prefix));
  shapes.forEach(([, shape], t) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const base = new Float32Array(count);
    const shared = new Float32Array(count);
    const model = new Float32Array(count);
    const bf16 = new Uint16Array(count);
    fillUniform(base, 1000 + t, 0.03);
    fillUniform(shared, 2000 + t, 0.002);
    f32ToBf16Array(base, bf16);
    writeSync(fds[0]!, new Uint8Array(bf16.buffer));
    for (let m = 1; m <= 3; m++) {
      // fine-tune = base + common direction + its own direction: kin to each other, PCC ≈ 0.5
      fillUniform(model, 3000 + 100 * m + t, 0.002, shared);
      for (let i = 0; i < count; i++) model[i] = base[i]! + model[i]!;
      f32ToBf16Array(model, bf16);
      writeSync(fds[m]!, new Uint8Array(bf16.buffer));
    }
  });
  fds.forEach((fd) => closeSync(fd));
  return files;
}

function timeBest(repeats: number, run: () => void): number {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return best;
}

function copyBandwidth(): { typed: number; buffer: number } {
  const bytes = 1 << 30;
  const src = Buffer.alloc(bytes, 1);
  const dst = Buffer.alloc(bytes);
  const srcArray = new Float32Array(src.buffer, src.byteOffset, bytes / 4);
  const dstArray = new Float32Array(dst.buffer, dst.byteOffset, bytes / 4);
  const typed = timeBest(5, () => dstArray.set(srcArray));
  const buffer = timeBest(5, () => src.copy(dst));
  return { typed: bytes / typed / 1e9, buffer: bytes / buffer / 1e9 };
}

const shapes = llamaTensorShapes(LAYERS);
const dir = mkdtempSync(join(tmpdir(), 'modelevo-bench-kinship-'));
try {
  const t0 = Date.now();
  const files = writeFamily(dir, shapes);
  const perModelBytes = shapes.reduce((s, [, shape]) => s + 2 * shape.reduce((a, b) => a * b, 1), 0);
  const totalBytes = 4 * perModelBytes;
  console.error(`wrote 4 × ${(perModelBytes / 1e9).toFixed(2)} GB in ${((Date.now() - t0) / 1000).toFixed(1)} s to ${dir}`);
  for (const f of files) readFileSync(f).length; // warm the page cache

  const copy = copyBandwidth();
  const open = (): Checkpoint[] => files.map((f) => openCheckpoint(f));
  const withAll = <T>(run: (base: Checkpoint, models: Checkpoint[]) => T): T => {
    const [base, ...models] = open();
    try {
      return run(base!, models);
    } finally {
      base!.close();
      models.forEach((m) => m.close());
    }
  };
  const readOnly = timeBest(REPEATS, () =>
    withAll((base, models) => {
      for (const name of base.names()) [base, ...models].forEach((c) => c.readFloat32(name));
    }),
  );
  let pccValues: number[] = [];
  const pccPairs = timeBest(REPEATS, () =>
    withAll((base, models) => {
      const r = computeKinship(base, models, { metrics: ['pcc'], diagonal: 'derived' });
      pccValues = [r.matrices.pcc![0]![1]!, r.matrices.pcc![0]![2]!, r.matrices.pcc![1]![2]!];
    }),
  );
  const pccMatrix = timeBest(REPEATS, () => withAll((base, models) => computeKinship(base, models, { metrics: ['pcc'], diagonal: 'direct' })));
  const allMetrics = timeBest(1, () => withAll((base, models) => computeKinship(base, models, { metrics: ['pcc', 'cs', 'ed'], diagonal: 'derived' })));

  const gbps = (seconds: number) => totalBytes / seconds / 1e9;
  const rows: [string, number][] = [
    ['memory copy, Float32Array.set, 1 GiB (bytes copied)', copy.typed],
    ['memory copy, Buffer.copy, 1 GiB (bytes copied)', copy.buffer],
    ['read all tensors as float32 (page cache → bf16 → f32), no math', gbps(readOnly)],
    ['kinship pcc, 3×3 matrix (3 pairs, diagonal derived; default)', gbps(pccPairs)],
    ['kinship pcc, 3×3 matrix with the diagonal accumulated directly (6 pairs)', gbps(pccMatrix)],
    ['kinship pcc + cs + ed, 3 pairs', gbps(allMetrics)],
  ];
  console.log(`bench:kinship — ${LAYERS}-layer Llama shape, 4 × ${(perModelBytes / 1e9).toFixed(2)} GB bf16, best of ${REPEATS}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  console.log('');
  console.log('| workload | GB/s | ratio to Float32Array.set |');
  console.log('|---|---|---|');
  for (const [name, value] of rows) console.log(`| ${name} | ${value.toFixed(2)} | ${(value / copy.typed).toFixed(3)} |`);
  console.log('');
  console.log(`pcc 3×3 matrix of 4 × ${(perModelBytes / 1e9).toFixed(2)} GB: ${pccPairs.toFixed(2)} s; direct diagonal: ${pccMatrix.toFixed(2)} s; read only: ${readOnly.toFixed(2)} s`);
  console.log(`synthetic PCC values (expected ≈ 0.5 by construction): ${pccValues.map((v) => v.toFixed(4)).join(', ')}`);
} finally {
  if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
}
