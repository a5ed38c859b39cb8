import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseElastic, selectElastic } from './elastic-grid.js';
import { domainSetupOf } from './experiment.js';
import { buildCurriculum } from './group-scoring.js';
import { DEFAULT_SYNEVO, type SynevoOptions } from './loop.js';
import { fewShotSlice } from './setup.js';

test('chooseElastic takes the lowest validation MAE (ties: the first)', () => {
  const points = [
    { p0: 0.1, lambda0: 0.01, validationMae: 3 },
    { p0: 0.5, lambda0: 0.01, validationMae: 2 },
    { p0: 0.5, lambda0: 0.05, validationMae: 2 },
  ];
  assert.deepEqual(chooseElastic(points), { p0: 0.5, lambda0: 0.01 });
});

test('selectElastic scores each new grid point on validation windows, reuses known ones and never reads the held-out group', async () => {
  const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 8, dropout: 0 };
  const options: SynevoOptions = { ...DEFAULT_SYNEVO, seed: 0, config: TINY, cycles: 1, stepsPerGroup: 2, fewShotSteps: 1, extractor: { ...DEFAULT_SYNEVO.extractor, iterations: 5 }, extractorSamplesPerGroup: 4, scoring: { ...DEFAULT_SYNEVO.scoring, steps: 1, signatureBatch: 4 } };
  const setup = domainSetupOf({ kind: 'cross-source', sources: 3, nodes: 3, days: 1, stepsPerDay: 48, seed: 1, holdout: 'last' });
  const curriculum = await buildCurriculum(setup.prepared, setup.groups, fewShotSlice(setup.heldOut, 0.25), { ...options.scoring, seed: 0, config: TINY });
  // a held-out group with no windows would make any read of it fail loudly
  const blind = { ...setup, heldOut: { ...setup.heldOut, train: [], val: [], test: [] } };
  const seen: number[] = [];
  const known = [{ p0: 0.1, lambda0: 0.01, validationMae: -1 }];
  const selection = await selectElastic(blind, options, curriculum, { p0: [0.1, 0.5], lambda0: [0.01] }, { known, onPoint: (p) => seen.push(p.p0) });
  assert.deepEqual(seen, [0.5], 'the known point is not rerun');
  assert.equal(selection.points.length, 2);
  assert.ok(selection.points[1]!.validationMae > 0 && Number.isFinite(selection.points[1]!.validationMae));
  assert.deepEqual(selection.chosen, { p0: 0.1, lambda0: 0.01 }, 'the (fake) lower known score wins');
});
