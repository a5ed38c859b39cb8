/**
 * Graph WaveNet (the whole composite `graph_wavenet` model of gwn-engine.ts: gated TCNs, diffusion over fixed
 * supports and the adaptive adjacency, residuals, BatchNorm, skips, end convolutions, masked MAE) trained on 2
 * data-parallel workers (src/nn/data-parallel.ts) follows single-thread steps within float32 tolerance.
 *
 * BatchNorm normalises with each replica's own batch statistics (DDP without SyncBN, documented in
 * data-parallel.ts), so the single-thread reference is the same split done by hand: two single-thread models
 * at the halves' batch sizes on the same parameters, their gradients weighted by each half's share of the
 * masked MAE's denominator (unmasked targets), one plain SGD step. Dropout is 0 (the replicas draw other masks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { DataParallelTrainer } from '../nn/data-parallel.js';
import { Model } from '../nn/model.js';
import { defaultGwnConfig } from './gwn-config.js';
import { gwnModelSpec, setGwnSupports } from './gwn-engine.js';

const NODES = 6;
const STEPS_IN = 4; // below the receptive field 5: the left padding is exercised too
const config = defaultGwnConfig(NODES, { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 8, horizons: 3, dilations: [1, 2, 1], embeddingRank: 2, dropout: 0 });
const spec = gwnModelSpec(config, 2, { mean: 5, std: 2 }, STEPS_IN);
const BATCH = 5; // replicas take 3 and 2 examples
const HALVES = [3, 2] as const;
const LR = 0.05;
const IN = 2 * NODES * STEPS_IN;
const OUT = config.horizons * NODES;

const paramsOf = (model: Model): Float32Array => Float32Array.from(model.kernels.data.subarray(model.runs.params, model.runs.params + model.runs.count));

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function problem(): { supports: Float32Array[]; batches: { x: Float32Array; y: Float32Array }[] } {
  const rng = createRng('gwn-data-parallel');
  // row-stochastic supports, as transition matrices are
  const supports = [0, 1].map(() => {
    const a = Float32Array.from({ length: NODES * NODES }, () => rng.next());
    for (let r = 0; r < NODES; r++) {
      let sum = 0;
      for (let c = 0; c < NODES; c++) sum += a[r * NODES + c]!;
      for (let c = 0; c < NODES; c++) a[r * NODES + c]! /= sum;
    }
    return a;
  });
  const batches = Array.from({ length: 3 }, () => ({
    x: Float32Array.from({ length: BATCH * IN }, () => rng.normal()),
    // about a fifth of the targets missing (0), unevenly over the halves
    y: Float32Array.from({ length: BATCH * OUT }, () => (rng.next() < 0.2 ? 0 : 5 + 2 * rng.normal())),
  }));
  return { supports, batches };
}

/** one half's loss and gradient at the given parameters */
function halfGradient(model: Model, params: Float32Array, x: Float32Array, y: Float32Array, from: number, rows: number, step: number): { loss: number; grads: Float32Array } {
  const data = model.kernels.data;
  data.set(params, model.runs.params);
  data.set(x.subarray(from * IN, (from + rows) * IN), model.input.offset);
  data.set(y.subarray(from * OUT, (from + rows) * OUT), model.target.offset);
  model.forward(true, step);
  const loss = model.loss();
  model.backward();
  return { loss, grads: Float32Array.from(data.subarray(model.runs.grads, model.runs.grads + model.runs.count)) };
}

const unmasked = (y: Float32Array, from: number, to: number): number => {
  let count = 0;
  for (let i = from * OUT; i < to * OUT; i++) if (y[i] !== 0) count++;
  return count;
};

test('Graph WaveNet on 2 data-parallel workers follows single-thread steps on the same halves (per-replica BN) within float32 tolerance', async () => {
  const { supports, batches } = problem();
  const dp = await DataParallelTrainer.open(spec, { batch: BATCH, optimizer: { kind: 'sgd' }, lr: LR, seed: 3 });
  const compile = (rows: number): Model => Model.compile(spec, { batch: rows, kernels: 'wasm', seed: 3 });
  const halves = [compile(HALVES[0]), compile(HALVES[1])] as const;
  const full = compile(BATCH);
  try {
    setGwnSupports(dp.model, supports);
    for (const model of [...halves, full]) setGwnSupports(model, supports);
    let params = paramsOf(dp.model);
    let fullBatchDiffers = false;
    for (const [i, { x, y }] of batches.entries()) {
      const step = i + 1;
      const a = halfGradient(halves[0], params, x, y, 0, HALVES[0], step);
      const b = halfGradient(halves[1], params, x, y, HALVES[0], HALVES[1], step);
      const [c0, c1] = [unmasked(y, 0, HALVES[0]), unmasked(y, HALVES[0], BATCH)];
      const [w0, w1] = [c0 / (c0 + c1), c1 / (c0 + c1)];
      // the full batch at once normalises with other BN statistics: a different (valid) gradient
      const whole = halfGradient(full, params, x, y, 0, BATCH, step);
      const combined = a.grads.map((g, j) => w0 * g + w1 * b.grads[j]!);
      if (combined.some((g, j) => Math.abs(g - whole.grads[j]!) > 1e-4 * Math.max(1, Math.abs(g)))) fullBatchDiffers = true;
      assertClose([dp.step(x, y)], [w0 * a.loss + w1 * b.loss], 1e-5, `loss at step ${step}`);
      params = params.map((p, j) => p - LR * combined[j]!);
      assertClose(paramsOf(dp.model), params, 1e-4, `parameters after step ${step}`);
    }
    assert.ok(fullBatchDiffers, 'per-replica BN statistics give another gradient than the full batch (the reference must split too)');
    dp.predict(batches[0]!.x); // pushes parameters and state to replica 1
    assert.deepEqual(dp.region(1, 'param'), dp.region(0, 'param'), 'both replicas hold the same parameters');
    assert.deepEqual(dp.region(1, 'state'), dp.region(0, 'state'), 'both replicas hold the same supports and running statistics');
  } finally {
    await dp.close();
  }
});
