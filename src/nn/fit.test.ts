/**
 * fit / fitLoop: batch order against a hand-written Fisher–Yates on the same stream, last-batch policies,
 * maxSteps, early stopping on a constructed metric sequence (stop epoch and restored parameters), divergence,
 * the beforeUpdate hook (½·gradient = ½·lr for plain SGD, bit for bit) and a resume from a checkpoint that
 * continues exactly as an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createRng } from '../core/rng.js';
import { withTempDir } from '../../test/support/temp-dir.js';
import { fit, fitLoop, fitLoopAsync, TrainingDivergedError, type FitLoopOptions, type FitTarget } from './fit.js';
import { Model, type ModelSpec } from './model.js';
import type { OptimizerSpec } from './optim/registry.js';
import { Trainer } from './trainer.js';

/** a target that only records the batches it is given */
function recorder(): FitTarget & { batches: number[][]; epochs: number[] } {
  const batches: number[][] = [];
  const epochs: number[] = [];
  return {
    batches,
    epochs,
    trainOn(rows, epoch) {
      batches.push(Array.from(rows));
      epochs.push(epoch);
      return rows.length;
    },
  };
}

/** the reference order: one stream, one persistent array shuffled in place each epoch */
function referenceOrders(count: number, epochs: number, key: string, seed: number): number[][] {
  const rng = createRng(key, seed);
  const order = Array.from({ length: count }, (_, i) => i);
  const out: number[][] = [];
  for (let e = 0; e < epochs; e++) {
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    out.push([...order]);
  }
  return out;
}

test('batches follow the seeded order; the last partial batch is dropped, padded from the epoch start, or kept short', () => {
  const count = 11;
  const orders = referenceOrders(count, 2, 'fit-order', 7);
  const base: FitLoopOptions = { epochs: 2, batch: 4, seed: 7 };
  const drop = recorder();
  const r = fitLoop(drop, count, base);
  assert.deepEqual(drop.batches, orders.flatMap((o) => [o.slice(0, 4), o.slice(4, 8)]));
  assert.deepEqual(drop.epochs, [0, 0, 1, 1]);
  assert.equal(r.steps, 4);
  assert.equal(r.epochs, 2);
  const pad = recorder();
  fitLoop(pad, count, { ...base, lastBatch: 'pad' });
  assert.deepEqual(pad.batches[2], [...orders[0]!.slice(8, 11), orders[0]![0]]);
  assert.deepEqual(pad.batches[5], [...orders[1]!.slice(8, 11), orders[1]![0]]);
  const keep = recorder();
  const kept = fitLoop(keep, count, { ...base, lastBatch: 'keep' });
  assert.deepEqual(keep.batches[2], orders[0]!.slice(8, 11));
  // the loss is the batch length here: the mean over steps in step order
  assert.equal(kept.meanLoss, (4 + 4 + 3 + 4 + 4 + 3) / 6);
  // a batch larger than the data wraps around when padding
  const wrap = recorder();
  fitLoop(wrap, 3, { epochs: 1, batch: 7, seed: 1, shuffle: false, lastBatch: 'pad' });
  assert.deepEqual(wrap.batches, [[0, 1, 2, 0, 1, 2, 0]]);
  // a custom order per epoch replaces the stream
  const custom = recorder();
  fitLoop(custom, 4, { epochs: 2, batch: 2, seed: 0, order: (e) => (e === 0 ? [3, 2, 1, 0] : [1, 3, 0, 2]) });
  assert.deepEqual(custom.batches, [[3, 2], [1, 0], [1, 3], [0, 2]]);
});

test("shuffleFrom 'identity' reshuffles [0..n) each epoch from one continuing stream; a caller's rng continues across calls", () => {
  const rng = createRng('gwn-order', 3);
  const fresh = (): number[] => {
    const o = Array.from({ length: 7 }, (_, i) => i);
    for (let i = o.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [o[i], o[j]] = [o[j]!, o[i]!];
    }
    return o;
  };
  const want = [fresh(), fresh(), fresh()];
  const a = recorder();
  fitLoop(a, 7, { epochs: 2, batch: 7, seed: 3, shuffleKey: 'gwn-order', shuffleFrom: 'identity' });
  assert.deepEqual(a.batches, want.slice(0, 2));
  // one step per epoch on a stream the caller owns: the second call continues where the first left it
  const own = createRng('gwn-order', 3);
  const b = recorder();
  fitLoop(b, 7, { epochs: 2, batch: 3, seed: 0, rng: own, shuffleFrom: 'identity', maxStepsPerEpoch: 1 });
  fitLoop(b, 7, { epochs: 1, batch: 3, seed: 0, rng: own, shuffleFrom: 'identity', maxStepsPerEpoch: 1 });
  assert.deepEqual(b.batches, want.map((o) => o.slice(0, 3)));
});

test('a passed deadline ends the epoch after one step and stops the loop after that epoch', () => {
  const target = recorder();
  const r = fitLoop(target, 12, { epochs: 5, batch: 3, seed: 1, deadline: performance.now() - 1 });
  assert.deepEqual([r.steps, r.epochs, r.stopped], [1, 1, 'deadline']);
});

test('maxSteps stops the whole loop after exactly that many steps, mid-epoch', () => {
  const target = recorder();
  const r = fitLoop(target, 10, { epochs: 5, batch: 3, seed: 2, maxSteps: 7 });
  assert.equal(target.batches.length, 7);
  assert.equal(r.steps, 7);
  assert.equal(r.stopped, 'max_steps');
  assert.equal(r.epochs, 2, 'epochs 0 and 1 completed (3 steps each), the 7th step is in epoch 2');
});

test('early stopping stops after `patience` evaluations without a min-delta improvement and restores the best parameters', () => {
  // "parameters": one float set to the step count, so the restored value names the step it was saved at
  const params = new Float32Array(1);
  let steps = 0;
  const target: FitTarget = {
    trainOn() {
      params[0] = ++steps;
      return 1;
    },
    restorable: () => [params],
  };
  // per epoch (2 steps each): 5, 4 (best), 3.995 (not better by > 0.01), 4.5, 3.8 (best), then three without an
  // improvement > 0.01 (3.7901 is lower but not by enough) → stop after epoch 7; the 1 is never seen
  const metrics = [5, 4, 3.995, 4.5, 3.8, 3.795, 3.85, 3.7901, 1];
  let k = 0;
  const epochs: number[] = [];
  const r = fitLoop(target, 4, {
    epochs: 20,
    batch: 2,
    seed: 3,
    validation: { metric: () => metrics[k++]!, objective: 'min', patience: 3, minDelta: 0.01 },
    onEpoch: (s) => epochs.push(s.epoch),
  });
  assert.equal(r.stopped, 'patience');
  assert.equal(r.epochs, 8);
  assert.deepEqual(epochs, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(r.steps, 16);
  assert.deepEqual(r.best, { metric: 3.8, step: 10, epoch: 4 });
  assert.deepEqual(r.metrics, metrics.slice(0, 8));
  assert.equal(params[0], 10, 'the parameters of the best evaluation (after step 10) are back');
  // objective max with evaluations every 3 steps, NaN never counts as an improvement
  const maxMetrics = [0.1, NaN, 0.2, 0.15];
  let m = 0;
  steps = 0;
  const rm = fitLoop(target, 4, { epochs: 10, batch: 2, seed: 3, validation: { every: 3, metric: () => maxMetrics[m++]!, objective: 'max', patience: 1 } });
  assert.equal(rm.stopped, 'patience');
  assert.equal(rm.steps, 6, 'the NaN at step 6 ends it');
  assert.equal(params[0], 3);
});

test('fitLoopAsync awaits updates and metrics and runs exactly the synchronous loop', async () => {
  const metrics = [3, 2, 2.5, 2.4, 2.6, 9];
  const options = <M>(metric: () => M) => ({ epochs: 10, batch: 3, seed: 4, lastBatch: 'pad' as const, validation: { metric, objective: 'min' as const, patience: 3 } });
  const sync = recorder();
  let k = 0;
  const want = fitLoop(sync, 10, options(() => metrics[k++]!));
  const batches: number[][] = [];
  let m = 0;
  const got = await fitLoopAsync(
    { trainOn: async (rows) => (await Promise.resolve(), batches.push(Array.from(rows)), rows.length) },
    10,
    options(async () => metrics[m++]!),
  );
  assert.deepEqual(got, want);
  assert.deepEqual(batches, sync.batches);
  assert.equal(want.stopped, 'patience');
  assert.equal(want.epochs, 5);
});

test('continueFrom starts at its epoch with its early-stopping state: patience counts on, an unbeaten best restores nothing', () => {
  const params = new Float32Array(1);
  let steps = 0;
  const target: FitTarget & { batches: number[][] } = {
    batches: [],
    trainOn(rows) {
      target.batches.push(Array.from(rows));
      params[0] = ++steps;
      return 1;
    },
    restorable: () => [params],
  };
  // an earlier part ran epochs 0-2, best 2.0 at epoch 1: epoch 3 (2.5) and 4 (2.1) do not beat it → patience 3 stops
  const metrics = [2.5, 2.1, 0.5];
  let k = 0;
  const summaries: [number, boolean][] = [];
  const r = fitLoop(target, 6, {
    epochs: 10, batch: 3, seed: 5,
    continueFrom: { epoch: 3, best: { metric: 2, epoch: 1 }, sinceBest: 1 },
    validation: { metric: () => metrics[k++]!, objective: 'min', patience: 3 },
    onEpoch: (s) => summaries.push([s.epoch, s.improved]),
  });
  assert.deepEqual([r.stopped, r.epochs, r.steps], ['patience', 5, 4]);
  assert.deepEqual(summaries, [[3, false], [4, false]]);
  assert.deepEqual(r.best, { metric: 2, step: 0, epoch: 1 });
  assert.equal(params[0], 4, 'the best parameters are the caller\'s: nothing restored');
  // the loop's own stream replays epochs 0-2: epochs 3 and 4 see the uninterrupted run's batches
  const orders = referenceOrders(6, 5, 'fit-order', 5);
  assert.deepEqual(target.batches, orders.slice(3).flatMap((o) => [o.slice(0, 3), o.slice(3, 6)]));
  // a later improvement is kept and restored as usual, and flagged in its epoch's summary
  const better = [2.5, 1.5, 1.9];
  let b = 0;
  steps = 0;
  summaries.length = 0;
  const rb = fitLoop(target, 6, { epochs: 6, batch: 3, seed: 5, continueFrom: { epoch: 3, best: { metric: 2, epoch: 1 } }, validation: { metric: () => better[b++]!, objective: 'min' }, onEpoch: (s) => summaries.push([s.epoch, s.improved]) });
  assert.deepEqual(summaries, [[3, false], [4, true], [5, false]]);
  assert.deepEqual(rb.best, { metric: 1.5, step: 4, epoch: 4 });
  assert.equal(params[0], 4);
});

test("continueFrom with a caller's rng takes the stream where it stands (no replay); a bad start is refused", () => {
  const a = recorder();
  const rng = createRng('k', 2);
  fitLoop(a, 5, { epochs: 3, batch: 5, seed: 0, rng, continueFrom: { epoch: 2 } });
  assert.deepEqual(a.batches, referenceOrders(5, 1, 'k', 2));
  assert.throws(() => fitLoop(recorder(), 5, { epochs: 3, batch: 5, seed: 0, continueFrom: { epoch: -1 } }), /continueFrom/);
  assert.throws(() => fitLoop(recorder(), 5, { epochs: 3, batch: 5, seed: 0, continueFrom: { epoch: 1 }, resumeFrom: 'x.safetensors' }), /continueFrom and resumeFrom/);
});

test('fitLoopAsync awaits an asynchronous onEpoch before the next epoch starts', async () => {
  const events: string[] = [];
  await fitLoopAsync({ trainOn: (rows, epoch) => (events.push(`train ${epoch}`), rows.length) }, 4, {
    epochs: 2, batch: 4, seed: 1,
    onEpoch: async (s) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`epoch ${s.epoch} done`);
    },
  });
  assert.deepEqual(events, ['train 0', 'epoch 0 done', 'train 1', 'epoch 1 done']);
});

test('a non-finite loss throws TrainingDivergedError with the step', () => {
  let n = 0;
  const target: FitTarget = { trainOn: () => (++n === 3 ? Infinity : 1) };
  assert.throws(() => fitLoop(target, 8, { epochs: 1, batch: 2, seed: 1 }), (e: unknown) => e instanceof TrainingDivergedError && e.step === 3 && e.code === 'VALUE_INVALID');
  n = 0;
  const going = fitLoop(target, 8, { epochs: 1, batch: 2, seed: 1, divergence: 'continue' });
  assert.equal(going.steps, 4);
  assert.equal(going.meanLoss, Infinity, "'continue' lets the non-finite loss reach the mean");
  // no examples: no step, every epoch still completes
  const empty = fitLoop(recorder(), 0, { epochs: 3, batch: 2, seed: 1, lastBatch: 'keep' });
  assert.deepEqual([empty.steps, empty.epochs, empty.meanLoss], [0, 3, 0]);
});

const SPEC: ModelSpec = {
  inputShape: [5],
  layers: [{ kind: 'linear', units: 6 }, { kind: 'batch_norm' }, { kind: 'activation', fn: 'tanh' }, { kind: 'linear', units: 2 }],
  loss: { kind: 'mse' },
};

function dataset(count: number) {
  const rng = createRng('fit-test-data');
  return { count, inputs: Float32Array.from({ length: count * 5 }, () => rng.normal()), targets: Float32Array.from({ length: count * 2 }, () => rng.normal()) };
}

function trainer(optimizer: OptimizerSpec, lr: number, seed = 4): Trainer {
  return new Trainer(Model.compile(SPEC, { batch: 4, kernels: 'wasm', optimizer, seed }), { lr, schedule: { kind: 'cosine', totalSteps: 12 } });
}

const params = (t: Trainer) => Array.from(t.model.kernels.data.subarray(t.model.runs.params, t.model.runs.params + t.model.runs.count));

test('same seed gives identical losses; another seed a different order', () => {
  const data = dataset(10);
  const run = (seed: number) => {
    const losses: number[] = [];
    fit(trainer({ kind: 'adam' }, 0.01), data, { epochs: 3, batch: 4, seed, lastBatch: 'pad', onStep: (l) => losses.push(l) });
    return losses;
  };
  const a = run(1);
  assert.equal(a.length, 9);
  assert.deepEqual(run(1), a);
  assert.notDeepEqual(run(2), a);
});

test('beforeUpdate: halving the gradient is plain SGD at half the learning rate, bit for bit; the hook is removed afterwards', () => {
  const data = dataset(8);
  const halved = trainer({ kind: 'sgd' }, 0.1);
  fit(halved, data, { epochs: 2, batch: 4, seed: 5, beforeUpdate: (g) => g.forEach((v, i) => (g[i] = v * 0.5)) });
  const half = trainer({ kind: 'sgd' }, 0.05);
  fit(half, data, { epochs: 2, batch: 4, seed: 5 });
  assert.deepEqual(params(halved), params(half));
  assert.equal(halved.beforeUpdate, undefined);
  const untouched = trainer({ kind: 'sgd' }, 0.1);
  const before = params(untouched);
  fit(untouched, data, { epochs: 1, batch: 4, seed: 5, beforeUpdate: (g) => g.fill(0) });
  assert.deepEqual(params(untouched), before, 'a zeroed gradient moves nothing');
});

test('resume from a checkpoint (epoch end or mid-epoch) continues exactly like an uninterrupted run (Adam, batch norm, schedule)', () => {
  withTempDir('modelevo-fit-', (dir) => {
    const data = dataset(10);
    const base = { epochs: 4, batch: 4, seed: 9, lastBatch: 'pad' as const };
    const losses: number[] = [];
    const whole = trainer({ kind: 'adam' }, 0.02);
    const full = fit(whole, data, { ...base, onStep: (l) => losses.push(l) });
    assert.equal(full.steps, 12);
    for (const [cut, every] of [[{ epochs: 2 }, 'epoch'], [{ maxSteps: 5 }, 2]] as const) {
      const path = join(dir, `ckpt-${every}.safetensors`);
      fit(trainer({ kind: 'adam' }, 0.02), data, { ...base, ...cut, checkpoint: { path, every } });
      // a differently initialised model: everything must come from the file
      const resumed = trainer({ kind: 'adam' }, 0.02, 77);
      const tail: number[] = [];
      const r = fit(resumed, data, { ...base, resumeFrom: path, onStep: (l) => tail.push(l) });
      const done = every === 'epoch' ? 6 : 4;
      assert.deepEqual(tail, losses.slice(done), `losses after step ${done}`);
      assert.equal(r.steps, 12);
      assert.equal(resumed.steps, 12);
      assert.deepEqual(params(resumed), params(whole));
    }
  });
});
