import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRng } from '../../core/rng.js';
import { elitistGa, type GaParams, type GaState } from '../../evolve/strategies/elitist-ga.js';
import {
  DEFAULT_LIMITS,
  codeUnits,
  crossoverArchitecture,
  enforceBottleneck,
  crossoverSubspaces,
  mutateArchitecture,
  mutateSubspaces,
  randomArchitecture,
  randomSubspaces,
  repairArchitecture,
  validSubspaces,
} from './operators.js';
import { perturbWeights, replayLineage, weightTuning, type WeightTuningParams } from '../../evolve/strategies/weight-tuning.js';
import { BASELINE_GENOME, planAutoencoder } from './conv-autoencoder.js';

test('subspace operators keep every set non-empty and every index in [0, F)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 6 }), fc.integer(), (features, k, seed) => {
      const rng = createRng('subspace-prop', seed);
      let a = randomSubspaces(rng, features, k);
      const b = randomSubspaces(rng, features, k);
      assert.ok(validSubspaces(a, features));
      assert.equal(new Set(a.flat()).size, features, 'the initial partition covers every feature');
      for (let i = 0; i < 20; i++) {
        a = mutateSubspaces(rng, rng.next() < 0.5 ? crossoverSubspaces(rng, a, b) : a, features);
        assert.ok(validSubspaces(a, features), JSON.stringify(a));
      }
    }),
    { numRuns: 150 },
  );
});

test('every repaired architecture decodes to an autoencoder whose output shape equals its input shape', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer(), (features, seed) => {
      const rng = createRng('arch-prop', seed);
      let g = randomArchitecture(rng, DEFAULT_LIMITS);
      for (let i = 0; i < 8; i++) {
        g = repairArchitecture(mutateArchitecture(rng, rng.next() < 0.5 ? crossoverArchitecture(rng, g, randomArchitecture(rng, DEFAULT_LIMITS)) : g, DEFAULT_LIMITS), features);
        const plan = planAutoencoder(g, features);
        assert.ok(!('invalid' in plan), `features ${features}: ${JSON.stringify(g)} → ${JSON.stringify(plan)}`);
        const last = plan.decoder[plan.decoder.length - 1]!;
        assert.deepEqual([last.outChannels, last.outLength], [g.window, features]);
        assert.ok(g.learningRate >= 1e-6 && g.learningRate <= 1e-2 && g.window >= 2 && g.window <= 10);
      }
    }),
    { numRuns: 150 },
  );
});

test('bottleneck: the code is capped at ⌊ratio·W·F⌋ units, output shape kept, idempotent; small codes untouched', () => {
  // the hand-configured baseline widens its input: 64 channels × ⌈25/2⌉ = 832 code units for a 5 × 25 window
  assert.equal(codeUnits(BASELINE_GENOME, 25), 832);
  const capped = enforceBottleneck(BASELINE_GENOME, 25, 0.5);
  assert.equal(codeUnits(capped, 25), 62);
  assert.deepEqual(capped.convLayers, BASELINE_GENOME.convLayers);
  assert.equal(capped.fcRatios.length, 1);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer(), fc.double({ min: 0.05, max: 1, noNaN: true }), (features, seed, ratio) => {
      const rng = createRng('bottleneck-prop', seed);
      const g = repairArchitecture(randomArchitecture(rng, DEFAULT_LIMITS), features);
      const b = enforceBottleneck(g, features, ratio);
      const plan = planAutoencoder(b, features);
      assert.ok(!('invalid' in plan), JSON.stringify(b));
      assert.ok(codeUnits(b, features)! <= Math.max(1, Math.floor(ratio * b.window * features)));
      const last = plan.decoder[plan.decoder.length - 1]!;
      assert.deepEqual([last.outChannels, last.outLength], [b.window, features]);
      assert.deepEqual(enforceBottleneck(b, features, ratio), b, 'idempotent');
      if (codeUnits(g, features)! <= Math.floor(ratio * g.window * features)) assert.equal(b, g);
    }),
    { numRuns: 150 },
  );
});

const GA: GaParams = { objective: 'min', populationSize: 6, offspring: 6, generations: 15, tournamentSize: 2, crossoverRate: 0.5 };
const toy = elitistGa<number>('toy', 'toy', {
  seeds: [50],
  random: (rng) => rng.int(100),
  mutate: (rng, x) => x + (rng.next() < 0.5 ? -1 : 1) * (1 + rng.int(5)),
  crossover: (rng, a, b) => Math.round((a + b) / 2),
  repair: (x) => Math.max(0, Math.min(99, x)),
});

function runToy(seed: number, objective: 'min' | 'max'): number[] {
  const params = { ...GA, objective };
  let state: GaState<number> = toy.init(params, seed);
  const bests: number[] = [];
  while (!toy.stopReason(params, state)) {
    const asked = toy.ask(params, state);
    const fitness = asked.candidates.map((x) => (x === 13 ? NaN : (x - 37) ** 2));
    state = toy.tell(params, asked.state, asked.candidates, fitness).state;
    bests.push(toy.best(state)!.fitness);
  }
  return bests;
}

test('elitist GA: the best fitness never gets worse, NaN never wins, runs are deterministic for a seed', () => {
  const bests = runToy(4, 'min');
  assert.equal(bests.length, 16);
  for (let i = 1; i < bests.length; i++) assert.ok(bests[i]! <= bests[i - 1]!, `generation ${i}: ${bests[i]} > ${bests[i - 1]}`);
  assert.ok(bests[bests.length - 1]! <= 4, `converges near x = 37, best ${bests[bests.length - 1]}`);
  assert.deepEqual(runToy(4, 'min'), bests);
  const maxed = runToy(4, 'max');
  for (let i = 1; i < maxed.length; i++) assert.ok(maxed[i]! >= maxed[i - 1]!);
});

const WEIGHTS = {
  'encoder.0.weight': { shape: [2, 3], data: Float32Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) },
  'encoder.0.bn.running_mean': { shape: [2], data: Float32Array.from([0.5, 0.5]) },
};

test('level 3: p = 0 leaves weights unchanged; perturbations are seeded; running statistics are never perturbed', () => {
  const unchanged = perturbWeights(WEIGHTS, 9, { mutationProbability: 0, step: 1 / 256, multiplicative: false });
  assert.deepEqual(unchanged, WEIGHTS);
  const all = { mutationProbability: 1, step: 1 / 256, multiplicative: false };
  const a = perturbWeights(WEIGHTS, 9, all);
  assert.deepEqual(a, perturbWeights(WEIGHTS, 9, all));
  assert.notDeepEqual(a['encoder.0.weight']!.data, WEIGHTS['encoder.0.weight'].data);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(a['encoder.0.weight']!.data[i]! - WEIGHTS['encoder.0.weight'].data[i]!) < 6 / 256);
  assert.deepEqual(a['encoder.0.bn.running_mean'], WEIGHTS['encoder.0.bn.running_mean']);
  assert.deepEqual(replayLineage(WEIGHTS, [9, 10], all), perturbWeights(a, 10, all));
});

test('level 3 strategy is elitist: a candidate is accepted only when strictly better', () => {
  const params: WeightTuningParams = { objective: 'min', populationSize: 3, iterations: 3, mutationProbability: 0.02, step: 1 / 256, multiplicative: false, parentFitness: 1 };
  let state = weightTuning.init(params, 1);
  const steps = [
    [1.2, 1, 1.5],
    [0.9, 0.8, NaN],
    [0.85, 0.8, 0.81],
  ];
  const fitnessTrail: number[] = [];
  for (const fitness of steps) {
    const asked = weightTuning.ask(params, state);
    assert.equal(asked.candidates.length, 3);
    assert.deepEqual(asked.candidates[0]!.lineage, state.accepted);
    state = weightTuning.tell(params, asked.state, asked.candidates, fitness).state;
    fitnessTrail.push(state.fitness);
  }
  assert.deepEqual(fitnessTrail, [1, 0.8, 0.8]);
  assert.equal(state.accepted.length, 1);
  assert.equal(weightTuning.stopReason(params, state), 'iterations');
});
