import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gridGreedy, type GridGreedyParams, type GridGreedyState } from './grid-greedy.js';

function run(params: GridGreedyParams, fn: (x: number[]) => number): { state: GridGreedyState; asked: string[] } {
  let state = gridGreedy.init(params, 0);
  const asked: string[] = [];
  while (!gridGreedy.stopReason(params, state)) {
    const { candidates } = gridGreedy.ask(params, state);
    asked.push(...candidates.map((c) => c.join(',')));
    state = gridGreedy.tell(params, state, candidates, candidates.map(fn)).state;
  }
  return { state, asked };
}

const anyFitParams: GridGreedyParams = {
  objective: 'max',
  start: [0.5, 0.5],
  step: 0.1,
  lowerBounds: [0, 0],
  upperBounds: [2, 2],
};

test('on a convex quadratic it reaches the grid optimum, e.g. AnyFit-style (1.0, 1.1)', () => {
  const { state } = run(anyFitParams, ([a, b]) => -((a! - 1.0) ** 2) - (b! - 1.1) ** 2);
  assert.deepEqual(gridGreedy.best(state)?.genome, [1, 1.1]);
  assert.equal(state.stop, 'converged');
});

test('never evaluates a grid point twice and stops no worse than its in-bound neighbours', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true }), fc.boolean(), (ca, cb, bumpy) => {
      const fn = ([a, b]: number[]) => -Math.abs(a! - ca) - 2 * Math.abs(b! - cb) + (bumpy ? 0.05 * Math.sin(17 * a! * b!) : 0);
      const { state, asked } = run(anyFitParams, fn);
      assert.equal(new Set(asked).size, asked.length);
      const [a, b] = gridGreedy.best(state)!.genome as [number, number];
      const here = fn([a, b]);
      for (const [da, db] of [[0.1, 0], [-0.1, 0], [0, 0.1], [0, -0.1]] as const) {
        const na = Number((a + da).toPrecision(12));
        const nb = Number((b + db).toPrecision(12));
        if (na < 0 || na > 2 || nb < 0 || nb > 2) continue;
        assert.ok(fn([na, nb]) <= here, `neighbour (${na}, ${nb}) beats (${a}, ${b})`);
      }
    }),
    { numRuns: 60 },
  );
});

test('minimisation and a budget stop', () => {
  const params: GridGreedyParams = { objective: 'min', start: [0], step: 1, lowerBounds: [-100], upperBounds: [100], maxEvaluations: 5 };
  const { state } = run(params, ([x]) => (x! - 50) ** 2);
  assert.equal(state.stop, 'budget');
  assert.ok(state.evaluations <= 5);
});

test('failed evaluations (NaN) never win a move', () => {
  const { state } = run(anyFitParams, ([a, b]) => (a! > 0.55 ? NaN : -((b! - 0.8) ** 2)));
  assert.deepEqual(gridGreedy.best(state)?.genome, [0.5, 0.8]);
});
