/**
 * bench:train — the training engine (engines.md §2, §7; issue #6 acceptance): steps/s of the AD-NEv conv
 * autoencoder (25 features × 10 time steps, batch 128, Adam) through AD-NEv's own trainer, which runs on the
 * engine (src/nn, 1 thread; tfjs before issue #22 — its rows are in BENCHMARKS.md's older runs), beside the
 * same model in PyTorch (Debian python3-torch + OpenBLAS, 2 torch threads, OPENBLAS_NUM_THREADS=1) measured
 * in the same run, and the population-evaluation speed-up of the engine pool with 2 workers vs 1.
 *
 * Usage: npm run bench:train [-- --seconds 3 --population 8 --python /usr/bin/python3]
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { trainAutoencoder } from '../src/neuro/ad-nev/autoencoder-trainer.js';
import type { WindowBatch } from '../src/tasks/anomaly/series.js';
import { EnginePool } from '../src/neuro/ad-nev/pool.js';
import type { EngineJob } from '../src/neuro/ad-nev/jobs.js';
import { BASELINE_GENOME, planAutoencoder, type ConvAutoencoderGenome } from '../src/neuro/ad-nev/conv-autoencoder.js';
import { createRng } from '../src/core/rng.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const SECONDS = Number(flag('seconds', '3'));
const POPULATION = Number(flag('population', '8'));
const PYTHON = flag('python', '/usr/bin/python3');
const [FEATURES, WINDOW, BATCH] = [25, 10, 128];

// the hand-configured baseline member, on the window the PyTorch script uses
const GENOME: ConvAutoencoderGenome = { ...BASELINE_GENOME, window: WINDOW };

function randomWindows(count: number, key: string): WindowBatch {
  const rng = createRng('bench-train', key);
  return { data: Float32Array.from({ length: count * WINDOW * FEATURES }, () => 2 * rng.next() - 1), count, window: WINDOW, features: FEATURES };
}

/** steps/s: best of 3 timed runs of whole epochs over one batch-sized dataset (model compile included) */
function engineStepsPerSecond(): number {
  const windows = randomWindows(BATCH, 'steps');
  trainAutoencoder(GENOME, windows, { epochs: 5, batchSize: BATCH, seed: 0 });
  let best = 0;
  for (let repeat = 0; repeat < 3; repeat++) {
    let steps = 0;
    const start = performance.now();
    while (performance.now() - start < SECONDS * 1000) {
      steps += (trainAutoencoder(GENOME, windows, { epochs: 10, batchSize: BATCH, seed: repeat })).steps;
    }
    best = Math.max(best, steps / ((performance.now() - start) / 1000));
  }
  return best;
}

function torchStepsPerSecond(): { stepsPerSecond: number; version: string } | { error: string } {
  const plan = planAutoencoder(GENOME, FEATURES);
  if ('invalid' in plan) throw new Error(plan.invalid);
  const script = fileURLToPath(new URL('./train_torch.py', import.meta.url));
  const payload = JSON.stringify({ ...plan, batch: BATCH, threads: 2, seconds: SECONDS, repeats: 3 });
  const result = spawnSync(PYTHON, [script, payload], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' } });
  if (result.status !== 0) return { error: (result.stderr || result.error?.message || 'failed').trim().split('\n').slice(-1)[0]! };
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { steps_per_second: number; torch: string };
  return { stepsPerSecond: parsed.steps_per_second, version: parsed.torch };
}

async function populationSeconds(workers: number): Promise<{ seconds: number; scores: string; busy: number }> {
  const train = randomWindows(512, 'population');
  const validation = randomWindows(128, 'validation');
  const jobs: EngineJob[] = Array.from({ length: POPULATION }, (_, i) => ({
    kind: 'train-score',
    genome: GENOME,
    train,
    score: [validation],
    options: { epochs: 4, batchSize: 32, seed: i },
    returnWeights: false,
  }));
  const pool = await EnginePool.create({ workers });
  try {
    await pool.run(jobs.slice(0, workers)); // warm-up: wasm compile and kernel setup in every worker
    const before = pool.stats().busySeconds.reduce((a, b) => a + b, 0);
    const start = performance.now();
    const results = await pool.run(jobs);
    const seconds = (performance.now() - start) / 1000;
    // share of worker time spent in jobs during the timed batch (1 = every worker busy all the time)
    const busy = (pool.stats().busySeconds.reduce((a, b) => a + b, 0) - before) / (seconds * workers);
    return { seconds, busy, scores: JSON.stringify(results.map((r) => (r.ok ? Array.from(r.scores[0]!.slice(0, 4)) : r.error))) };
  } finally {
    await pool.close();
  }
}

/**
 * Control for the speed-up: a pure-JS busy loop on 1 vs 2 worker threads. On an idle 2-core box it scales
 * ≈ 2×; when other processes saturate the cores it does not, and neither can the engine pool.
 */
async function busyLoopSpeedup(): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads'); let x = 0; for (let i = 0; i < 2e8; i++) x = (x * 1103515245 + 12345) | 0; parentPort.postMessage(x);`;
  const wall = async (n: number): Promise<number> => {
    const start = performance.now();
    await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
      const worker = new Worker(code, { eval: true });
      worker.once('message', () => void worker.terminate().then(() => resolve()));
    })));
    return performance.now() - start;
  };
  return (2 * (await wall(1))) / (await wall(2));
}

const engine = engineStepsPerSecond();
const torch = torchStepsPerSecond();
const one = await populationSeconds(1);
const two = await populationSeconds(2);
const control = await busyLoopSpeedup();

console.log(`bench:train — conv autoencoder ${WINDOW}×${FEATURES} (channels 32/64, kernels 3, strides 1/2), batch ${BATCH}, Adam; ${cpus().length} logical CPUs (${cpus()[0]?.model}); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes share the cores: compare ratios, not absolutes)`);
console.log('engine                                   steps/s   vs PyTorch');
const torchRate = 'stepsPerSecond' in torch ? torch.stepsPerSecond : NaN;
const row = (name: string, rate: number): void => console.log(`${name.padEnd(40)} ${rate.toFixed(1).padStart(8)}   ${Number.isFinite(torchRate) ? (rate / torchRate).toFixed(2) + '×' : 'n/a'}`);
row('nn engine via AD-NEv trainer (1 thread)', engine);
if ('stepsPerSecond' in torch) row(`PyTorch ${torch.version} (2 threads, OpenBLAS 1 thread)`, torch.stepsPerSecond);
else console.log(`PyTorch: not measured (${torch.error})`);
console.log(`\npopulation of ${POPULATION} candidates (train 4 epochs × 16 steps + score), engine pool:`);
console.log(`1 worker  ${one.seconds.toFixed(2)} s   workers busy ${(100 * one.busy).toFixed(0)}%`);
console.log(`2 workers ${two.seconds.toFixed(2)} s   workers busy ${(100 * two.busy).toFixed(0)}%   speed-up ${(one.seconds / two.seconds).toFixed(2)}×   identical results: ${one.scores === two.scores}`);
console.log(`control: pure-JS busy loop, 2 threads vs 1, throughput ratio ${control.toFixed(2)}× (≈ 2× on idle cores)`);
