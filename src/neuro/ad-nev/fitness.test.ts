import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensembleFitness, featureProfile } from './fitness.js';
import type { Series } from '../../tasks/anomaly/series.js';

const series = (rows: number[][]): Series => ({ values: Float64Array.from(rows.flat()), rows: rows.length, columns: rows[0]!.length, names: rows[0]!.map((_, i) => `c${i}`) });

// feature 0 varies widely (variance 1), feature 1 a little (variance 0.01), feature 2 is constant
const FIT = series([
  [1, 0.1, 5],
  [-1, -0.1, 5],
  [1, 0.1, 5],
  [-1, -0.1, 5],
]);
const HELD_OUT = series([
  [0, 0.2, 5],
  [2, 0, 6],
]);

test('feature profile: weights 1/variance on the fitting part, constant features marked 0, naive held-out errors', () => {
  const profile = featureProfile(FIT, HELD_OUT, 'variance');
  assert.ok(Math.abs(profile.weights[0]! - 1) < 1e-12 && Math.abs(profile.weights[1]! - 100) < 1e-9 && profile.weights[2] === 0);
  // fitting means 0, 0, 5: naive errors (0² + 2²)/2, (0.2² + 0²)/2, (0² + 1²)/2
  assert.deepEqual(Array.from(profile.naiveErrors, (e) => +e.toFixed(12)), [2, 0.02, 0.5]);
  const raw = featureProfile(FIT, HELD_OUT, 'none');
  assert.deepEqual(Array.from(raw.weights), [1, 1, 1]);
});

test('ensemble fitness: best member per feature, unseen features cost the naive error, constant features must be watched', () => {
  const profile = featureProfile(FIT, HELD_OUT, 'variance');
  // member A sees 0, 1 and the constant 2; member B sees 1 only
  const a = { features: [0, 1, 2], featureErrors: [0.5, 0.004, 0.3] };
  const b = { features: [1], featureErrors: [0.001] };
  // normalised: feature 0 → 0.5/1, feature 1 → min(0.004, 0.001)·100 = 0.1, constant feature 2 seen → 0; mean over 3
  assert.ok(Math.abs(ensembleFitness(profile, [a, b]) - 0.6 / 3) < 1e-12);
  // without member A: feature 0 costs its naive error 2/1, the unwatched constant feature 1
  assert.ok(Math.abs(ensembleFitness(profile, [b]) - (2 + 0.1 + 1) / 3) < 1e-12);
  // watching the constant feature pays exactly its unit cost, whatever the member's raw error on it
  assert.ok(Math.abs(ensembleFitness(profile, [b]) - ensembleFitness(profile, [b, { features: [2], featureErrors: [7] }]) - 1 / 3) < 1e-12);
  // raw weighting (`none`): raw errors, the tiny-spread feature 1 hardly matters
  const raw = featureProfile(FIT, HELD_OUT, 'none');
  assert.ok(Math.abs(ensembleFitness(raw, [a, b]) - (0.5 + 0.001 + 0.3) / 3) < 1e-12);
  assert.ok(Math.abs(ensembleFitness(raw, [b]) - (2 + 0.001 + 0.5) / 3) < 1e-12);
  // a failed member (NaN error) or an error vector of the wrong length makes the candidate NaN (the worst)
  assert.ok(Number.isNaN(ensembleFitness(profile, [{ features: [0], featureErrors: [NaN] }])));
  assert.ok(Number.isNaN(ensembleFitness(profile, [{ features: [2], featureErrors: [NaN] }])));
  assert.ok(Number.isNaN(ensembleFitness(profile, [{ features: [0, 1], featureErrors: [0.1] }])));
});

test('a training series constant in every feature: the fitness counts unwatched features only', () => {
  const flat = series([
    [1, 2],
    [1, 2],
  ]);
  const profile = featureProfile(flat, series([[1, 3]]), 'variance');
  assert.deepEqual(Array.from(profile.weights), [0, 0]);
  assert.equal(ensembleFitness(profile, []), 1);
  assert.equal(ensembleFitness(profile, [{ features: [1], featureErrors: [0.5] }]), 0.5);
  assert.equal(ensembleFitness(profile, [{ features: [0, 1], featureErrors: [0.5, 0.5] }]), 0);
});
