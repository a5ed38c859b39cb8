import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreWindows, trainAutoencoder } from './autoencoder-trainer.js';
import type { WindowBatch } from '../../tasks/anomaly/series.js';
import { EnginePool } from './pool.js';
import type { EngineJob } from './jobs.js';
import { loadModel, saveModel } from './model-io.js';
import { BASELINE_GENOME, planAutoencoder, parameterCount, type ConvAutoencoderGenome, type ModelWeights } from './conv-autoencoder.js';
import { SafetensorsFile } from '../../io/safetensors/reader.js';
import { executeJob } from './jobs.js';
import { clearCompiledNetworks } from './engine-network.js';

/** Sliding windows over a smooth multichannel signal in [−1, 1]. */
function sineWindows(count: number, window: number, features: number, phase = 0): WindowBatch {
  const data = new Float32Array(count * window * features);
  for (let n = 0; n < count; n++)
    for (let t = 0; t < window; t++)
      for (let f = 0; f < features; f++) data[(n * window + t) * features + f] = Math.sin(0.3 * (n + t) + f + phase) * 0.8;
  return { data, count, window, features };
}

const SMALL: ConvAutoencoderGenome = {
  ...BASELINE_GENOME,
  window: 4,
  convLayers: [
    { channels: 8, kernel: 3, stride: 1 },
    { channels: 12, kernel: 2, stride: 2 },
  ],
  fcRatios: [0.5],
  skip: true,
  learningRate: 5e-3,
};

test('plan: output length equals input length for every layer configuration in a grid', () => {
  for (const features of [1, 2, 5, 25, 55])
    for (const kernel of [2, 3, 5, 7])
      for (const stride of [1, 2]) {
        const plan = planAutoencoder({ ...SMALL, convLayers: [{ channels: 4, kernel, stride }, { channels: 6, kernel, stride }] }, features);
        assert.ok(!('invalid' in plan), `features ${features} kernel ${kernel} stride ${stride}: ${JSON.stringify(plan)}`);
        assert.equal(plan.decoder[plan.decoder.length - 1]!.outLength, features);
        assert.equal(plan.decoder[plan.decoder.length - 1]!.outChannels, SMALL.window);
      }
});

test('training lowers the reconstruction error and is bit-identical for a seed', () => {
  const windows = sineWindows(96, SMALL.window, 6);
  const options = { epochs: 8, batchSize: 16, seed: 7 };
  const before = trainAutoencoder(SMALL, windows, { ...options, epochs: 0 });
  const a = trainAutoencoder(SMALL, windows, options);
  const b = trainAutoencoder(SMALL, windows, options);
  const scoreBefore = scoreWindows(SMALL, before.weights, windows);
  const scoreAfter = scoreWindows(SMALL, a.weights, windows);
  const mean = (xs: Float64Array): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.equal(a.steps, 8 * 6);
  assert.ok(mean(scoreAfter) < 0.5 * mean(scoreBefore), `mean error ${mean(scoreAfter)} vs untrained ${mean(scoreBefore)}`);
  for (const name of Object.keys(a.weights)) assert.deepEqual(a.weights[name]!.data, b.weights[name]!.data, name);
});

test('1 vs 2 workers give identical per-candidate results; inline matches too', async () => {
  const train = sineWindows(64, SMALL.window, 5);
  const heldOut = sineWindows(16, SMALL.window, 5, 1.3);
  const jobs: EngineJob[] = [0, 1, 2, 3].map((i) => ({
    kind: 'train-score',
    genome: { ...SMALL, learningRate: SMALL.learningRate * (1 + i) },
    train,
    score: [heldOut],
    options: { epochs: 2, batchSize: 16, seed: 100 + i },
    returnWeights: i === 0,
  }));
  jobs.push({ kind: 'train-score', genome: { ...SMALL, convLayers: [] }, train, score: [heldOut], options: { epochs: 1, batchSize: 16, seed: 1 }, returnWeights: false });
  const outcomes = [];
  for (const workers of [1, 2, 0]) {
    const pool = await EnginePool.create({ workers });
    try {
      outcomes.push(await pool.run(jobs));
    } finally {
      await pool.close();
    }
  }
  const [one, two, inline] = outcomes as [Awaited<ReturnType<EnginePool['run']>>, Awaited<ReturnType<EnginePool['run']>>, Awaited<ReturnType<EnginePool['run']>>];
  for (let i = 0; i < 4; i++) {
    const [r1, r2, r0] = [one[i]!, two[i]!, inline[i]!];
    assert.ok(r1.ok && r2.ok && r0.ok, `job ${i} failed`);
    assert.deepEqual(r1.scores, r2.scores, `job ${i}: 1 vs 2 workers`);
    assert.deepEqual(r1.scores, r0.scores, `job ${i}: worker vs inline`);
    assert.equal(r1.finalLoss, r2.finalLoss);
  }
  assert.ok(one[0]!.ok && one[0]!.weights !== undefined);
  assert.ok(one[1]!.ok && one[1]!.weights === undefined);
  const failed = two[4]!;
  assert.ok(!failed.ok && /at least one conv layer/.test(failed.error), 'an invalid genome fails its job only');
});

test('models round-trip through safetensors with PyTorch-layout tensors and metadata', () => {
  const windows = sineWindows(20, SMALL.window, 5);
  const trained = trainAutoencoder(SMALL, windows, { epochs: 1, batchSize: 8, seed: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-model-io-'));
  try {
    const path = join(dir, 'member.safetensors');
    saveModel(path, { genome: SMALL, features: 5, weights: trained.weights, extra: { feature_indices: '[0,2]' } });
    const file = SafetensorsFile.open(path);
    assert.deepEqual(file.info('encoder.0.weight').shape, [8, 4, 3]);
    assert.deepEqual(file.info('decoder.1.weight').shape, [8, 4, 3]);
    assert.equal(file.info('encoder.0.weight').dtype, 'F32');
    file.close();
    const loaded = loadModel(path);
    assert.deepEqual(loaded.genome, SMALL);
    assert.equal(loaded.extra.feature_indices, '[0,2]');
    const plan = planAutoencoder(SMALL, 5);
    assert.ok(!('invalid' in plan));
    assert.equal(Object.values(loaded.weights).reduce((s, w) => s + w.data.length, 0), parameterCount(plan));
    assert.deepEqual(scoreWindows(SMALL, loaded.weights, windows), scoreWindows(SMALL, trained.weights, windows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reused compiled model gives bit-identical results to a fresh compile (optimiser state, BN statistics, buffers reset)', async () => {
  const train = sineWindows(48, SMALL.window, 5);
  const heldOut = sineWindows(20, SMALL.window, 5, 0.7);
  const job: EngineJob = { kind: 'train-score', genome: SMALL, train, score: [heldOut], options: { epochs: 3, batchSize: 16, seed: 21 }, returnWeights: true };
  // same network and batch, other data, seed and learning rate: leaves different Adam moments and statistics behind
  const other: EngineJob = { kind: 'train-score', genome: SMALL, train: sineWindows(48, SMALL.window, 5, 2.1), score: [heldOut], options: { epochs: 2, batchSize: 16, seed: 5 }, returnWeights: true };
  clearCompiledNetworks();
  const fresh = await executeJob(job);
  const afterOther = (await executeJob(other), await executeJob(job));
  assert.ok(fresh.ok && afterOther.ok);
  assert.deepEqual(afterOther.scores, fresh.scores);
  assert.equal(afterOther.finalLoss, fresh.finalLoss);
  for (const name of Object.keys(fresh.weights!)) assert.deepEqual(afterOther.weights![name]!.data, fresh.weights![name]!.data, name);
  // scoring jobs: a fresh scoring model and one reused after other weights
  const score = (weights: ModelWeights): EngineJob => ({ kind: 'score', genome: SMALL, weights, score: [heldOut] });
  const otherTrained = await executeJob(other);
  assert.ok(otherTrained.ok);
  clearCompiledNetworks();
  const scoredFresh = await executeJob(score(fresh.weights!));
  await executeJob(score(otherTrained.weights!));
  const scoredReused = await executeJob(score(fresh.weights!));
  assert.ok(scoredFresh.ok && scoredReused.ok);
  assert.deepEqual(scoredReused.scores, scoredFresh.scores);
  // the trained model scored the held-out windows exactly as a separately compiled scoring model does
  assert.deepEqual(scoredFresh.scores, fresh.scores);
});
