/**
 * `npm run bench:continual`: wall time per task of GPM (and SGP, FS-DGPM) against naive fine-tuning on
 * Permuted Fashion-MNIST, measured in the same process and run (fs-dgpm.md; issue #8), trained on the engine
 * (src/nn, WebAssembly SIMD kernels; issue #22 — the tfjs path it timed before is gone). Time per task covers
 * the training steps plus the end-of-task memory update; evaluation is excluded. Task 0 is reported apart
 * because no projection is active yet. Flags: --tasks N (4), --train-per-task N (1000), --methods a,b,
 * --glances N (1) and --momentum μ (0) for FS-DGPM (its paper's PMNIST setting: --glances 5 --momentum 0.9; a
 * "training step" is then one incoming batch, i.e. 5 updates).
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CONTINUAL_METHODS, parseContinualConfig, type ContinualMethod } from '../src/continual/config.js';
import { runContinual } from '../src/continual/run.js';
import { loadFashionMnist, permutedStream } from '../src/tasks/fashion-mnist/streams.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '4' },
    'train-per-task': { type: 'string', default: '1000' },
    methods: { type: 'string', default: CONTINUAL_METHODS.join(',') },
    glances: { type: 'string', default: '1' },
    momentum: { type: 'string', default: '0' },
  },
});
const tasks = Number(values.tasks);
const trainPerTask = Number(values['train-per-task']);
const methods = values.methods.split(',') as ContinualMethod[];

const data = loadFashionMnist();
const stream = permutedStream(data, { seed: 0, trainPerTask, testPerTask: 500, tasks });
const load = loadavg()[0]!;
// warm-up: compile wasm kernels and JIT the loops once
runContinual(permutedStream(data, { seed: 1, trainPerTask: 100, testPerTask: 100, tasks: 2 }), parseContinualConfig({ method: 'gpm', benchmark: 'pfmnist', trainPerTask: 100 }));

const rows: { method: string; first: number; later: number; update: number; steps: number }[] = [];
for (const method of methods) {
  const fsDgpm = method === 'fs-dgpm' ? { glances: Number(values.glances), momentum: Number(values.momentum) } : {};
  const result = runContinual(stream, parseContinualConfig({ method, benchmark: 'pfmnist', trainPerTask, ...fsDgpm }));
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  rows.push({ method, first: result.secondsPerTask[0]!, later: mean(result.secondsPerTask.slice(1)), update: mean(result.updateSecondsPerTask.slice(1)), steps: Math.ceil(trainPerTask / 10) });
  process.stderr.write(`${method}: ${result.secondsPerTask.map((s) => s.toFixed(2)).join(' ')} s per task\n`);
}
const naive = rows.find((r) => r.method === 'naive');
console.log(`Permuted Fashion-MNIST, ${tasks} tasks × ${trainPerTask} examples (batch 10, ${rows[0]?.steps} steps per task; FS-DGPM ${values.glances} glance(s), momentum ${values.momentum}), engine (src/nn) wasm SIMD, ${cpus().length} vCPUs, load average ${load.toFixed(1)} at start → ${loadavg()[0]!.toFixed(1)} at end`);
console.log('');
console.log('| method | task 0 (s) | tasks 1+ (s / task) | of which memory update (s / task) | ms / training step, tasks 1+ | tasks 1+ vs naive |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const ratio = naive ? `${(r.later / naive.later).toFixed(2)}×` : '–';
  console.log(`| ${r.method} | ${r.first.toFixed(2)} | ${r.later.toFixed(2)} | ${r.update.toFixed(2)} | ${((1000 * (r.later - r.update)) / r.steps).toFixed(1)} | ${ratio} |`);
}
