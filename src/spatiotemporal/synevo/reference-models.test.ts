import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainSetupOf } from './experiment.js';
import { runConvergedJointReference } from './reference-models.js';
import { evaluateOn } from './setup.js';
import { trainGwn } from '../gwn-trainer.js';
import { GwnEngineSession } from '../gwn-engine-session.js';

const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 8, dropout: 0 };

test('converged joint reference: early stopping on the training groups\' validation windows, best epoch kept, held-out scored on those weights', async () => {
  const setup = domainSetupOf({ kind: 'cross-source', sources: 3, nodes: 4, days: 1, stepsPerDay: 48, seed: 3, holdout: 'last' });
  const options = { seed: 1, config: TINY, learningRate: 0.01, clipNorm: 5, batchSize: 8, weightDecay: 0.001, totalSteps: 0, fewShotFraction: 0.25, fewShotSteps: 2, workers: 1 as const, epochs: 6, patience: 2, trainScoreWindows: 4 };
  const result = await runConvergedJointReference(setup, options);
  assert.equal(result.method, 'gwn-joint-converged');
  assert.ok(result.history.length >= 1 && result.history.length <= options.epochs);
  const vals = result.history.map((r) => r.valMae);
  assert.equal(result.bestEpoch, result.history[vals.indexOf(Math.min(...vals))]!.epoch, 'best epoch = the lowest validation MAE');
  if (result.stopReason === 'patience') assert.equal(result.history.length - result.bestEpoch, options.patience);
  else assert.equal(result.history.length, options.epochs);
  assert.ok(result.history.every((r) => r.trainMae !== undefined), 'train side of the learning curve scored in inference mode');

  // independently: the same training, the best weights loaded into a fresh session, scored on the held-out test windows
  const trained = await trainGwn(setup.prepared, { epochs: options.epochs, patience: options.patience, batchSize: 8, learningRate: 0.01, weightDecay: 0.001, clipNorm: 5, seed: 1, config: TINY, trainSamples: setup.groups.flatMap((g) => g.train), valSamples: setup.groups.flatMap((g) => g.val), trainScoreWindows: 4, workers: 1 });
  assert.deepEqual(trained.history.map((r) => r.valMae), vals, 'deterministic for a seed');
  const session = new GwnEngineSession(setup.prepared, { seed: 1, learningRate: 0.01, clipNorm: 5, config: trained.config, initialWeights: trained.weights, workers: 1 });
  try {
    const zeroShot = await evaluateOn(session, setup.prepared, setup.heldOut.test);
    assert.equal(result.zeroShot.all.mae, zeroShot.all.mae);
  } finally {
    await session.dispose();
  }
  assert.notEqual(result.fewShot.all.mae, result.zeroShot.all.mae, 'few-shot adaptation changed the model');
});
