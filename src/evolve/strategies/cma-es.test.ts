import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budget } from '../../../test/support/budget.js';
import { cmaEs, evaluationPoint, type CmaEsParams, type CmaEsState } from './cma-es.js';

type Fn = (x: readonly number[]) => number;
const sphere: Fn = (x) => x.reduce((a, v) => a + v * v, 0);
const ellipsoid: Fn = (x) => x.reduce((a, v, i) => a + 10 ** ((6 * i) / (x.length - 1)) * v * v, 0);
const rosenbrock: Fn = (x) => {
  let f = 0;
  for (let i = 0; i < x.length - 1; i++) f += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
  return f;
};

function minimise(fn: Fn, params: CmaEsParams, seed: number): { state: CmaEsState; evaluations: number } {
  let state = cmaEs.init(params, seed);
  while (!cmaEs.stopReason(params, state)) {
    const asked = cmaEs.ask(params, state);
    const fitness = asked.candidates.map(fn);
    state = cmaEs.tell(params, asked.state, asked.candidates, fitness).state;
  }
  return { state, evaluations: state.evaluations };
}

// Seeds per benchmark: the median of 3 runs under npm test (each 10-D run costs ~0.15 CPU-s), of 11 in test:full.
const SEEDS = budget(3, 11);

function medianEvaluations(fn: Fn, x0: number[], sigma0: number): { median: number; reached: number } {
  const counts: number[] = [];
  let reached = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const params: CmaEsParams = { objective: 'min', x0, sigma0, targetFitness: 1e-8, maxEvaluations: 30000 };
    const { state } = minimise(fn, params, seed);
    if (state.stop === 'target') reached++;
    counts.push(state.evaluations);
  }
  counts.sort((a, b) => a - b);
  return { median: counts[(SEEDS - 1) / 2]!, reached };
}

// Hansen's pycma figures without active CMA (evolutionary-merging.md §6.5): the basic algorithm's column.
const PYCMA_BASIC = { sphere: 1300, ellipsoid: 5520, rosenbrock: 5830 };

test('reaches f < 1e-8 on the 10-D sphere within 1.5x of pycma (basic)', () => {
  const { median, reached } = medianEvaluations(sphere, new Array(10).fill(1), 1);
  assert.equal(reached, SEEDS);
  assert.ok(median <= 1.5 * PYCMA_BASIC.sphere, `median evaluations ${median}`);
});

test('reaches f < 1e-8 on the 10-D ellipsoid (condition 1e6) within 1.5x of pycma (basic)', () => {
  const { median, reached } = medianEvaluations(ellipsoid, new Array(10).fill(1), 1);
  assert.equal(reached, SEEDS);
  assert.ok(median <= 1.5 * PYCMA_BASIC.ellipsoid, `median evaluations ${median}`);
});

test('reaches f < 1e-8 on 10-D Rosenbrock within 1.5x of pycma (basic)', () => {
  const { median, reached } = medianEvaluations(rosenbrock, new Array(10).fill(0), 0.5);
  assert.ok(reached >= Math.ceil(0.8 * SEEDS), `reached ${reached}/${SEEDS}`); // 9 of 11 in test:full
  assert.ok(median <= 1.5 * PYCMA_BASIC.rosenbrock, `median evaluations ${median}`);
});

test('default weights are positive and sum to 1; ask returns λ genomes of dimension n', () => {
  const params: CmaEsParams = { objective: 'min', x0: new Array(10).fill(0), sigma0: 1 };
  const state = cmaEs.init(params, 0);
  assert.equal(state.lambda, 4 + Math.floor(3 * Math.log(10)));
  const { candidates } = cmaEs.ask(params, state);
  assert.equal(candidates.length, state.lambda);
  for (const c of candidates) assert.equal(c.length, 10);
});

test('tell rejects a wrong count or dimension', () => {
  const params: CmaEsParams = { objective: 'min', x0: [0, 0, 0], sigma0: 1 };
  const asked = cmaEs.ask(params, cmaEs.init(params, 0));
  assert.throws(() => cmaEs.tell(params, asked.state, asked.candidates.slice(1), asked.candidates.slice(1).map(sphere)), /expected \d+ candidates/);
  const wrongDim = asked.candidates.map((c) => c.slice(1));
  assert.throws(() => cmaEs.tell(params, asked.state, wrongDim, wrongDim.map(sphere)), /dimension 3/);
});

test('same seed gives an identical run; state round-trips through JSON and resumes bit-identically', () => {
  const params: CmaEsParams = { objective: 'min', x0: [1, 1, 1, 1], sigma0: 0.5, maxEvaluations: 400 };
  const a = minimise(rosenbrock, params, 7).state;
  const b = minimise(rosenbrock, params, 7).state;
  assert.deepEqual(a, b);

  let state = cmaEs.init(params, 7);
  for (let g = 0; g < 20; g++) {
    const asked = cmaEs.ask(params, state);
    state = cmaEs.tell(params, asked.state, asked.candidates, asked.candidates.map(rosenbrock)).state;
    state = JSON.parse(JSON.stringify(state)) as CmaEsState;
  }
  let reference = cmaEs.init(params, 7);
  for (let g = 0; g < 20; g++) {
    const asked = cmaEs.ask(params, reference);
    reference = cmaEs.tell(params, asked.state, asked.candidates, asked.candidates.map(rosenbrock)).state;
  }
  assert.deepEqual(state, reference);
});

test('covariance stays symmetric positive definite', () => {
  const params: CmaEsParams = { objective: 'min', x0: new Array(6).fill(1), sigma0: 1, maxEvaluations: 1500 };
  const { state } = minimise(ellipsoid, params, 3);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) assert.ok(Math.abs(state.C[i]![j]! - state.C[j]![i]!) < 1e-12);
  assert.ok(state.D.every((d) => d > 0));
});

test('maximising f equals minimising -f: same samples, same best', () => {
  const minParams: CmaEsParams = { objective: 'min', x0: [2, -1, 0.5], sigma0: 0.3, maxEvaluations: 300 };
  const maxParams: CmaEsParams = { ...minParams, objective: 'max' };
  let sMin = cmaEs.init(minParams, 11);
  let sMax = cmaEs.init(maxParams, 11);
  while (!cmaEs.stopReason(minParams, sMin)) {
    const a = cmaEs.ask(minParams, sMin);
    const b = cmaEs.ask(maxParams, sMax);
    assert.deepEqual(a.candidates, b.candidates);
    sMin = cmaEs.tell(minParams, a.state, a.candidates, a.candidates.map(sphere)).state;
    sMax = cmaEs.tell(maxParams, b.state, b.candidates, b.candidates.map((x) => -sphere(x))).state;
  }
  assert.deepEqual(sMin.best?.genome, sMax.best?.genome);
  assert.equal(sMin.best?.fitness, -sMax.best!.fitness);
});

test('a flat function stops on equal function values; a target stops at the target', () => {
  const flat = minimise(() => 1, { objective: 'min', x0: [0, 0], sigma0: 1, maxEvaluations: 5000 }, 0).state;
  assert.equal(flat.stop, 'equalfunvals');
  const target = minimise(sphere, { objective: 'min', x0: [1, 1], sigma0: 1, targetFitness: 1e-3 }, 0).state;
  assert.equal(target.stop, 'target');
  assert.ok(target.best!.fitness <= 1e-3);
  const budget = minimise(sphere, { objective: 'min', x0: [1, 1], sigma0: 1, maxEvaluations: 60 }, 0).state;
  assert.equal(budget.stop, 'budget');
});

test('bounds: evaluated points are clipped into the box, best lies within it', () => {
  const params: CmaEsParams = {
    objective: 'min',
    x0: [0, 0],
    sigma0: 0.5,
    lowerBounds: [-1.5, -1.5],
    upperBounds: [1.5, 1.5],
    maxEvaluations: 600,
  };
  // optimum (3, -3) lies outside the box: the best feasible point is the corner (1.5, -1.5)
  const fn: Fn = (x) => (x[0]! - 3) ** 2 + (x[1]! + 3) ** 2;
  let state = cmaEs.init(params, 5);
  while (!cmaEs.stopReason(params, state)) {
    const asked = cmaEs.ask(params, state);
    const fitness = asked.candidates.map((x) => fn(evaluationPoint(params, x)));
    state = cmaEs.tell(params, asked.state, asked.candidates, fitness).state;
  }
  const best = state.best!.genome;
  assert.ok(Math.abs(best[0]! - 1.5) < 1e-3 && Math.abs(best[1]! + 1.5) < 1e-3, `best ${best}`);
});

test('IPOP restarts double the population after a non-target stop', () => {
  const params: CmaEsParams = { objective: 'min', x0: [0, 0], sigma0: 1, restarts: 'ipop', maxRestarts: 2, maxEvaluations: 5000 };
  const { state } = minimise(() => 1, params, 0);
  assert.equal(state.restartsDone, 2);
  assert.equal(state.lambda, (4 + Math.floor(3 * Math.log(2))) * 4);
});
