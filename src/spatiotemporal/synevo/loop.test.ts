import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../train/tf.js';
import { domainSetupOf } from './experiment.js';
import { DEFAULT_SYNEVO, runSynevo, type SynevoOptions } from './loop.js';
import { buildCurriculum } from './group-scoring.js';
import { fewShotSlice } from './setup.js';

before(async () => {
  await useBackend('cpu');
});

const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 8, dropout: 0 };
const options: SynevoOptions = {
  ...DEFAULT_SYNEVO,
  seed: 0,
  config: TINY,
  stepsPerGroup: 2,
  fewShotSteps: 2,
  extractor: { ...DEFAULT_SYNEVO.extractor, iterations: 20 },
  extractorSamplesPerGroup: 8,
  scoring: { ...DEFAULT_SYNEVO.scoring, steps: 2, signatureBatch: 8 },
};

test('SynEVO on 3 synthetic sources (1 held out): curriculum order, falling schedule, gate log, held-out metrics', async () => {
  const setup = domainSetupOf({ kind: 'cross-source', sources: 4, nodes: 4, days: 1, stepsPerDay: 48, seed: 2, holdout: 'last' });
  assert.deepEqual(setup.groups.map((g) => g.id), ['s0p0', 's1p0', 's2p0']);
  assert.equal(setup.heldOut.id, 's3p0');
  const curriculum = await buildCurriculum(setup.prepared, setup.groups, fewShotSlice(setup.heldOut, 0.25), { ...options.scoring, seed: 0, config: TINY });
  const again = await buildCurriculum(setup.prepared, setup.groups, fewShotSlice(setup.heldOut, 0.25), { ...options.scoring, seed: 0, config: TINY });
  assert.deepEqual(again.curriculum, curriculum.curriculum, 'deterministic for a seed');
  const order = curriculum.curriculum.order;
  assert.equal(order[0]!.group, curriculum.curriculum.bench);
  assert.equal(order[0]!.distance, 0);
  for (let i = 1; i < order.length; i++) assert.ok(order[i]!.distance >= order[i - 1]!.distance);

  const result = await runSynevo(setup, options, { curriculum });
  assert.deepEqual(result.order, order.map((e) => e.group));
  assert.equal(result.visits.length, 2 * 3);
  const firstCycle = result.visits.filter((v) => v.cycle === 1 && v.admitted);
  for (let i = 1; i < firstCycle.length; i++) assert.ok(firstCycle[i]!.dropout <= firstCycle[i - 1]!.dropout);
  // κ = 1e3 on standardised inputs admits every training group; the hardest trains with p = λ = 0
  assert.ok(result.visits.every((v) => v.admitted));
  assert.deepEqual([result.visits[2]!.dropout, result.visits[2]!.weightDecay], [0, 0]);
  assert.equal(result.gate.length, 4, 'three groups + the held-out few-shot probe');
  assert.ok(Number.isNaN(result.gate[0]!.minDistance) && result.gate.slice(1).every((d) => d.minDistance > 0));
  for (const m of [result.zeroShot, result.fewShot]) for (const h of [m.h3, m.h12, m.all]) assert.ok(Number.isFinite(h.mae) && h.mae > 0 && h.rmse >= h.mae);
  assert.equal(result.zeroShot.all.count, setup.heldOut.test.length * 12 * 4);

  const statics = await runSynevo(setup, { ...options, ablation: 'static' }, { curriculum });
  assert.ok(statics.visits.every((v) => v.dropout === 0.1 && v.weightDecay === 0.001));
  const noReorder = await runSynevo(setup, { ...options, ablation: 'no-reorder', cycles: 1 }, { curriculum });
  assert.deepEqual(noReorder.order, ['s0p0', 's1p0', 's2p0']);
  const noGate = await runSynevo(setup, { ...options, ablation: 'no-gate', cycles: 1 }, { curriculum });
  assert.equal(noGate.gate.length, 4, 'every group and the probe admitted without a distance');
  assert.ok(noGate.gate.every((d) => d.admitted && Number.isNaN(d.minDistance)));
  assert.equal(noGate.extractorLoss, undefined);
});
