/**
 * Per-phase profile of one task-vector merge on a bench:merge family (issue #16 item 3): runs runMerge in this
 * process with wall-clock timers around every kernel-pool call (by kernel name), the output writes, the
 * relatedness check and the pool start, and prints each phase's wall seconds and share beside the process CPU
 * seconds (user + sys of all threads, workers included). The workers run the kernels, so a kernel phase's CPU is
 * ≈ wall × workers; what the main thread does between kernel calls is "main thread, other".
 *
 *   node --import tsx bench/merge-profile.ts --family <dir> [--method ties] [--threads 2] [--out /dev/shm/x]
 *                                            [--final fused|blocks] [--arithmetic float32|float64] [--back-gib 6]
 *
 * `<dir>` holds base, ft-1..3 as written by bench:merge `--family` (or bench/support/bf16-family.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KernelPool } from '../src/kernels/pool.js';
import { ModelFolderWriter } from '../src/io/shard-writer.js';
import * as relatedness from '../src/merge/relatedness.js';
import { runMerge } from '../src/merge/index.js';
import { finalPassTuning } from '../src/kernels/wasm/task-vector-passes.js';
import { CutBands } from '../src/merge/fused-cut-bands.js';
import { argValue } from './support/child-run.js';
import { backFreePages } from './support/back-free-pages.js';

const phases = new Map<string, { seconds: number; calls: number }>();
function record(name: string, seconds: number): void {
  const phase = phases.get(name) ?? { seconds: 0, calls: 0 };
  phase.seconds += seconds;
  phase.calls += 1;
  phases.set(name, phase);
}
function timed<T extends object>(target: T, method: keyof T & string, label: (args: unknown[]) => string): void {
  const original = target[method] as unknown as (...args: unknown[]) => unknown;
  (target as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]): unknown {
    const started = performance.now();
    const result = original.apply(this, args);
    const done = (): void => record(label(args), (performance.now() - started) / 1000);
    if (result instanceof Promise) return result.finally(done);
    done();
    return result;
  };
}

const family = argValue('--family');
if (family === undefined) throw new Error('--family <dir> is required');
const method = argValue('--method') ?? 'ties';
const threads = Number(argValue('--threads') ?? 2);
const outRoot = argValue('--out') ?? mkdtempSync('/dev/shm/modelevo-profile-');
const out = join(outRoot, method);
finalPassTuning.fused = argValue('--final') !== 'blocks';
// as bench:merge does before every timed run (`--back-gib 0`: not)
backFreePages(Number(argValue('--back-gib') ?? 6));
const arithmetic = argValue('--arithmetic') === 'float64' ? 'float64' : 'float32';

// every kernel call goes through runSplit or the streamed conversions; the pool is exclusive, so wall times add up
const PASS_NAMES = ['load (read, decode, δ, first select level or cut bands / l1 norms)', 'second select level', 'sparsify + combine + encode + write'];
{
  // taskVectorPass: one label per pass (its first argument)
  const runSplit = KernelPool.prototype.runSplit;
  KernelPool.prototype.runSplit = function (this: KernelPool, kernel, n, argsFor, options) {
    let label = `kernel ${kernel}`;
    const started = performance.now();
    const wrapped = (start: number, length: number, part: number): readonly number[] => {
      const args = argsFor(start, length, part);
      if (kernel === 'taskVectorPass') label = `kernel taskVectorPass: ${PASS_NAMES[args[0]!] ?? '?'}`;
      return args;
    };
    return runSplit.call(this, kernel, n, wrapped, options).finally(() => record(label, (performance.now() - started) / 1000));
  };
}
for (const name of ['bf16ToF32', 'f16ToF32', 'f32ToBf16', 'f32ToF16', 'weightedSum'] as const) timed(KernelPool.prototype, name, () => `kernel ${name}`);
timed(KernelPool, 'create', () => 'kernel pool start');
timed(ModelFolderWriter.prototype, 'writeTensor', () => 'output write (main thread)');
timed(ModelFolderWriter.prototype, 'commit', () => 'output commit');
// the calling thread's share of the top-k cuts: the sample's reads and its band selection (no kernel calls inside;
// with an idle calling thread most of it runs while the workers run the previous tensor's FINAL pass)
timed(CutBands.prototype, 'sample', () => 'cut bands: sample reads + band selection (main thread)');
void relatedness; // checkRelatedness is an ES binding: timed as the gap before the pool starts (see below)

const names = ['base', 'ft-1', 'ft-2', 'ft-3'].map((n) => join(family, n));
const config = {
  merge_method: method,
  base_model: names[0],
  models: names.slice(1).map((model) => ({ model, parameters: { weight: 1, density: 0.2 } })),
  dtype: 'bfloat16',
};
const cpuBefore = process.cpuUsage();
const started = performance.now();
try {
  await runMerge(config, out, { progress: 'none', kernels: 'wasm', threads, copyTokenizer: false, arithmetic });
} finally {
  rmSync(outRoot, { recursive: true, force: true });
}
const wall = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
let accounted = 0;
console.log(`${method}, ${threads} threads: wall ${wall.toFixed(2)} s, CPU ${cpuSeconds.toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, sys ${(cpu.system / 1e6).toFixed(2)})`);
console.log('| phase | calls | wall s | share of wall |');
console.log('|---|---|---|---|');
for (const [name, phase] of [...phases].sort((a, b) => b[1].seconds - a[1].seconds)) {
  accounted += phase.seconds;
  console.log(`| ${name} | ${phase.calls} | ${phase.seconds.toFixed(3)} | ${((100 * phase.seconds) / wall).toFixed(1)}% |`);
}
console.log(`| main thread, other (plan, relatedness check, reads, JS between calls) | – | ${(wall - accounted).toFixed(3)} | ${((100 * (wall - accounted)) / wall).toFixed(1)}% |`);
console.log(JSON.stringify({ method, wall, cpuSeconds }));
