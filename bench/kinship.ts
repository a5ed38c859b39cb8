/**
 * bench:kinship — full-vector kinship (kinship.md §3), the 3×3 PCC matrix of 3 fine-tunes against their base, on
 * bench:merge's synthetic 22-layer Llama-shaped bf16 family (4 × 2.2 GB = 8.8 GB of input; bench/support/
 * bf16-family.ts), page cache warm. In one run: the copy bound (min of `cat` and TypedArray.set), the I/O floor
 * (bench/merge-floor.ts read-only part: 2 plain-JS workers reading every input byte with positional reads in the
 * kernel's read block, no arithmetic), modelevo on the kernel pool (computeKinshipOnPool, 2 threads) `--repeat`
 * times, optionally the plain TypeScript path (`--reference`, slow), and bench/kinship_torch.py. Every measured
 * run is its own child process, so its peak RSS (VmHWM) is its own. GB/s = input bytes (4 models) / wall time.
 *
 *   npm run bench:kinship [-- --layers 22 --repeat 3 --skip-torch --reference --family <dir>]
 *
 * `--family <dir>` keeps the family in <dir> (written on the first run, reused after; the caller deletes it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../src/io/open.js';
import { computeKinshipWithKernels } from '../src/kinship/compute-pool.js';
import { DEFAULT_READ_BLOCK_ELEMENTS } from '../src/kinship/compute-pool.js';
import { HIDDEN, VOCAB, catSeconds, folderBytes, peakRssBytes, setBandwidth, writeFamily } from './support/bf16-family.js';
import { argValue, runChild, type ChildRun } from './support/child-run.js';
import type { FloorResult } from './merge-floor.js';

const MODELS = ['base', 'ft-1', 'ft-2', 'ft-3'];

/** Child process: one kinship computation, prints {seconds, maxRssBytes, cpuSeconds, pcc}. */
async function child(): Promise<void> {
  const [familyDir, kernels] = process.argv.slice(process.argv.indexOf('--child') + 1) as [string, 'wasm' | 'reference'];
  const [base, ...models] = MODELS.map((m) => openCheckpoint(join(familyDir, m)));
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await computeKinshipWithKernels(base!, models, { metrics: ['pcc'], kernels, threads: 2 });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const m = result.matrices.pcc!;
  [base!, ...models].forEach((c) => c.close());
  const pcc = [m[0]![1]!, m[0]![2]!, m[1]![2]!];
  process.stdout.write(`${JSON.stringify({ seconds, maxRssBytes: peakRssBytes(), cpuSeconds: (cpu.user + cpu.system) / 1e6, pcc })}\n`);
}

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const layers = Number(argValue('--layers') ?? 22);
  const repeat = Number(argValue('--repeat') ?? 3);
  const keptFamily = argValue('--family');
  const dir = keptFamily ?? mkdtempSync(join(tmpdir(), 'modelevo-bench-kinship-'));
  const outRoot = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/modelevo-bench-kinship-') : mkdtempSync(join(tmpdir(), 'modelevo-bench-kinship-out-'));
  try {
    console.log(`load before: ${execFileSync('uptime').toString().trim()}`);
    const started = performance.now();
    const reuse = keptFamily !== undefined && existsSync(join(dir, 'ft-3', 'config.json'));
    const folders = reuse ? MODELS.map((n) => join(dir, n)) : writeFamily(dir, layers);
    const modelBytes = folderBytes(folders[0]!);
    const inputBytes = 4 * modelBytes;
    const largestTensor = VOCAB * HIDDEN * 2;
    console.log(`${reuse ? 'reused' : 'wrote'} 4 models × ${(modelBytes / 1e9).toFixed(2)} GB in ${((performance.now() - started) / 1000).toFixed(1)} s (${dir})`);
    for (const folder of folders) catSeconds(folder); // warm the page cache
    const catGBs = modelBytes / Math.min(catSeconds(folders[1]!), catSeconds(folders[1]!)) / 1e9;
    const setGBs = setBandwidth();
    const copyGBs = Math.min(catGBs, setGBs);

    const self = ['--import', 'tsx', new URL(import.meta.url).pathname];
    const floorScript = new URL('./merge-floor.ts', import.meta.url).pathname;
    const rows: { label: string; runs: ChildRun[]; isOurs: boolean }[] = [
      { label: 'I/O floor: read all inputs, no arithmetic (2 workers)', runs: [], isOurs: false },
      { label: 'modelevo kinship pcc 3×3 (wasm pool, 2 threads)', runs: [], isOurs: true },
    ];
    // alternate the floor and ours run by run, so a change in machine load hits both alike
    for (let r = 0; r < repeat; r++) {
      const floorOut = mkdtempSync(join(outRoot, 'floor-'));
      const block = String(DEFAULT_READ_BLOCK_ELEMENTS * 2);
      const floorRun = spawnSync(process.execPath, ['--import', 'tsx', floorScript, floorOut, ...folders, '--block', block], { encoding: 'utf8' });
      if (floorRun.status !== 0) throw new Error(`merge-floor failed:\n${floorRun.stderr}`);
      rmSync(floorOut, { recursive: true, force: true });
      const floor = JSON.parse(floorRun.stdout.trim().split('\n').pop()!) as FloorResult;
      rows[0]!.runs.push({ seconds: floor.readOnlySeconds, maxRssBytes: 0 });
      rows[1]!.runs.push(runChild(process.execPath, [...self, '--child', dir, 'wasm']));
    }
    if (process.argv.includes('--reference')) {
      rows.push({ label: 'modelevo kinship pcc 3×3 (plain TypeScript reference path)', runs: [runChild(process.execPath, [...self, '--child', dir, 'reference'])], isOurs: true });
    }
    let torch: ChildRun | undefined;
    if (process.argv.includes('--skip-torch')) console.log('PyTorch: skipped (--skip-torch)');
    else if (!torchAvailable()) console.log('PyTorch: skipped (python3 cannot import torch; install python3-torch)');
    else {
      const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' };
      const script = new URL('./kinship_torch.py', import.meta.url).pathname;
      torch = runChild('/usr/bin/python3', [script, '--base', folders[0]!, '--models', ...folders.slice(1), '--threads', '2'], env);
      rows.push({ label: 'PyTorch kinship pcc 3×3 (float32 deltas, float64 sums, mmap)', runs: [torch], isOurs: false });
    }

    const copySeconds = inputBytes / copyGBs / 1e9;
    const bound = 3 * largestTensor * 4;
    console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; input ${(inputBytes / 1e9).toFixed(2)} GB; largest tensor ${(largestTensor / 1e6).toFixed(0)} MB; RSS bound 3 × largest × 4 inputs = ${(bound / 1e9).toFixed(2)} GB`);
    console.log(`copy bandwidth: cat ${catGBs.toFixed(2)} GB/s, TypedArray.set ${setGBs.toFixed(2)} GB/s; bound = ${(inputBytes / 1e9).toFixed(2)} GB / ${copyGBs.toFixed(2)} GB/s = ${copySeconds.toFixed(3)} s`);
    console.log(`best of ${repeat} for the floor and the wasm row; one run otherwise`);
    console.log('| workload | seconds (best) | median | GB/s of input | / copy bound | CPU s | vs PyTorch | peak RSS | RSS / bound |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    console.log(`| copy bound (min of cat, TypedArray.set) | ${copySeconds.toFixed(3)} | – | ${copyGBs.toFixed(2)} | 1.00× | – | – | – | – |`);
    for (const row of rows) {
      const run = row.runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      const vsTorch = torch && row.isOurs ? `${(torch.seconds / run.seconds).toFixed(1)}× faster` : '–';
      const rss = run.maxRssBytes > 0 ? `${(run.maxRssBytes / 1e9).toFixed(2)} GB` : '–';
      const rssRatio = run.maxRssBytes > 0 ? (run.maxRssBytes / bound).toFixed(2) : '–';
      console.log(
        `| ${row.label} | ${run.seconds.toFixed(2)} | ${median(row.runs.map((x) => x.seconds)).toFixed(2)} | ${(inputBytes / run.seconds / 1e9).toFixed(2)} | ${(run.seconds / copySeconds).toFixed(2)}× | ${run.cpuSeconds?.toFixed(2) ?? '–'} | ${vsTorch} | ${rss} | ${rssRatio} |`,
      );
    }
    console.log('\nevery run (seconds):');
    for (const row of rows) console.log(`- ${row.label}: ${row.runs.map((x) => x.seconds.toFixed(2)).join(', ')}`);
    for (const row of rows) if (row.runs[0]?.pcc) console.log(`PCC (0,1) (0,2) (1,2), ${row.label}: ${row.runs[0].pcc.map((v) => v.toFixed(12)).join(', ')}`);
    console.log(`\nload after: ${execFileSync('uptime').toString().trim()}`);
  } finally {
    if (keptFamily === undefined) rmSync(dir, { recursive: true, force: true });
    rmSync(outRoot, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) await child();
else await main();
