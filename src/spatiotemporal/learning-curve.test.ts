import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convergenceNote, learningCurveTable } from './learning-curve.js';

const history = [
  { epoch: 1, trainLoss: 4.5, trainMae: 4.0, valMae: 3.5, seconds: 1 },
  { epoch: 2, trainLoss: 3.9, trainMae: 3.5, valMae: 3.25, seconds: 1 },
  { epoch: 3, trainLoss: 3.7, trainMae: 3.25, valMae: 3.375, seconds: 1 },
];

test('learning curve table: one row per epoch, a column per seed, the best epoch in bold', () => {
  const table = learningCurveTable([
    { label: 'seed 0', history, bestEpoch: 2 },
    { label: 'seed 1', history: history.slice(0, 2).map(({ trainMae: _t, ...r }) => r), bestEpoch: 1 },
  ]);
  const lines = table.split('\n');
  assert.equal(lines[0], '| epoch | seed 0: train / val MAE | seed 1: train / val MAE |');
  assert.equal(lines[2], '| 1 | 4.000 / 3.500 | **4.500† / 3.500** |');
  assert.equal(lines[3], '| 2 | **3.500 / 3.250** | 3.900† / 3.250 |');
  assert.equal(lines[4], '| 3 | 3.250 / 3.375 |  |');
  assert.match(table, /† mean training loss/);
});

test('convergence note says whether the best epoch is the last one', () => {
  assert.equal(convergenceNote({ label: 'seed 0', history, bestEpoch: 2, stopReason: 'patience' }), 'seed 0: best epoch 2 of 3, stopped by patience');
  assert.equal(convergenceNote({ label: 'seed 1', history, bestEpoch: 3, stopReason: 'max-epochs' }), 'seed 1: best epoch 3 of 3, ran the epoch maximum — best at the last epoch: still improving, not converged');
});
