/**
 * The evolution-strategy conformance suite (style.md §5; issue #18): the contract every registry entry meets.
 * A strategy is run to its own stop on a deterministic test fitness by a plain in-memory ask/tell loop, and
 * - the same seed gives the same run (every asked candidate, every state, the best);
 * - `ask` returns candidates of the declared shape, no more than the budget allows, and is pure;
 * - a NaN fitness counts as the worst: the run asks exactly what it asks when those evaluations score worse
 *   than anything else, and the reported best is never NaN;
 * - the state survives a JSON round trip (what the run store does) after every step and the run resumes
 *   identically — with failed evaluations in it too;
 * - maximising −cost asks exactly what minimising cost asks (the objective is explicit, nothing is implicit);
 * - the run stops by itself within its declared evaluation budget.
 * A strategy that only minimises (`onlyMin`, with the reason) is checked to state objective min instead of the
 * min-vs-max check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../core/rng.js';
import type { BaseParams, Objective, Strategy } from './strategy.js';

export interface StrategyFixture<P extends BaseParams, S, G> {
  readonly strategy: Strategy<P, S, G>;
  /** small but non-trivial parameters under the given objective */
  params(objective: Objective): P;
  /** the test fitness as a cost to minimise; the suite negates it when the objective is max */
  cost(candidate: G): number;
  /** throws when a candidate does not have the declared shape */
  checkShape(candidate: G, params: P): void;
  /** the most evaluations the strategy may ask for before it stops by itself */
  budget(params: P): number;
  /** deterministic state preparation before each ask (what a driver's beforeAsk does) */
  prepare?(params: P, state: S): S;
  /** set when the strategy only minimises: the reason, shown on the skipped check */
  readonly onlyMin?: string;
}

/** A deterministic pseudo-random cost in [0, 1) for any JSON-able candidate. */
export function pseudoCost(candidate: unknown): number {
  return createRng('strategy-conformance', JSON.stringify(candidate)).next();
}

interface RunOptions {
  readonly objective: Objective;
  readonly seed: number;
  /** every `failEvery`-th evaluation (1-based) fails with this fitness (NaN, or a finite "worst") */
  readonly failEvery?: number;
  readonly failWith?: (objective: Objective) => number;
  /** JSON round trip of the state after every tell */
  readonly roundTrip?: boolean;
}

export interface ConformanceRun<S, G> {
  readonly asked: G[][];
  readonly told: number[][];
  readonly states: S[];
  readonly best: { genome: G; fitness: number } | undefined;
  readonly evaluations: number;
  readonly stopReason: string;
}

const MAX_STEPS = 2000;

export function runStrategy<P extends BaseParams, S, G>(fixture: StrategyFixture<P, S, G>, options: RunOptions): ConformanceRun<S, G> {
  const { strategy } = fixture;
  const params = fixture.params(options.objective);
  const sign = options.objective === 'min' ? 1 : -1;
  let state = strategy.init(params, options.seed);
  const asked: G[][] = [];
  const told: number[][] = [];
  const states: S[] = [];
  let evaluations = 0;
  for (let step = 0; step < MAX_STEPS; step++) {
    const reason = strategy.stopReason(params, state);
    if (reason) return { asked, told, states, best: strategy.best(state), evaluations, stopReason: reason };
    if (fixture.prepare) state = fixture.prepare(params, state);
    const { candidates, state: askedState } = strategy.ask(params, state);
    asked.push(candidates);
    const fitness = candidates.map((candidate) => {
      evaluations++;
      if (options.failEvery && evaluations % options.failEvery === 0) return options.failWith!(options.objective);
      return sign * fixture.cost(candidate);
    });
    told.push(fitness);
    state = strategy.tell(params, askedState, candidates, fitness).state;
    if (options.roundTrip) state = JSON.parse(JSON.stringify(state)) as S;
    states.push(state);
  }
  throw new assert.AssertionError({ message: `${strategy.name} did not stop within ${MAX_STEPS} steps` });
}

const nan = (): number => NaN;
/** worse than any test fitness (costs are finite and far smaller) */
const worst = (objective: Objective): number => (objective === 'min' ? 1e300 : -1e300);

export function strategyConformance<P extends BaseParams, S, G>(name: string, fixture: StrategyFixture<P, S, G>): void {
  const objectives: Objective[] = fixture.onlyMin ? ['min'] : ['min', 'max'];

  test(`${name}: the same seed gives the same run; the run stops by itself within its budget`, () => {
    for (const objective of objectives) {
      const first = runStrategy(fixture, { objective, seed: 11 });
      assert.deepEqual(runStrategy(fixture, { objective, seed: 11 }), first);
      assert.ok(first.asked.length > 1, 'the test run has more than one step');
      assert.ok(first.evaluations <= fixture.budget(fixture.params(objective)), `${first.evaluations} evaluations > budget ${fixture.budget(fixture.params(objective))}`);
    }
  });

  test(`${name}: ask returns candidates of the declared shape and is pure`, () => {
    const params = fixture.params('min');
    const run = runStrategy(fixture, { objective: 'min', seed: 3 });
    for (const candidates of run.asked) for (const candidate of candidates) fixture.checkShape(candidate, params);
    for (const state of run.states.slice(0, 4)) {
      if (fixture.strategy.stopReason(params, state)) break;
      const prepared = fixture.prepare ? fixture.prepare(params, state) : state;
      assert.deepEqual(fixture.strategy.ask(params, prepared), fixture.strategy.ask(params, prepared));
    }
  });

  test(`${name}: a NaN fitness counts as the worst; the best is never NaN`, () => {
    for (const objective of objectives) {
      const failed = runStrategy(fixture, { objective, seed: 5, failEvery: 3, failWith: nan });
      const scoredWorst = runStrategy(fixture, { objective, seed: 5, failEvery: 3, failWith: worst });
      assert.deepEqual(failed.asked, scoredWorst.asked);
      assert.ok(failed.told.flat().some(Number.isNaN), 'the run saw failures');
      if (failed.best) assert.ok(Number.isFinite(failed.best.fitness), `best fitness ${failed.best.fitness}`);
    }
  });

  test(`${name}: the state survives a JSON round trip after every step, failures included, and resumes identically`, () => {
    const plain = runStrategy(fixture, { objective: 'min', seed: 9, failEvery: 4, failWith: nan });
    const stored = runStrategy(fixture, { objective: 'min', seed: 9, failEvery: 4, failWith: nan, roundTrip: true });
    assert.deepEqual(stored.asked, plain.asked);
    assert.deepEqual(stored.best, plain.best === undefined ? undefined : JSON.parse(JSON.stringify(plain.best)));
  });

  if (fixture.onlyMin) {
    test(`${name}: minimises only (${fixture.onlyMin}), and its params say so`, () => {
      assert.equal(fixture.params('max').objective, 'min');
    });
    return;
  }

  test(`${name}: maximising −cost asks exactly what minimising cost asks`, () => {
    const min = runStrategy(fixture, { objective: 'min', seed: 21 });
    const max = runStrategy(fixture, { objective: 'max', seed: 21 });
    assert.deepEqual(max.asked, min.asked);
    assert.deepEqual(max.told, min.told.map((step) => step.map((f) => -f)));
    assert.equal(max.best?.fitness, min.best === undefined ? undefined : -min.best.fitness);
  });
}
