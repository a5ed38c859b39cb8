import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnginePool } from './pool.js';
import type { EngineJob } from './jobs.js';
import type { WindowBatch } from '../../tasks/anomaly/series.js';
import { BASELINE_GENOME, initialWeights, planAutoencoder, type ConvAutoencoderGenome } from './conv-autoencoder.js';

const GENOME: ConvAutoencoderGenome = { ...BASELINE_GENOME, window: 3, convLayers: [{ channels: 8, kernel: 3, stride: 1 }] };

function windows(count: number, phase: number): WindowBatch {
  const [window, features] = [3, 4];
  const data = Float32Array.from({ length: count * window * features }, (_, i) => Math.sin(0.37 * i + phase) * 0.7);
  return { data, count, window, features };
}

const trainJob = (epochs: number, seed: number): EngineJob => ({ kind: 'train-score', genome: GENOME, train: windows(96, seed), score: [windows(16, 0.5)], options: { epochs, batchSize: 16, seed }, returnWeights: false });
const plan = planAutoencoder(GENOME, 4);
if ('invalid' in plan) throw new Error(plan.invalid);
const scoreJob = (seed: number): EngineJob => ({ kind: 'score', genome: GENOME, weights: initialWeights(plan, seed), score: [windows(8, seed)] });

test('pool: a free worker takes the next queued job at once (one long job does not hold back the short ones)', async () => {
  const pool = await EnginePool.create({ workers: 2 });
  try {
    await pool.run([scoreJob(0), scoreJob(1)]); // warm-up: wasm set-up in both workers
    const before = pool.stats().jobs;
    // the long job trains ~40× longer than a score job; in lock-step pairs each worker would get 3 jobs
    const results = await pool.run([trainJob(40, 1), scoreJob(2), scoreJob(3), scoreJob(4), scoreJob(5), scoreJob(6)]);
    assert.ok(results.every((r) => r.ok));
    const taken = pool.stats().jobs.map((n, i) => n - before[i]!).sort();
    assert.deepEqual(taken, [1, 5], `jobs per worker in this batch: ${taken}`);
  } finally {
    await pool.close();
  }
});

test('pool: concurrent run calls share the workers and give the inline results in job order', async () => {
  const a = [trainJob(2, 7), scoreJob(8), trainJob(1, 9)];
  const b = [scoreJob(10), trainJob(2, 11)];
  const inline = await EnginePool.create({ workers: 0 });
  const pool = await EnginePool.create({ workers: 2 });
  try {
    const [refA, refB] = await Promise.all([inline.run(a), inline.run(b)]);
    const [gotA, gotB] = await Promise.all([pool.run(a), pool.run(b)]);
    for (const [got, ref] of [[gotA, refA], [gotB, refB]] as const) {
      assert.equal(got.length, ref.length);
      got.forEach((r, i) => {
        const expected = ref[i]!;
        assert.ok(r.ok && expected.ok, `job ${i} failed`);
        assert.deepEqual(r.scores, expected.scores, `job ${i}`);
      });
    }
    const stats = pool.stats();
    assert.equal(stats.jobs.reduce((x, y) => x + y, 0), 5);
    assert.ok(stats.jobs.every((n) => n > 0), `both workers used: ${stats.jobs}`);
    assert.ok(stats.busySeconds.every((s) => s > 0 && s <= stats.wallSeconds));
  } finally {
    await pool.close();
    await inline.close();
  }
});
