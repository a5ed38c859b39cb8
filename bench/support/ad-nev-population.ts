/**
 * Child workload of bench:nn-train's population row: `models` AD-NEv baseline conv autoencoders (10 × 25
 * window, channels 32/64, batch 128, Adam) trained concurrently on the engine pool (src/neuro/ad-nev/pool.ts,
 * one model per worker), each for `steps` optimiser steps, plus a small held-out scoring as in the pipeline.
 * Prints one JSON line: total steps/s over the wall time of the timed batch, and this process's peak RSS
 * (worker threads included: they share the process).
 *
 * Usage: node --import tsx bench/support/ad-nev-population.ts --workers 2 --models 2 --steps 80
 */
import { EnginePool } from '../../src/neuro/ad-nev/pool.js';
import type { EngineJob } from '../../src/neuro/ad-nev/jobs.js';
import { BASELINE_GENOME, type ConvAutoencoderGenome } from '../../src/neuro/ad-nev/conv-autoencoder.js';
import type { WindowBatch } from '../../src/tasks/anomaly/series.js';
import { createRng } from '../../src/core/rng.js';
import { argValue } from './child-run.js';

const WORKERS = Number(argValue('--workers') ?? '2');
const MODELS = Number(argValue('--models') ?? String(WORKERS));
const STEPS = Number(argValue('--steps') ?? '80');
const [WINDOW, FEATURES, BATCH, BATCHES_PER_EPOCH] = [10, 25, 128, 8];
// the hand-configured baseline on the window bench/train_torch.py uses (the same network as BASELINE_AUTOENCODER)
const GENOME: ConvAutoencoderGenome = { ...BASELINE_GENOME, window: WINDOW };

function randomWindows(count: number, key: string): WindowBatch {
  const rng = createRng('bench-ad-nev-population', key);
  return { data: Float32Array.from({ length: count * WINDOW * FEATURES }, () => 2 * rng.next() - 1), count, window: WINDOW, features: FEATURES };
}

const train = randomWindows(BATCH * BATCHES_PER_EPOCH, 'train');
const heldOut = randomWindows(BATCH, 'held-out');
const job = (seed: number, steps: number): EngineJob => ({
  kind: 'train-score',
  genome: GENOME,
  train,
  score: [heldOut],
  options: { epochs: Math.ceil(steps / BATCHES_PER_EPOCH), batchSize: BATCH, seed, maxSteps: steps },
  returnWeights: false,
});

const pool = await EnginePool.create({ workers: WORKERS });
try {
  // warm-up: module compilation and JIT in every worker
  await pool.run(Array.from({ length: WORKERS }, (_, i) => job(1000 + i, 10)));
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const results = await pool.run(Array.from({ length: MODELS }, (_, i) => job(i, STEPS)));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  let steps = 0;
  for (const r of results) {
    if (!r.ok) throw new Error(`population job failed: ${r.error}`);
    steps += r.steps ?? 0;
  }
  console.log(JSON.stringify({ seconds, steps, stepsPerSecond: steps / seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
} finally {
  await pool.close();
}
