import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSearch, type RandomSearchParams } from './random-search.js';

test('samples stay in the box, the budget is exact, the best is the best seen, runs are seeded', () => {
  const params: RandomSearchParams = { objective: 'min', lowerBounds: [-1, 0], upperBounds: [1, 3], batchSize: 7, maxEvaluations: 50 };
  const runOnce = () => {
    let state = randomSearch.init(params, 9);
    let bestSeen = Infinity;
    while (!randomSearch.stopReason(params, state)) {
      const asked = randomSearch.ask(params, state);
      for (const [x, y] of asked.candidates as [number, number][]) assert.ok(x >= -1 && x <= 1 && y >= 0 && y <= 3);
      const fitness = asked.candidates.map(([x, y]) => x! * x! + (y! - 1) ** 2);
      bestSeen = Math.min(bestSeen, ...fitness);
      state = randomSearch.tell(params, asked.state, asked.candidates, fitness).state;
    }
    assert.equal(state.evaluations, 50);
    assert.equal(state.best?.fitness, bestSeen);
    return state;
  };
  assert.deepEqual(runOnce(), runOnce());
});
