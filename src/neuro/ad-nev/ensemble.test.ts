import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensembleDecisions, normalisedMeanScore, type EnsembleScores } from './ensemble.js';

// three members; member 0 watches the anomalous features and spikes at steps 2–3, the others stay flat
const SCORES: EnsembleScores = {
  memberScores: [Float64Array.from([1, 1, 9, 7, 1]), Float64Array.from([0.01, 0.01, 0.01, 0.012, 0.01]), Float64Array.from([4, 4, 4, 4, 6])],
  thresholds: [
    { pot: 3, percentile: 2, calibrationMean: 1 },
    { pot: 0.03, percentile: 0.02, calibrationMean: 0.01 },
    { pot: 12, percentile: 8, calibrationMean: 4 },
  ],
  ensembleThresholds: { pot: 2, percentile: 1.5 },
};

test('normalised mean score: each member divided by its calibration mean, then averaged', () => {
  const score = normalisedMeanScore(SCORES.memberScores, SCORES.thresholds);
  // step 2: (9/1 + 1 + 1)/3; step 3: (7 + 1.2 + 1)/3; step 4: (1 + 1 + 1.5)/3
  const expected = [1, 1, 11 / 3, 9.2 / 3, 3.5 / 3];
  score.forEach((s, t) => assert.ok(Math.abs(s - expected[t]!) < 1e-12, `step ${t}: ${s}`));
});

test('vote rules: one member alarming is outvoted by a majority, kept by any-member and by the normalised mean', () => {
  const majority = ensembleDecisions(SCORES, 'pot', 'majority');
  const any = ensembleDecisions(SCORES, 'pot', 'any');
  const mean = ensembleDecisions(SCORES, 'pot', 'mean');
  assert.deepEqual(Array.from(majority.predictions), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(any.predictions), [0, 0, 1, 1, 0]);
  // mean > ensemble POT threshold 2 at steps 2 (3.67) and 3 (3.07) only
  assert.deepEqual(Array.from(mean.predictions), [0, 0, 1, 1, 0]);
  // the percentile threshold 1.5 is lower but still above step 4's 1.17
  assert.deepEqual(Array.from(ensembleDecisions(SCORES, 'percentile', 'mean').predictions), [0, 0, 1, 1, 0]);
  // the continuous score is the same under every rule
  assert.deepEqual(majority.score, mean.score);
});

test('a member with zero calibration error does not divide by zero', () => {
  const score = normalisedMeanScore([Float64Array.from([0, 1e-12])], [{ pot: 0, percentile: 0, calibrationMean: 0 }]);
  assert.deepEqual(Array.from(score), [0, 1]);
});
