import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contrastiveLoss, domainRepresentation, embed, pairLoss, trainExtractor } from './extractor.js';

test('contrastive loss: 0 for identical same-domain pairs and for different-domain pairs farther than m', () => {
  const weight = Float64Array.from({ length: 3 * 2 }, (_, i) => 0.1 * (i + 1));
  const x = Float64Array.from([1, 2, 3, -1, 0, 2]); // 2 nodes × 3 steps
  assert.equal(pairLoss(weight, x, x, true, 3, 2, 1), 0);
  const far = x.map((v) => v + 10);
  assert.equal(pairLoss(weight, x, far, false, 3, 2, 1), 0);
  assert.equal(contrastiveLoss(0.4, false, 1), 0.6);
  assert.equal(contrastiveLoss(0.4, true, 1), 0.4);
  assert.equal(contrastiveLoss(2, false, 1), 0);
});

test('pair-loss gradient matches central finite differences', () => {
  const weight = Float64Array.from([0.3, -0.2, 0.1, 0.5, -0.4, 0.2]);
  const a = Float64Array.from([1, 2, 3, -1, 0, 2]);
  const b = Float64Array.from([0.5, 1, 2, 0, 1, 1]);
  for (const same of [true, false]) {
    const grad = new Float64Array(6);
    pairLoss(weight, a, b, same, 3, 2, 5, grad);
    for (let i = 0; i < 6; i++) {
      const up = Float64Array.from(weight);
      const down = Float64Array.from(weight);
      up[i]! += 1e-6;
      down[i]! -= 1e-6;
      const numeric = (pairLoss(up, a, b, same, 3, 2, 5) - pairLoss(down, a, b, same, 3, 2, 5)) / 2e-6;
      assert.ok(Math.abs(numeric - grad[i]!) < 1e-6, `entry ${i}: ${numeric} vs ${grad[i]}`);
    }
  }
});

test('training separates two shifted domains and is deterministic for a seed', () => {
  const samples = [];
  for (let i = 0; i < 20; i++) {
    const base = Float64Array.from({ length: 4 * 3 }, (_, j) => Math.sin(i + j) * 0.1);
    samples.push({ features: base, domain: 'low' });
    samples.push({ features: base.map((v, j) => v + (j % 3 === 2 ? 2 : 0)), domain: 'high' });
  }
  const options = { dim: 2, margin: 1, iterations: 200, pairsPerIteration: 8, learningRate: 0.05, seed: 3 };
  const extractor = trainExtractor(samples, 3, options);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(extractor.losses.slice(-20)) < 0.5 * mean(extractor.losses.slice(0, 20)), 'loss falls');
  assert.deepEqual(trainExtractor(samples, 3, options).weight, extractor.weight);
  const low = domainRepresentation(extractor, samples.filter((s) => s.domain === 'low').map((s) => s.features));
  const lows = samples.filter((s) => s.domain === 'low').map((s) => embed(extractor.weight, s.features, 3, 2));
  for (let i = 0; i < low.length; i++) assert.ok(Math.abs(low[i]! - mean(lows.map((e) => e[i]!))) < 1e-12, 'mean of E = E of the mean window');
  const high = domainRepresentation(extractor, samples.filter((s) => s.domain === 'high').map((s) => s.features));
  const between = low.reduce((a, v, i) => a + (v - high[i]!) ** 2, 0) / low.length;
  assert.ok(between > 0.5, `domain means ${between} apart (margin 1)`);
});
