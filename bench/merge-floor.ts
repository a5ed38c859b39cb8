/**
 * bench:merge floor — the I/O a streamed linear merge cannot avoid in Node on this machine, with no arithmetic:
 * two worker threads read every byte of the input shards with positional reads (`readSync` at a position, the
 * only way Node reads a file: it copies out of the page cache, there is no mmap) in the merge's block size, and
 * write one output of one model's size with positional writes into a temporary file that is renamed at the end
 * (a new file: the kernel allocates and fills fresh page-cache pages). Each worker takes half of every shard,
 * reads the block of all inputs at one offset, then writes input 0's block as the "output" block.
 *
 * Reported: wall and process CPU seconds from the first job to the rename (workers already started), the
 * worker start-up on its own, and the read-only and write-only parts, each timed alone before.
 *
 *   node --import tsx bench/merge-floor.ts <out-dir> <model-folder>... [--block 65536] [--workers 2] [--private]
 *
 * `--private` reads into an ordinary ArrayBuffer instead of a SharedArrayBuffer (the merge's wasm memory is
 * shared). Prints one JSON line; bench/merge.ts runs it as a child process and puts it in its table.
 */
import { closeSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface FloorResult {
  /** read all inputs + write the output, workers already running */
  readonly seconds: number;
  readonly readOnlySeconds: number;
  readonly writeOnlySeconds: number;
  /** starting the workers (plain JS, no TypeScript loader) */
  readonly startSeconds: number;
  /** process CPU (user + system, all threads) of the read + write pass */
  readonly cpuSeconds: number;
  readonly inputBytes: number;
  readonly outputBytes: number;
}

interface Job {
  readonly mode: 'both' | 'read' | 'write';
  readonly blockBytes: number;
  /** per shard index: the input descriptors (one per model), the shared size, the output offset */
  readonly shards: readonly { readonly fds: readonly number[]; readonly bytes: number; readonly outOffset: number }[];
  readonly outFd: number;
  readonly part: number;
  readonly parts: number;
}

// Plain JavaScript so the workers start without a TypeScript loader; the merge's workers pay that separately.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readSync, writeSync } = require('node:fs');
const scratch = workerData.shared ? new SharedArrayBuffer(workerData.scratchBytes) : new ArrayBuffer(workerData.scratchBytes);
parentPort.on('message', (job) => {
  const inputs = job.shards[0] ? job.shards[0].fds.length : 0;
  const blocks = Array.from({ length: inputs }, (_, j) => new Uint8Array(scratch, j * job.blockBytes, job.blockBytes));
  for (const shard of job.shards) {
    const share = Math.ceil(shard.bytes / job.parts / 64) * 64;
    const begin = Math.min(shard.bytes, job.part * share);
    const end = Math.min(shard.bytes, begin + share);
    for (let at = begin; at < end; at += job.blockBytes) {
      const length = Math.min(job.blockBytes, end - at);
      if (job.mode !== 'write') {
        for (let j = 0; j < inputs; j++) {
          let done = 0;
          while (done < length) {
            const got = readSync(shard.fds[j], blocks[j], done, length - done, at + done);
            if (got === 0) throw new Error('short read');
            done += got;
          }
        }
      }
      if (job.mode !== 'read') {
        let done = 0;
        while (done < length) done += writeSync(job.outFd, blocks[0], done, length - done, shard.outOffset + at + done);
      }
    }
  }
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
`;

function shardFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors'))
    .sort()
    .map((f) => join(folder, f));
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export async function measureFloor(outDir: string, folders: readonly string[], options: { blockBytes?: number; workers?: number; shared?: boolean } = {}): Promise<FloorResult> {
  const blockBytes = options.blockBytes ?? 1 << 16;
  const parts = options.workers ?? 2;
  const files = folders.map(shardFiles);
  const shardCount = files[0]!.length;
  if (files.some((list) => list.length !== shardCount)) throw new Error('every model must have the same number of shards');
  const fds = files.map((list) => list.map((file) => openSync(file, 'r')));
  let outOffset = 0;
  const shards = files[0]!.map((file, k) => {
    const bytes = statSync(file).size;
    if (files.some((list) => statSync(list[k]!).size !== bytes)) throw new Error(`shard ${k} differs in size between models`);
    const shard = { fds: fds.map((list) => list[k]!), bytes, outOffset };
    outOffset += bytes;
    return shard;
  });
  const inputBytes = shards.reduce((sum, s) => sum + s.bytes * s.fds.length, 0);
  const started = performance.now();
  const workers = Array.from(
    { length: parts },
    () => new Worker(WORKER_SOURCE, { eval: true, workerData: { shared: options.shared ?? true, scratchBytes: blockBytes * folders.length } }),
  );
  await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => (w.once('message', () => resolve()), w.once('error', reject)))));
  const startSeconds = (performance.now() - started) / 1000;

  const pass = async (mode: Job['mode']): Promise<{ seconds: number; cpu: number }> => {
    const target = join(outDir, `floor-${mode}.safetensors`);
    const temp = `${target}.tmp`;
    const outFd = openSync(temp, 'wx');
    const cpuBefore = cpuSeconds();
    const begin = performance.now();
    await Promise.all(
      workers.map(
        (w, part) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.postMessage({ mode, blockBytes, shards, outFd, part, parts } satisfies Job);
          }),
      ),
    );
    closeSync(outFd);
    renameSync(temp, target);
    const result = { seconds: (performance.now() - begin) / 1000, cpu: cpuSeconds() - cpuBefore };
    rmSync(target, { force: true }); // freeing the pages is not part of writing them
    return result;
  };
  const readOnlySeconds = (await pass('read')).seconds;
  const writeOnlySeconds = (await pass('write')).seconds;
  const { seconds, cpu } = await pass('both');
  await Promise.all(workers.map((w) => w.terminate()));
  fds.flat().forEach((fd) => closeSync(fd));
  return { seconds, readOnlySeconds, writeOnlySeconds, startSeconds, cpuSeconds: cpu, inputBytes, outputBytes: outOffset };
}

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const valueFlags = new Set(['--block', '--workers']);
  const positional = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !valueFlags.has(all[i - 1] ?? ''));
  const [outDir, ...folders] = positional;
  if (outDir === undefined || folders.length === 0) throw new Error('usage: merge-floor.ts <out-dir> <model-folder>...');
  const result = await measureFloor(outDir, folders, {
    blockBytes: argValue('--block') === undefined ? undefined : Number(argValue('--block')),
    workers: argValue('--workers') === undefined ? undefined : Number(argValue('--workers')),
    shared: !process.argv.includes('--private'),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
