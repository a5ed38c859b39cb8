import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRng } from '../../core/rng.js';
import { offspringTensor, type OffspringRecipe } from './evolver-ops.js';
import { evolver, type EvolverCandidate, type EvolverParams, type EvolverState } from './evolver.js';

const recipe = (over: Partial<OffspringRecipe> = {}): OffspringRecipe => ({
  generation: 0,
  slot: 0,
  mutation: 'interpolate',
  parent: 'a',
  partners: ['b'],
  F: 0.5,
  CR: 0.5,
  jrandIndex: null,
  runSeed: 1,
  ...over,
});

function randomVector(seed: number, n: number): Float32Array {
  const rng = createRng('vec', seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

test('F = 0 gives the parent; CR = 0 without jrand gives the parent; CR = 1 gives the mutant', () => {
  const x = randomVector(1, 257);
  const p = [randomVector(2, 257), randomVector(3, 257), randomVector(4, 257)];
  assert.deepEqual(offspringTensor(recipe({ F: 0, CR: 1 }), 't', x, p, 0), x);
  assert.deepEqual(offspringTensor(recipe({ CR: 0 }), 't', x, p, 0), x);
  const full = offspringTensor(recipe({ mutation: 'rand/1', partners: ['b', 'c', 'd'], CR: 1, F: 0.7 }), 't', x, p, 0);
  for (let j = 0; j < x.length; j++) assert.equal(full[j], Math.fround(p[0]![j]! + 0.7 * (p[1]![j]! - p[2]![j]!)));
});

test('jrand forces exactly its element from the mutant even at CR = 0', () => {
  const x = randomVector(5, 100);
  const p = [randomVector(6, 100)];
  // the tensor starts at flat index 1000; forced index 1042 is element 42 of this tensor
  const out = offspringTensor(recipe({ CR: 0, jrandIndex: 1042 }), 't', x, p, 1000);
  for (let j = 0; j < 100; j++) {
    if (j === 42) assert.equal(out[j], Math.fround(x[j]! + 0.5 * (p[0]![j]! - x[j]!)));
    else assert.equal(out[j], x[j]);
  }
  // a forced index in another tensor changes nothing here
  assert.deepEqual(offspringTensor(recipe({ CR: 0, jrandIndex: 5 }), 't', x, p, 1000), x);
});

test('coefficients sum to 1: evolving weights or task vectors gives the same offspring (float rounding)', () => {
  fc.assert(
    fc.property(fc.constantFrom('interpolate', 'rand/1', 'current-to-best/1' as const), fc.double({ min: -1, max: 1.5, noNaN: true }), fc.integer({ min: 0, max: 1000 }), (mutation, F, seed) => {
      const n = 64;
      const base = randomVector(seed, n);
      const models = [1, 2, 3, 4].map((k) => randomVector(seed + k, n));
      const deltas = models.map((m) => m.map((v, j) => v - base[j]!));
      const r = recipe({ mutation, F, CR: 0.6, partners: ['b', 'c', 'd'] });
      const onWeights = offspringTensor(r, 't', models[0]!, models.slice(1), 0);
      const onDeltas = offspringTensor(r, 't', deltas[0]!, deltas.slice(1), 0);
      for (let j = 0; j < n; j++) assert.ok(Math.abs(onWeights[j]! - (onDeltas[j]! + base[j]!)) < 1e-4);
    }),
    { numRuns: 50 },
  );
});

/** A tiny orchestrator: individuals are vectors, fitness = −‖x − target‖² (maximised). */
function runEvolver(params: EvolverParams, seed: number, target: Float32Array, store: Map<string, Float32Array>, hook?: (s: EvolverState) => EvolverState) {
  const fitnessOf = (x: Float32Array) => -x.reduce((a, v, j) => a + (v - target[j]!) ** 2, 0);
  const mean = (ids: readonly string[]) => {
    const out = new Float32Array(target.length);
    for (const id of ids) store.get(id)!.forEach((v, j) => (out[j]! += v / ids.length));
    return out;
  };
  const materialise = (c: EvolverCandidate): Float32Array => {
    if (c.kind === 'individual') return store.get(c.id)!;
    if (c.kind === 'merged') return mean(c.population);
    const child = offspringTensor(c.recipe, 't', store.get(c.recipe.parent)!, c.recipe.partners.map((id) => store.get(id)!), 0);
    store.set(c.id, child);
    return params.mode === 'merger' ? mean(c.population) : child;
  };
  let state = evolver.init(params, seed);
  const history: EvolverState[] = [state];
  while (!evolver.stopReason(params, state)) {
    const asked = evolver.ask(params, state);
    const fitness = asked.candidates.map((c) => fitnessOf(materialise(c)));
    state = evolver.tell(params, asked.state, asked.candidates, fitness).state;
    if (hook) state = hook(state);
    history.push(state);
  }
  return { state, history };
}

function family(seed: number, n: number, dim: number) {
  const store = new Map<string, Float32Array>();
  const ids = Array.from({ length: n }, (_, i) => `m${i}`);
  ids.forEach((id, i) => store.set(id, randomVector(seed * 10 + i, dim)));
  return { store, ids, target: randomVector(seed * 10 + 99, dim) };
}

const baseParams = (ids: string[], over: Partial<EvolverParams> = {}): EvolverParams => ({
  objective: 'max',
  models: ids,
  generations: 6,
  mode: 'standalone',
  mutation: 'interpolate',
  F: 0.5,
  CR: 0.5,
  jrand: false,
  genomeLength: 32,
  accept: '>',
  runSeed: 3,
  ...over,
});

test('mode A never accepts a worse offspring: every slot’s fitness is non-decreasing', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom('interpolate', 'rand/1', 'current-to-best/1' as const), (seed, mutation) => {
      const { store, ids, target } = family(seed, 5, 32);
      const { history, state } = runEvolver(baseParams(ids, { mutation }), seed, target, store);
      for (let h = 2; h < history.length; h++) {
        history[h]!.fitness.forEach((f, i) => assert.ok(f >= history[h - 1]!.fitness[i]!));
      }
      assert.equal(state.evaluations, 5 + 5 * 6);
    }),
    { numRuns: 25 },
  );
});

test('mode B never lowers the merged fitness and returns the merge of the final population', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000 }), (seed) => {
      const { store, ids, target } = family(seed, 4, 32);
      const { history, state } = runEvolver(baseParams(ids, { mode: 'merger' }), seed, target, store);
      for (let h = 2; h < history.length; h++) assert.ok(history[h]!.mergedFitness! >= history[h - 1]!.mergedFitness!);
      const best = evolver.best(state)!;
      assert.deepEqual(best.genome, { kind: 'merged', population: state.population });
      assert.equal(state.evaluations, 1 + 4 * 6);
    }),
    { numRuns: 25 },
  );
});

test('same seed gives an identical run; JSON round trips resume identically', () => {
  const a = family(7, 5, 32);
  const b = family(7, 5, 32);
  const params = baseParams(a.ids, { mutation: 'rand/1', jrand: true });
  const runA = runEvolver(params, 11, a.target, a.store);
  const runB = runEvolver(params, 11, b.target, b.store, (s) => JSON.parse(JSON.stringify(s)) as EvolverState);
  assert.deepEqual(runA.state, runB.state);
  for (const id of runA.state.population) assert.deepEqual(a.store.get(id), b.store.get(id));
});

test('rand/1 draws three distinct partners other than the parent', () => {
  const { ids } = family(1, 4, 8);
  const params = baseParams(ids, { mutation: 'rand/1' });
  let state = evolver.init(params, 0);
  state = evolver.tell(params, state, evolver.ask(params, state).candidates, [1, 2, 3, 4]).state;
  for (let k = 0; k < 40; k++) {
    const asked = evolver.ask(params, state);
    const c = asked.candidates[0]!;
    assert.equal(c.kind, 'offspring');
    if (c.kind !== 'offspring') return;
    assert.equal(new Set([c.recipe.parent, ...c.recipe.partners]).size, 4);
    state = evolver.tell(params, asked.state, asked.candidates, [0]).state;
    if (evolver.stopReason(params, state)) break;
  }
});

test('configs violating a variant’s minimum population are rejected', () => {
  assert.throws(() => evolver.init(baseParams(['a', 'b', 'c'], { mutation: 'rand/1' }), 0), /needs at least 4 models, got 3/);
  assert.throws(() => evolver.init(baseParams(['a', 'b'], { mutation: 'current-to-best/1' }), 0), /at least 3/);
  assert.throws(() => evolver.init(baseParams(['a', 'b', 'c'], { mutation: 'current-to-best/1', mode: 'merger' }), 0), /standalone/);
});
