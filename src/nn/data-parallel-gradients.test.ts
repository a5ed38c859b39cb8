/**
 * The data-parallel trainer's two phases for callers with their own update (data-parallel.ts `gradients`,
 * `statistics`; the GWN session uses them): against two single-thread half-batch models on the same
 * parameters (per-replica batch norm, as DDP without SyncBN), the reduced gradient in `model` is the halves'
 * gradients weighted by their share of the loss, nothing is updated, and the running statistics are the
 * batch-size-weighted mean of the halves' — for a statistics-only pass too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/rng.js';
import { DataParallelTrainer } from './data-parallel.js';
import { Model, type ModelSpec } from './model.js';

const SPEC: ModelSpec = {
  inputShape: [6],
  layers: [{ kind: 'linear', units: 8 }, { kind: 'batch_norm', momentum: 0.3 }, { kind: 'activation', fn: 'tanh' }, { kind: 'linear', units: 3 }],
  loss: { kind: 'mse' },
};
const BATCH = 7;
const HALVES = [4, 3] as const;

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

const run = (model: Model, region: 'param' | 'grad' | 'state'): Float32Array => {
  const { start, end } = model.layout.regions[region];
  return Float32Array.from(model.kernels.data.subarray(start, end));
};

test('data-parallel gradients(): the loss-weighted reduced gradient and averaged statistics in model, no update; statistics(): the averaged statistics only', async () => {
  const rng = createRng('dp-gradients');
  const x = Float32Array.from({ length: BATCH * 6 }, () => 2 * rng.next() - 1);
  const y = Float32Array.from({ length: BATCH * 3 }, () => 2 * rng.next() - 1);
  const dp = await DataParallelTrainer.open(SPEC, { batch: BATCH, optimizer: { kind: 'adam' }, lr: 0.1, seed: 2 });
  try {
    const halves = HALVES.map((rows) => Model.compile(SPEC, { batch: rows, kernels: 'wasm', seed: 2 }));
    const params = run(dp.model, 'param');
    const state = run(dp.model, 'state');
    let from = 0;
    const refs = halves.map((model, r) => {
      const rows = HALVES[r]!;
      model.kernels.data.set(params, model.layout.regions.param.start);
      model.kernels.data.set(state, model.layout.regions.state.start);
      model.view(model.input).set(x.subarray(from * 6, (from + rows) * 6));
      model.view(model.target).set(y.subarray(from * 3, (from + rows) * 3));
      from += rows;
      model.forward(true, 1);
      const loss = model.loss();
      model.backward();
      return { loss, grads: run(model, 'grad'), state: run(model, 'state') };
    });
    const w = HALVES.map((rows) => rows / BATCH);
    const loss = dp.gradients(x, y, 1);
    assertClose([loss], [w[0]! * refs[0]!.loss + w[1]! * refs[1]!.loss], 1e-6, 'loss');
    assertClose(run(dp.model, 'grad'), refs[0]!.grads.map((g, i) => w[0]! * g + w[1]! * refs[1]!.grads[i]!), 1e-5, 'reduced gradient');
    assert.deepEqual(run(dp.model, 'param'), params, 'gradients() updates nothing');
    const averaged = refs[0]!.state.map((s, i) => w[0]! * s + w[1]! * refs[1]!.state[i]!);
    assertClose(run(dp.model, 'state'), averaged, 1e-6, 'running statistics after gradients()');
    assert.notDeepEqual(run(dp.model, 'state'), state, 'the statistics moved');

    // a statistics-only pass from the same starting state gives the same running statistics
    dp.model.kernels.data.set(state, dp.model.layout.regions.state.start);
    dp.statistics(x, 1);
    assertClose(run(dp.model, 'state'), averaged, 1e-6, 'running statistics after statistics()');
    // and a whole step still works after the extra commands (the worker followed the barrier sequence)
    assert.ok(Number.isFinite(dp.step(x, y)));
    assert.notDeepEqual(run(dp.model, 'param'), params);
  } finally {
    await dp.close();
  }
});
