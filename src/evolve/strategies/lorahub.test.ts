import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LORAHUB_DEFAULTS, lorahub, lorahubObjective, lorahubWeights, type LoraHubParams } from './lorahub.js';

const params: LoraHubParams = { objective: 'min', adapters: 3, ...LORAHUB_DEFAULTS, maxEvaluations: 300 };

test('objective is the mean loss plus 0.05·mean|w|', () => {
  assert.equal(lorahubObjective(params, 2, [1, -0.5, 0]), 2 + 0.05 * 0.5);
});

test('finds the loss minimiser inside the bounds, weights clipped to ±1.5, best includes the L1 term', () => {
  // loss minimised at w = (1, −0.4, 2.5): the third weight is out of bounds and must end at the bound 1.5
  const loss = (w: number[]) => (w[0]! - 1) ** 2 + (w[1]! + 0.4) ** 2 + (w[2]! - 2.5) ** 2;
  let state = lorahub.init(params, 42);
  let bestWeights: number[] = [];
  let bestObjective = Infinity;
  while (!lorahub.stopReason(params, state)) {
    const asked = lorahub.ask(params, state);
    const weights = asked.candidates.map((c) => lorahubWeights(params, c));
    for (const w of weights) for (const v of w) assert.ok(v >= -1.5 && v <= 1.5);
    const losses = weights.map(loss);
    weights.forEach((w, k) => {
      const objective = lorahubObjective(params, losses[k]!, w);
      if (objective < bestObjective) [bestObjective, bestWeights] = [objective, w];
    });
    state = lorahub.tell(params, asked.state, asked.candidates, losses).state;
  }
  const best = lorahub.best(state)!;
  assert.equal(best.fitness, bestObjective);
  assert.deepEqual(best.genome, bestWeights);
  assert.ok(Math.abs(best.genome[2]! - 1.5) < 1e-3);
  assert.ok(Math.abs(best.genome[0]! - (1 - 0.025)) < 0.05);
  assert.equal(state.evaluations, Math.ceil(300 / state.lambda) * state.lambda);
});
