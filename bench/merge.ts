/**
 * bench:merge — merge throughput on a synthetic Llama-shaped bf16 family (issue #3 acceptance; engines.md §4,
 * §7). Writes base + 3 fine-tunes (TinyLlama shapes: hidden 2048, intermediate 5632, 22 layers, 32 KV-grouped
 * heads, vocab 32000 → ~2.2 GB each) with our writer under /tmp, warms the page cache, then measures in one run:
 * memory copy bandwidth (TypedArray.set, `cat model > /dev/null`), the I/O floor of a linear merge in Node
 * (bench/merge-floor.ts: the same reads and one output's writes, no arithmetic), modelevo linear (wasm kernels,
 * float32 and float64 arithmetic) `--repeat` times each, alternating, ties, dare_ties, della and breadcrumbs_ties
 * `--tv-repeat` times each (default once), and the same merges by
 * bench/merge_torch.py. Every merge runs in its own child process so its peak RSS (VmHWM) is its own. Outputs go
 * to /dev/shm (tmpfs) so disk write speed and fsync are measured for neither tool. GB/s = input bytes / wall time.
 * Removes everything at the end.
 *
 *   npm run bench:merge [-- --layers 22 --repeat 3 --tv-repeat 1 --skip-torch --skip-ties --methods ties,della --torch-methods ties,dare_ties
 *                          --reference --family <dir> --back-gib 6]
 *
 * `--back-gib` (default 6): GiB written to and deleted from /dev/shm before every timed run, the floor's and
 * PyTorch's too, so that no run pays this VM's cost of first writes to pages the host took back
 * (bench/support/back-free-pages.ts; `0` measures without).
 *
 * `--torch-methods` picks the task-vector merges PyTorch also runs (default: ties, the one #16's "≥ 10× PyTorch"
 * is about; `all` for every method of `--methods`): the PyTorch DARE/DELLA/Breadcrumbs rows take minutes each on
 * the 22-layer family, and without them the whole bench stays within ~15 min on an idle 2-core box.
 *
 * `--family <dir>` keeps the synthetic family in <dir> (written there on the first run, reused after), so
 * repeated runs skip the minute of writing it; the caller deletes it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HIDDEN, VOCAB, catSeconds, folderBytes, peakRssBytes, setBandwidth, writeFamily } from './support/bf16-family.js';
import { DEFAULT_FILE_BLOCK_ELEMENTS } from '../src/merge/fast-path.js';
import { runMerge } from '../src/merge/index.js';
import { argValue, runChild, type ChildRun } from './support/child-run.js';
import { backFreePages } from './support/back-free-pages.js';
import type { FloorResult } from './merge-floor.js';

/** GiB of free memory written and deleted before each timed run (support/back-free-pages.ts); `--back-gib 0`: none */
const backGib = Number(argValue('--back-gib') ?? 6);

/** the task-vector merges bench:merge times, besides linear (issue #16) */
const TASK_VECTOR_METHODS = ['ties', 'dare_ties', 'della', 'breadcrumbs_ties'];

/** Child process: one modelevo merge, prints {seconds, maxRssBytes, cpuSeconds}. */
async function child(): Promise<void> {
  const [method, familyDir, out, kernels, arithmetic] = process.argv.slice(process.argv.indexOf('--child') + 1) as [string, string, string, string, string];
  const names = ['base', 'ft-1', 'ft-2', 'ft-3'].map((n) => join(familyDir, n));
  const config =
    method === 'linear'
      ? { merge_method: 'linear', models: names.map((model) => ({ model, parameters: { weight: 0.25 } })), dtype: 'bfloat16' }
      : {
          // the ties family: weight 1, density 0.2 each; della's epsilon (0.15) and breadcrumbs' gamma (0.01) default
          merge_method: method,
          base_model: names[0],
          models: names.slice(1).map((model) => ({ model, parameters: { weight: 1, density: 0.2 } })),
          dtype: 'bfloat16',
        };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await runMerge(config, out, {
    progress: 'none',
    kernels: kernels as 'wasm' | 'reference',
    threads: 2,
    copyTokenizer: false,
    arithmetic: arithmetic === 'float64' ? 'float64' : 'float32',
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(`${JSON.stringify({ seconds, maxRssBytes: peakRssBytes(), cpuSeconds: (cpu.user + cpu.system) / 1e6, kernels: result.kernels })}\n`);
}

interface Row {
  readonly label: string;
  /** every repetition, in run order */
  readonly runs: readonly ChildRun[];
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const best = (row: Row): ChildRun => row.runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

async function main(): Promise<void> {
  const layers = Number(argValue('--layers') ?? 22);
  const torchMissing = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0;
  if (torchMissing) console.log('PyTorch: skipped (python3 cannot import torch; install python3-torch)');
  const skipTorch = process.argv.includes('--skip-torch') || torchMissing;
  const withReference = process.argv.includes('--reference');
  const repeat = Number(argValue('--repeat') ?? 3);
  // this VM's speed drifts by up to ~40% between minutes (same code: ties 7.4 s, then 10.5 s): repeats show it
  const tvRepeat = Number(argValue('--tv-repeat') ?? 1);
  const keptFamily = argValue('--family');
  const dir = keptFamily ?? mkdtempSync(join(tmpdir(), 'modelevo-bench-merge-'));
  const outRoot = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/modelevo-bench-out-') : mkdtempSync(join(tmpdir(), 'modelevo-bench-out-'));
  try {
    console.log(`load before: ${execFileSync('uptime').toString().trim()}; ${backGib} GiB of free pages backed before every timed run`);
    let started = performance.now();
    const reuse = keptFamily !== undefined && existsSync(join(dir, 'ft-3', 'config.json'));
    const folders = reuse ? ['base', 'ft-1', 'ft-2', 'ft-3'].map((n) => join(dir, n)) : writeFamily(dir, layers);
    const modelBytes = folderBytes(folders[0]!);
    const inputBytes = 4 * modelBytes;
    const largestTensor = VOCAB * HIDDEN * 2;
    console.log(`${reuse ? 'reused' : 'wrote'} 4 models × ${(modelBytes / 1e9).toFixed(2)} GB in ${((performance.now() - started) / 1000).toFixed(1)} s (${dir})`);
    for (const folder of folders) catSeconds(folder); // warm the page cache
    const catGBs = modelBytes / Math.min(catSeconds(folders[1]!), catSeconds(folders[1]!)) / 1e9;
    const setGBs = setBandwidth();
    const copyGBs = Math.min(catGBs, setGBs);
    console.log(`copy bandwidth: cat model > /dev/null ${catGBs.toFixed(2)} GB/s; TypedArray.set (1 GiB, bytes copied/s) ${setGBs.toFixed(2)} GB/s`);

    const rows: Row[] = [];
    const self = ['--import', 'tsx', new URL(import.meta.url).pathname];
    const floorScript = new URL('./merge-floor.ts', import.meta.url).pathname;
    const floorParts: FloorResult[] = [];
    // the linear rows alternate run by run, so a change in machine load hits each of them alike
    const linearRows: Row[] = [
      { label: 'I/O floor: read inputs + write output, no arithmetic (2 workers)', runs: [] },
      { label: 'modelevo linear (wasm, float32)', runs: [] },
      { label: 'modelevo linear (wasm, float64)', runs: [] },
      ...(withReference ? [{ label: 'modelevo linear (reference)', runs: [] }] : []),
    ];
    for (let r = 0; r < repeat; r++) {
      const floorOut = mkdtempSync(join(outRoot, 'floor-'));
      // the floor reads in the merge's block (bf16 elements → bytes)
      const block = String(DEFAULT_FILE_BLOCK_ELEMENTS * 2);
      backFreePages(backGib);
      const floorRun = spawnSync(process.execPath, ['--import', 'tsx', floorScript, floorOut, ...folders, '--block', block], { encoding: 'utf8' });
      if (floorRun.status !== 0) throw new Error(`merge-floor failed:\n${floorRun.stderr}`);
      rmSync(floorOut, { recursive: true, force: true });
      const floor = JSON.parse(floorRun.stdout.trim().split('\n').pop()!) as FloorResult;
      floorParts.push(floor);
      (linearRows[0]!.runs as ChildRun[]).push({ seconds: floor.seconds, maxRssBytes: 0, cpuSeconds: floor.cpuSeconds });
      const variants: [number, string, string][] = [
        [1, 'wasm', 'float32'],
        [2, 'wasm', 'float64'],
        ...(withReference ? ([[3, 'reference', 'float64']] as [number, string, string][]) : []),
      ];
      for (const [row, kernels, arithmetic] of variants) {
        const out = join(outRoot, `linear-${kernels}-${arithmetic}`);
        backFreePages(backGib);
        (linearRows[row]!.runs as ChildRun[]).push(runChild(process.execPath, [...self, '--child', 'linear', dir, out, kernels, arithmetic]));
        rmSync(out, { recursive: true, force: true });
      }
    }
    rows.push(...linearRows);
    if (!skipTorch) rows.push({ label: 'PyTorch linear', runs: [torchRun('linear', folders, outRoot)] });
    // the task-vector family, once each (`--methods ties,della` for a subset; `--skip-ties` for none)
    const familyMethods = process.argv.includes('--skip-ties') ? [] : (argValue('--methods') ?? TASK_VECTOR_METHODS.join(',')).split(',');
    const torchMethodsArg = argValue('--torch-methods') ?? 'ties';
    const torchMethods = torchMethodsArg === 'all' ? familyMethods : torchMethodsArg.split(',');
    for (const method of familyMethods) {
      const out = join(outRoot, `${method}-wasm`);
      const runs: ChildRun[] = [];
      for (let r = 0; r < tvRepeat; r++) {
        backFreePages(backGib);
        const run = runChild(process.execPath, [...self, '--child', method, dir, out, 'wasm', 'float32']);
        // a progress line per merge: the slow ones (not on the fast path yet) take minutes
        console.error(`${method}: ${run.seconds.toFixed(2)} s, ${(inputBytes / run.seconds / 1e9).toFixed(2)} GB/s, CPU ${run.cpuSeconds?.toFixed(2) ?? '?'} s`);
        runs.push(run);
        rmSync(out, { recursive: true, force: true });
      }
      rows.push({ label: `modelevo ${method} (wasm)`, runs });
      if (!skipTorch && torchMethods.includes(method)) rows.push({ label: `PyTorch ${method}`, runs: [torchRun(method, folders, outRoot)] });
    }

    const torchOf = (method: string): ChildRun | undefined => rows.find((r) => r.label === `PyTorch ${method}`)?.runs[0];
    const copySeconds = inputBytes / copyGBs / 1e9;
    console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; input ${(inputBytes / 1e9).toFixed(2)} GB per merge; largest tensor ${(largestTensor / 1e6).toFixed(0)} MB; RSS bound 3 × largest × 4 inputs = ${((3 * largestTensor * 4) / 1e9).toFixed(2)} GB`);
    console.log(`copy-bandwidth bound: ${(inputBytes / 1e9).toFixed(2)} GB / ${copyGBs.toFixed(2)} GB/s = ${copySeconds.toFixed(3)} s (1.5× = ${(1.5 * copySeconds).toFixed(3)} s)`);
    console.log(`best of ${repeat} for the linear rows, of ${tvRepeat} for the modelevo task-vector rows (every run: the list below); PyTorch one run each`);
    console.log('| merge | seconds (best) | median | GB/s of input | / copy bound | CPU s | vs PyTorch | peak RSS | RSS / (largest × inputs) |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const row of rows) {
      const run = best(row);
      const gbs = inputBytes / run.seconds / 1e9;
      const method = row.label.split(' ')[1] ?? 'linear';
      const torch = torchOf(method);
      const isMerge = !row.label.startsWith('PyTorch') && !row.label.startsWith('I/O floor');
      const vsTorch = torch && isMerge ? `${(torch.seconds / run.seconds).toFixed(1)}× faster` : '–';
      const rss = run.maxRssBytes > 0 ? `${(run.maxRssBytes / 1e9).toFixed(2)} GB` : '–';
      const rssRatio = run.maxRssBytes > 0 ? (run.maxRssBytes / (largestTensor * 4)).toFixed(2) : '–';
      const cpu = run.cpuSeconds === undefined ? '–' : run.cpuSeconds.toFixed(2);
      console.log(
        `| ${row.label} | ${run.seconds.toFixed(2)} | ${median(row.runs.map((x) => x.seconds)).toFixed(2)} | ${gbs.toFixed(2)} | ${(run.seconds / copySeconds).toFixed(2)}× | ${cpu} | ${vsTorch} | ${rss} | ${rssRatio} |`,
      );
    }
    console.log('\nevery run (seconds):');
    for (const row of rows) console.log(`- ${row.label}: ${row.runs.map((x) => x.seconds.toFixed(2)).join(', ')}`);
    const floorBest = floorParts.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    console.log(
      `I/O floor parts (each timed alone, best run): read ${(floorBest.inputBytes / 1e9).toFixed(2)} GB ${Math.min(...floorParts.map((f) => f.readOnlySeconds)).toFixed(3)} s; ` +
        `write ${(floorBest.outputBytes / 1e9).toFixed(2)} GB ${Math.min(...floorParts.map((f) => f.writeOnlySeconds)).toFixed(3)} s; ` +
        `plain-JS worker start ${Math.min(...floorParts.map((f) => f.startSeconds)).toFixed(3)} s (not in the floor)`,
    );
    console.log(`\ncopy bandwidth = min(cat, TypedArray.set) = ${copyGBs.toFixed(2)} GB/s; load after: ${execFileSync('uptime').toString().trim()}`);
  } finally {
    if (keptFamily === undefined) rmSync(dir, { recursive: true, force: true });
    rmSync(outRoot, { recursive: true, force: true });
  }
}

function torchRun(method: string, folders: readonly string[], outRoot: string): ChildRun {
  const out = join(outRoot, `${method}-torch`);
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' };
  const script = new URL('./merge_torch.py', import.meta.url).pathname;
  const args = [script, '--method', method, '--base', folders[0]!, '--models', ...folders.slice(1), '--out', out, '--threads', '2'];
  backFreePages(backGib);
  const run = runChild('/usr/bin/python3', args, env);
  rmSync(out, { recursive: true, force: true });
  return run;
}

if (process.argv.includes('--child')) await child();
else await main();
