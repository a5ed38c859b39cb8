import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatenateSources, defaultSourceTransforms, generateSyntheticCity } from '../../tasks/traffic/synthetic.js';
import { prepareTraffic } from '../gwn-data.js';
import { GwnEngineSession } from '../gwn-engine-session.js';
import { fitSamples } from '../gwn-fit.js';
import { AdaptiveCoupler } from './coupler.js';

const TINY = { residualChannels: 4, dilationChannels: 4, skipChannels: 8, endChannels: 8, dropout: 0 };

test('a rejected group never changes the container (bit-identical); an admitted one does', async () => {
  const city = generateSyntheticCity({ nodes: 4, days: 1, stepsPerDay: 96, radius: 0.6, seed: 1, sources: defaultSourceTransforms(1) });
  const prepared = prepareTraffic(concatenateSources(city.sources).network, 96);
  const make = (seed: number | string): GwnEngineSession => new GwnEngineSession(prepared, { seed, learningRate: 0.01, clipNorm: 5, config: TINY });
  const container = make(0);
  const coupler = new AdaptiveCoupler(container, { kappa: 0.5, gated: true, createSeparate: async (g) => make(`sep-${g}`) });
  const budget = { epochs: 1, batchSize: 8, maxStepsPerEpoch: 3, step: { weightDecay: 0.01, dropConnect: 0.2 } };
  const samples = Array.from({ length: 40 }, (_, i) => i);
  try {
    assert.equal(coupler.admit('a', Float64Array.from([0, 0])), true, 'the first group founds the container');
    await fitSamples(await coupler.sessionFor('a'), samples, budget);
    const afterA = await container.snapshot();
    // D_min = mean((1,1)²) = 1 ≥ κ = 0.5 → rejected
    assert.equal(coupler.admit('b', Float64Array.from([1, 1])), false);
    const separate = await coupler.sessionFor('b');
    assert.notEqual(separate, container);
    const separateBefore = await separate.snapshot();
    await fitSamples(separate, samples, budget);
    await fitSamples(separate, samples, budget);
    const afterB = await container.snapshot();
    for (const name of Object.keys(afterA)) assert.ok(afterA[name]!.data.every((v, i) => Object.is(v, afterB[name]!.data[i])), `${name} changed`);
    const separateAfter = await separate.snapshot();
    assert.ok(!separateBefore['end2.weight']!.data.every((v, i) => v === separateAfter['end2.weight']!.data[i]), 'the separate model trained');
    // the decision is made once: a later call with a near representation keeps 'rejected'
    assert.equal(coupler.admit('b', Float64Array.from([0.1, 0.1])), false);
    // D_min = 0.25 → admitted, and training it moves the container
    assert.equal(coupler.admit('c', Float64Array.from([0.5, 0.5])), true);
    assert.equal(await coupler.sessionFor('c'), container);
    await fitSamples(container, samples, budget);
    const afterC = await container.snapshot();
    assert.ok(!afterB['end2.weight']!.data.every((v, i) => v === afterC['end2.weight']!.data[i]));
    assert.deepEqual(coupler.decisions.map((d) => [d.group, d.admitted, d.minDistance]), [['a', true, Number.NaN], ['b', false, 1], ['c', true, 0.25]]);
    assert.equal(coupler.probe('held-out', Float64Array.from([0, 0])).admitted, false, 'an exact duplicate (D_min = 0) is rejected');
  } finally {
    await coupler.disposeSeparate();
    await container.dispose();
  }
});
