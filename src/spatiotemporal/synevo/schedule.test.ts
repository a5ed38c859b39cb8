import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elasticRegularisation, releaseFactor, STATIC_REGULARISATION } from './schedule.js';

test('p = λ = 0 at d_max; p0(1 − e^{−d_max}) and λ0(1 − e^{−d_max}) at l = 0', () => {
  const params = { p0: 0.5, lambda0: 0.05 };
  assert.deepEqual(elasticRegularisation(3, 3, params), { dropout: 0, weightDecay: 0 });
  const atBench = elasticRegularisation(0, 3, params);
  assert.ok(Math.abs(atBench.dropout - 0.5 * (1 - Math.exp(-3))) < 1e-15);
  assert.ok(Math.abs(atBench.weightDecay - 0.05 * (1 - Math.exp(-3))) < 1e-15);
  // hand value: l = 1, d_max = 2 → 1 − e^{−1} = 0.6321205588
  assert.ok(Math.abs(releaseFactor(1, 2) - 0.6321205588285577) < 1e-15);
});

test('p and λ are non-increasing along an ascending-distance order; beyond d_max they clamp to 0', () => {
  const distances = [0, 0.3, 0.31, 1.7, 2.5, 4];
  const schedule = distances.map((l) => elasticRegularisation(l, 4, { p0: 1, lambda0: 0.1 }));
  for (let i = 1; i < schedule.length; i++) {
    assert.ok(schedule[i]!.dropout <= schedule[i - 1]!.dropout);
    assert.ok(schedule[i]!.weightDecay <= schedule[i - 1]!.weightDecay);
  }
  assert.deepEqual(elasticRegularisation(5, 4), { dropout: 0, weightDecay: 0 });
  assert.deepEqual(STATIC_REGULARISATION, { dropout: 0.1, weightDecay: 0.001 });
});
