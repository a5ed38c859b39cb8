/**
 * bench:io — safetensors read throughput (formats.md §1.3, engines.md §4) on a synthetic Llama-shaped bf16
 * checkpoint (~2 GB, TinyLlama-like widths), beside `cat file > /dev/null` and `dd bs=16M` of the same file
 * measured in the same run. GB/s = file bytes / seconds (decimal GB). Warm = page cache primed; cold = after
 * `echo 1 > /proc/sys/vm/drop_caches`, when that is permitted. The file lives in a temp dir, removed after.
 *
 * Usage: npm run bench:io [-- --layers 20 --repeats 5 --dir /path/on/the/disk/to/test]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from '../src/io/safetensors/reader.js';
import { SafetensorsWriter, type TensorSpec } from '../src/io/safetensors/writer.js';
import { llamaTensorShapes } from './support/llama-shapes.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const LAYERS = Number(option('layers') ?? 20);
const REPEATS = Number(option('repeats') ?? 5);
const BASE_DIR = option('dir') ?? tmpdir();

function llamaSpecs(layers: number): TensorSpec[] {
  return llamaTensorShapes(layers).map(([name, shape]) => ({ name, dtype: 'BF16', shape }));
}

/** bf16 values of magnitude below ~0.25 from xorshift32 bits; one block reused for every tensor. */
function randomBf16Block(bytes: number): Uint8Array {
  const halves = new Uint16Array(bytes / 2);
  let s = 0x9e3779b9;
  for (let i = 0; i < halves.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    halves[i] = (s & 0x807f) | 0x3c00 | ((s >>> 16) & 0x0380);
  }
  return new Uint8Array(halves.buffer);
}

function writeCheckpoint(path: string): number {
  const specs = llamaSpecs(LAYERS);
  const writer = SafetensorsWriter.create(path, specs, { source: 'bench:io synthetic' });
  const block = randomBf16Block(64 << 20);
  let total = 0;
  try {
    for (const spec of specs) {
      const bytes = spec.shape.reduce((a, b) => a * b, 1) * 2;
      const data = new Uint8Array(bytes);
      for (let at = 0; at < bytes; at += block.length) data.set(block.subarray(0, Math.min(block.length, bytes - at)), at);
      writer.writeTensor(spec.name, data);
      total += bytes;
    }
    writer.commit();
  } catch (error) {
    writer.abort();
    throw error;
  }
  return total;
}

function seconds(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch {
    return false;
  }
}

let checksum = 0; // consumed so no read can be optimised away

/** Opens the file, runs `each` per tensor with its byte length, closes. */
function forEachTensor(path: string, each: (file: SafetensorsFile, name: string) => void): void {
  const file = SafetensorsFile.open(path);
  try {
    for (const name of file.names()) each(file, name);
  } finally {
    file.close();
  }
}

function largestTensor(path: string): { bytes: number; values: number } {
  let bytes = 0;
  let values = 0;
  forEachTensor(path, (file, name) => {
    bytes = Math.max(bytes, file.info(name).byteLength);
    values = Math.max(values, file.info(name).shape.reduce((a, b) => a * b, 1));
  });
  return { bytes, values };
}

interface Method {
  name: string;
  /** runs in the cold (dropped page cache) pass too */
  cold: boolean;
  run: (path: string) => void;
}

const STREAM_CHUNK_BYTES = 16 << 20;
const RAW = ['cat file > /dev/null', 'dd if=file of=/dev/null bs=16M'];

const methods: Method[] = [
  { name: RAW[0]!, cold: true, run: (path) => execFileSync('sh', ['-c', 'cat "$0" > /dev/null', path]) },
  { name: RAW[1]!, cold: true, run: (path) => execFileSync('dd', [`if=${path}`, 'of=/dev/null', 'bs=16M'], { stdio: 'ignore' }) },
  {
    name: 'readRangeInto, 16 MiB chunks, one reused buffer',
    cold: true,
    run: (path) => {
      const chunk = new Uint8Array(STREAM_CHUNK_BYTES);
      forEachTensor(path, (file, name) => {
        const length = file.info(name).byteLength;
        for (let at = 0; at < length; at += chunk.length) {
          const target = chunk.subarray(0, Math.min(chunk.length, length - at));
          file.readRangeInto(name, at, target);
          checksum += target[0]!;
        }
      });
    },
  },
  {
    name: 'readInto, one reused tensor-sized buffer',
    cold: true,
    run: (path) => {
      const buffer = new Uint8Array(largestTensor(path).bytes);
      forEachTensor(path, (file, name) => {
        const target = buffer.subarray(0, file.info(name).byteLength);
        file.readInto(name, target);
        checksum += target[0]!;
      });
    },
  },
  {
    name: 'readBytes (fresh array per tensor)',
    cold: true,
    run: (path) => forEachTensor(path, (file, name) => (checksum += file.readBytes(name)[0]!)),
  },
  {
    name: 'no I/O: fresh array per tensor + fill',
    cold: false,
    run: (path) =>
      forEachTensor(path, (file, name) => {
        const bytes = new Uint8Array(file.info(name).byteLength).fill(1);
        checksum += bytes[0]!;
      }),
  },
  {
    name: 'readFloat32Into, one reused Float32Array',
    cold: false,
    run: (path) => {
      const buffer = new Float32Array(largestTensor(path).values);
      forEachTensor(path, (file, name) => {
        const target = buffer.subarray(0, file.info(name).byteLength / 2);
        file.readFloat32Into(name, target);
        checksum += target[0]!;
      });
    },
  },
  {
    name: 'readFloat32 (fresh Float32Array per tensor)',
    cold: true,
    run: (path) => forEachTensor(path, (file, name) => (checksum += file.readFloat32(name)[0]!)),
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const dir = mkdtempSync(join(BASE_DIR, 'modelevo-bench-io-'));
  const path = join(dir, 'model.safetensors');
  try {
    let dataBytes = 0;
    const writeSeconds = seconds(() => {
      dataBytes = writeCheckpoint(path);
    });
    const fileBytes = statSync(path).size;
    const gb = fileBytes / 1e9;
    console.log(`bench:io  ${cpus().length} CPU(s), ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
    console.log(`file: ${(fileBytes / 1e9).toFixed(3)} GB (${llamaSpecs(LAYERS).length} BF16 tensors, ${LAYERS} layers, ${(dataBytes / 1e9).toFixed(3)} GB data) in ${dir}`);
    console.log(`write (SafetensorsWriter, incl. fsync): ${writeSeconds.toFixed(2)} s, ${(gb / writeSeconds).toFixed(2)} GB/s`);

    const canDrop = dropCaches();
    const cold = new Map<string, number>();
    if (canDrop) {
      for (const method of methods.filter((m) => m.cold)) {
        dropCaches();
        cold.set(method.name, seconds(() => method.run(path)));
      }
    }
    for (const method of methods) method.run(path); // prime the page cache and the JIT
    const warm = new Map<string, number[]>(methods.map((m) => [m.name, []]));
    for (let r = 0; r < REPEATS; r++) {
      for (const method of methods) warm.get(method.name)!.push(seconds(() => method.run(path)));
    }

    const rawWarm = Math.max(...RAW.map((n) => gb / median(warm.get(n)!)));
    const rawBest = Math.max(...RAW.map((n) => gb / Math.min(...warm.get(n)!)));
    const rawCold = canDrop ? Math.max(...RAW.map((n) => gb / cold.get(n)!)) : NaN;
    const rows = methods.map((m) => {
      const times = warm.get(m.name)!;
      const medianRate = gb / median(times);
      const bestRate = gb / Math.min(...times);
      const coldSeconds = cold.get(m.name);
      const coldRate = coldSeconds === undefined ? NaN : gb / coldSeconds;
      return [
        m.name,
        medianRate.toFixed(2),
        bestRate.toFixed(2),
        `${((100 * medianRate) / rawWarm).toFixed(0)}%`,
        `${((100 * bestRate) / rawBest).toFixed(0)}%`,
        Number.isNaN(coldRate) ? '–' : coldRate.toFixed(2),
        Number.isNaN(coldRate) ? '–' : `${((100 * coldRate) / rawCold).toFixed(0)}%`,
      ];
    });
    const header = ['method', 'warm GB/s (median)', 'warm best', 'median vs raw', 'best vs raw best', 'cold GB/s', 'vs raw cold'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
    console.log(`\nwarm: ${REPEATS} interleaved repeats; raw = faster of cat and dd (median ${rawWarm.toFixed(2)}, best ${rawBest.toFixed(2)} GB/s)`);
    console.log(line(header));
    console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
    for (const row of rows) console.log(line(row));
    if (!canDrop) console.log('\ncold: not measurable (writing /proc/sys/vm/drop_caches is not permitted here)');
    console.log(`\n(checksum ${checksum})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
