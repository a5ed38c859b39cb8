/**
 * Runs the strategy conformance suite (conformance.case.ts) against every registry entry. The fixture map is
 * typed by the registry's names: a new registry line without a fixture here does not compile.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Rng } from '../core/rng.js';
import { pseudoCost, strategyConformance, type StrategyFixture } from './conformance.case.js';
import { STRATEGIES, type StrategyName } from './registry.js';
import { elitistGa } from './strategies/elitist-ga.js';
import type { EvolverCandidate, EvolverParams, EvolverState } from './strategies/evolver.js';
import { kinshipNeeded, recordKinship, type KinshipGreedyCandidate, type KinshipGreedyParams, type KinshipGreedyState } from './strategies/kinship-greedy.js';
import { lorahubWeights } from './strategies/lorahub.js';
import type { BaseParams } from './strategy.js';

/** a smooth bowl with its minimum at 0.3 in every coordinate */
const bowl = (x: readonly number[]): number => x.reduce((sum, v) => sum + (v - 0.3) ** 2, 0);

function vectorShape(length: number, low = -Infinity, high = Infinity) {
  return (candidate: readonly number[]): void => {
    assert.equal(candidate.length, length);
    for (const v of candidate) assert.ok(Number.isFinite(v) && v >= low && v <= high, `gene ${v} outside [${low}, ${high}]`);
  };
}

const clip01 = (x: number): number => Math.min(1, Math.max(0, x));
const gaOnVectors = elitistGa<number[]>('elitist-ga', 'conformance GA on vectors in [0, 1]^3', {
  seeds: [[0.5, 0.5, 0.5]],
  random: (rng: Rng) => [rng.next(), rng.next(), rng.next()],
  mutate: (rng, g) => g.map((v) => (rng.next() < 0.5 ? v + 0.1 * rng.normal() : v)),
  crossover: (rng, a, b) => a.map((v, i) => (rng.next() < 0.5 ? v : b[i]!)),
  repair: (g) => g.map(clip01),
});

/* eslint-disable @typescript-eslint/no-explicit-any -- each fixture is typed by its own strategy */
type Fixture = StrategyFixture<any, any, any>;
const fixture = <P extends BaseParams, S, G>(f: StrategyFixture<P, S, G>): Fixture => f;

const FIXTURES: { readonly [K in StrategyName]: Fixture } = {
  'cma-es': fixture({
    strategy: STRATEGIES['cma-es'].strategy,
    params: (objective) => ({ objective, x0: [0.6, 0.1, 0.9], sigma0: 0.3, populationSize: 6, maxEvaluations: 40, lowerBounds: [0, 0, 0], upperBounds: [1, 1, 1] }),
    cost: bowl,
    checkShape: vectorShape(3),
    // CMA-ES tells whole generations: the last one may pass maxEvaluations, and the run loop cuts it (hard budget)
    budget: (p) => Math.ceil(p.maxEvaluations! / p.populationSize!) * p.populationSize!,
  }),
  random: fixture({
    strategy: STRATEGIES.random.strategy,
    params: (objective) => ({ objective, lowerBounds: [0, -1], upperBounds: [1, 2], batchSize: 4, maxEvaluations: 22 }),
    cost: bowl,
    checkShape: (c) => {
      vectorShape(2)(c);
      assert.ok(c[0]! >= 0 && c[0]! <= 1 && c[1]! >= -1 && c[1]! <= 2, `${c} outside the box`);
    },
    budget: (p) => p.maxEvaluations,
  }),
  'grid-greedy': fixture({
    strategy: STRATEGIES['grid-greedy'].strategy,
    params: (objective) => ({ objective, start: [1, 0], step: 0.1, lowerBounds: [0, 0], upperBounds: [2, 2], maxEvaluations: 30 }),
    cost: bowl,
    checkShape: vectorShape(2, 0, 2),
    budget: (p) => p.maxEvaluations!,
  }),
  evolver: fixture<EvolverParams, EvolverState, EvolverCandidate>({
    strategy: STRATEGIES.evolver.strategy,
    params: (objective) => ({ objective, models: ['m0', 'm1', 'm2', 'm3'], generations: 3, mode: 'standalone', mutation: 'rand/1', F: 0.5, CR: 0.5, jrand: true, genomeLength: 50, accept: '>', runSeed: 7 }),
    cost: (c) => pseudoCost(c.kind === 'merged' ? c.population : c.kind === 'offspring' ? c.recipe : c.id),
    checkShape: (c, p) => {
      assert.ok(['individual', 'offspring'].includes(c.kind), `standalone mode asks for individuals and offspring, got ${c.kind}`);
      if (c.kind === 'offspring') {
        assert.equal(c.population.length, p.models.length);
        assert.equal(c.recipe.partners.length, 3, 'rand/1 has three partners');
        assert.ok(c.recipe.jrandIndex !== null && c.recipe.jrandIndex >= 0 && c.recipe.jrandIndex < p.genomeLength);
      }
    },
    budget: (p) => p.models.length * (1 + p.generations),
  }),
  'kinship-greedy': fixture<KinshipGreedyParams, KinshipGreedyState, KinshipGreedyCandidate>({
    strategy: STRATEGIES['kinship-greedy'].strategy,
    params: (objective) => ({ objective, foundations: ['a', 'b', 'c', 'd'], k: 2, variant: 'kinship', explorationPool: 'all', stopAtKinship: null, maxGenerations: 4, maxEvaluations: 20 }),
    cost: (c) => pseudoCost(c.id),
    checkShape: (c, p) => {
      if (c.kind === 'foundation') assert.ok(p.foundations.includes(c.id));
      else assert.ok(c.parents.length === 2 && c.parents[0] !== c.parents[1], `parents ${c.parents}`);
    },
    budget: (p) => p.maxEvaluations!,
    // the driver measures kinship of exactly the pairs the strategy asks for; here a value per pair
    prepare: (p, s) => recordKinship(s, kinshipNeeded(p, s).map(([a, b]) => ({ a, b, value: pseudoCost([a, b]) }))),
  }),
  lorahub: fixture({
    strategy: STRATEGIES.lorahub.strategy,
    params: () => ({ objective: 'min', adapters: 3, maxEvaluations: 30, bound: 1.5, l1Weight: 0.05, sigma0: 0.5, populationSize: 5 }),
    cost: (c: number[]) => bowl(c),
    checkShape: (c: number[], p) => vectorShape(3)(lorahubWeights(p, c)),
    budget: (p) => p.maxEvaluations,
    onlyMin: 'LoraHub minimises a loss plus its L1 term (its params fix objective: min)',
  }),
  'elitist-ga': fixture({
    strategy: gaOnVectors,
    params: (objective) => ({ objective, populationSize: 4, offspring: 3, generations: 4, tournamentSize: 2, crossoverRate: 0.5 }),
    cost: bowl,
    checkShape: vectorShape(3, 0, 1),
    budget: (p) => p.populationSize + p.generations * p.offspring,
  }),
  'weight-tuning': fixture({
    strategy: STRATEGIES['weight-tuning'].strategy,
    params: (objective) => ({ objective, populationSize: 4, iterations: 5, mutationProbability: 0.02, step: 1 / 256, multiplicative: false, parentFitness: objective === 'min' ? 0.5 : -0.5 }),
    cost: pseudoCost,
    checkShape: (c: { lineage: readonly number[]; seed: number }) => {
      assert.ok(Number.isInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32);
      for (const s of c.lineage) assert.ok(Number.isInteger(s));
    },
    budget: (p) => p.populationSize * p.iterations,
  }),
};

for (const [name, f] of Object.entries(FIXTURES)) {
  describe(`strategy conformance: ${name}`, () => strategyConformance(name, f));
}
