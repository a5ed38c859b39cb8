import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainSetupOf } from './experiment.js';
import { DEFAULT_SYNEVO, controlOrder, runSynevo, type SynevoOptions } from './loop.js';
import { buildCurriculum } from './group-scoring.js';
import { fewShotSlice } from './setup.js';

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
  // the 'activation' drop mode runs on the engine too: same schedule, other masks, so another container
  const [connect, activation] = [await runSynevo(setup, { ...options, cycles: 1 }, { curriculum }), await runSynevo(setup, { ...options, cycles: 1, dropMode: 'activation' }, { curriculum })];
  assert.deepEqual(activation.visits.map((v) => v.dropout), connect.visits.map((v) => v.dropout));
  assert.ok(activation.visits[0]!.dropout > 0);
  assert.notEqual(activation.zeroShot.all.mae, connect.zeroShot.all.mae);
  assert.ok(Number.isFinite(activation.fewShot.all.mae));
});

test('no-reorder control: the natural order, or a seeded shuffle when it equals the curriculum order', () => {
  assert.deepEqual(controlOrder(['a', 'b', 'c'], ['b', 'a', 'c'], 0), { order: ['a', 'b', 'c'], orderKind: 'natural' });
  const shuffled = controlOrder(['a', 'b', 'c'], ['a', 'b', 'c'], 0);
  assert.equal(shuffled.orderKind, 'shuffled');
  assert.notDeepEqual(shuffled.order, ['a', 'b', 'c']);
  assert.deepEqual([...shuffled.order].sort(), ['a', 'b', 'c']);
  assert.deepEqual(controlOrder(['a', 'b', 'c'], ['a', 'b', 'c'], 0), shuffled, 'deterministic for a seed');
});

test('κ scaled from the representation distances: the gate rejects groups beyond it and they train apart', async () => {
  const setup = domainSetupOf({ kind: 'cross-source', sources: 4, nodes: 4, days: 1, stepsPerDay: 48, seed: 2, holdout: 'last' });
  const curriculum = await buildCurriculum(setup.prepared, setup.groups, fewShotSlice(setup.heldOut, 0.25), { ...options.scoring, seed: 0, config: TINY });
  // factor 0.5: κ is half the median pairwise distance, so at least the pair at the median is too far apart
  const result = await runSynevo(setup, { ...options, cycles: 1, kappaFactor: 0.5 }, { curriculum });
  const scale = result.kappaScale!;
  assert.equal(scale.pairwise.length, 3);
  assert.equal(result.kappa, 0.5 * scale.median);
  const decided = result.gate.filter((d) => Number.isFinite(d.minDistance));
  assert.ok(decided.some((d) => !d.admitted), 'some candidate is rejected');
  for (const d of decided) assert.equal(d.admitted, d.minDistance < result.kappa, `${d.group}: D_min ${d.minDistance} vs κ ${result.kappa}`);
  for (const visit of result.visits) assert.equal(visit.admitted, result.gate.find((d) => d.group === visit.group)!.admitted);
  // a rejected group trains its own model with no regularisation (Eq. 15's (1 − h) term)
  for (const visit of result.visits.filter((x) => !x.admitted)) assert.deepEqual([visit.dropout, visit.weightDecay], [0, 0]);
});
