import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EXTRACTOR } from './extractor.js';
import { DEFAULT_SCORING } from './group-scoring.js';
import { DEFAULT_SYNEVO } from './loop.js';
import { synevoOptionsFrom } from './options-from.js';

const WIDTH = { residualChannels: 8, dilationChannels: 8, skipChannels: 32, endChannels: 64 };

test('synevoOptionsFrom: no settings → DEFAULT_SYNEVO (30 steps per group; the curriculum batch follows the batch size)', () => {
  const options = synevoOptionsFrom({ seed: 3, config: WIDTH });
  assert.deepEqual(options, { ...DEFAULT_SYNEVO, seed: 3, config: WIDTH, scoring: { ...DEFAULT_SCORING, batchSize: DEFAULT_SYNEVO.batchSize } });
  assert.equal(options.stepsPerGroup, 30);
  assert.equal(options.scoring.steps, 30);
  assert.equal('kappaFactor' in options, false);
});

test("synevoOptionsFrom: the results script's settings give the options it wrote out by hand before", () => {
  // the literal construction scripts/results-st/synevo.ts used (full budget, seed 1, the grid's second point)
  const byHand = {
    ...DEFAULT_SYNEVO,
    seed: 1,
    config: WIDTH,
    learningRate: 0.01,
    batchSize: 16,
    cycles: 2,
    stepsPerGroup: 30,
    elastic: { p0: 0.1, lambda0: 0.05 },
    kappaFactor: 1.5,
    extractor: { ...DEFAULT_EXTRACTOR, margin: 1, iterations: DEFAULT_EXTRACTOR.iterations },
    fewShotFraction: 0.25,
    fewShotSteps: 15,
    scoring: { ...DEFAULT_SCORING, steps: 30, batchSize: 16 },
  };
  const settings = { seed: 1, config: WIDTH, learningRate: 0.01, batchSize: 16, cycles: 2, stepsPerGroup: 30, scoringSteps: 30, p0: 0.1, lambda0: 0.05, kappaFactor: 1.5, margin: 1, extractorIterations: DEFAULT_EXTRACTOR.iterations, fewShotFraction: 0.25, fewShotSteps: 15 };
  assert.deepEqual(synevoOptionsFrom(settings), byHand);
});

test('synevoOptionsFrom: every setting reaches its option', () => {
  const o = synevoOptionsFrom({ seed: 0, config: {}, learningRate: 0.02, batchSize: 8, cycles: 3, stepsPerGroup: 7, scoringSteps: 9, fewShotSteps: 4, fewShotFraction: 0.5, p0: 0.3, lambda0: 0.02, kappa: 12, margin: 2, extractorIterations: 11, dropMode: 'activation', separateInit: 'warm' });
  assert.deepEqual(
    [o.learningRate, o.batchSize, o.cycles, o.stepsPerGroup, o.scoring.steps, o.scoring.batchSize, o.fewShotSteps, o.fewShotFraction, o.elastic, o.kappa, o.extractor.margin, o.extractor.iterations, o.dropMode, o.separateInit],
    [0.02, 8, 3, 7, 9, 8, 4, 0.5, { p0: 0.3, lambda0: 0.02 }, 12, 2, 11, 'activation', 'warm'],
  );
});
