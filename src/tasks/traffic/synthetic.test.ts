import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatenateSources, defaultSourceTransforms, generateSyntheticCity, randomGeometricGraph } from './synthetic.js';

const small = { nodes: 12, days: 2, stepsPerDay: 48, radius: 0.4, seed: 7 };

test('shapes, finite and positive readings, symmetric adjacency with unit diagonal', () => {
  const city = generateSyntheticCity({ ...small, sources: defaultSourceTransforms(3) });
  assert.equal(city.sources.length, 3);
  for (const s of city.sources) {
    assert.equal(s.steps, 96);
    assert.equal(s.values.length, 96 * 12);
    assert.equal(s.sensorIds.length, 12);
    assert.ok(s.values.every((v) => Number.isFinite(v) && v > 0));
  }
  for (let i = 0; i < 12; i++) {
    assert.equal(city.adjacency[i * 12 + i], 1);
    for (let j = 0; j < 12; j++) {
      const w = city.adjacency[i * 12 + j]!;
      assert.equal(w, city.adjacency[j * 12 + i]);
      assert.ok(w >= 0 && w <= 1);
    }
  }
  // a geometric graph: a pair farther apart than r has no edge
  const { adjacency, positions } = randomGeometricGraph(12, 0.4, 7);
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) {
    const d = Math.hypot(positions[2 * i]! - positions[2 * j]!, positions[2 * i + 1]! - positions[2 * j + 1]!);
    if (d > 0.4) assert.equal(adjacency[i * 12 + j], 0);
  }
});

test('deterministic for a seed, different for another seed', () => {
  const a = generateSyntheticCity({ ...small, sources: defaultSourceTransforms(2) });
  const b = generateSyntheticCity({ ...small, sources: defaultSourceTransforms(2) });
  const c = generateSyntheticCity({ ...small, seed: 8, sources: defaultSourceTransforms(2) });
  assert.deepEqual(a.sources[1]!.values, b.sources[1]!.values);
  assert.notDeepEqual(a.sources[1]!.values, c.sources[1]!.values);
});

test('sources differ exactly as their transforms say: gain/offset is affine, shift is a time shift', () => {
  const base = { gain: 40, offset: 0, shift: 0, noise: 0, diffusion: 0.3 };
  const city = generateSyntheticCity({ ...small, sources: [base, { ...base, gain: 60, offset: 10 }, { ...base, shift: 5 }, { ...base, diffusion: 0.8 }] });
  const [s0, scaled, shifted, diffused] = city.sources.map((s) => s.values);
  const n = 12;
  for (let i = 0; i < s0!.length; i++) assert.ok(Math.abs((scaled![i]! - 10) / 60 - s0![i]! / 40) < 1e-9);
  for (let t = 0; t + 5 < 96; t++) for (let k = 0; k < n; k++) assert.ok(Math.abs(shifted![t * n + k]! - s0![(t + 5) * n + k]!) < 1e-9);
  assert.ok(diffused!.some((v, i) => Math.abs(v - s0![i]!) > 1e-3), 'another diffusion rate changes the series');
  // noise makes sources differ from their noiseless version only by the noise
  const noisy = generateSyntheticCity({ ...small, sources: [base, { ...base, noise: 2 }] });
  const diff = noisy.sources[1]!.values.map((v, i) => v - noisy.sources[0]!.values[i]!);
  const std = Math.sqrt(diff.reduce((a, v) => a + v * v, 0) / diff.length);
  assert.ok(std > 1.8 && std < 2.2, `noise std ${std}`);
  // rush hours: the mean reading at τ = 0.33 is below the mean at τ = 0.0 (after a warm-up day)
  const meanAt = (step: number): number => s0!.slice(step * n, (step + 1) * n).reduce((a, v) => a + v, 0) / n;
  assert.ok(meanAt(48 + 16) < meanAt(48 + 2));
});

test('concatenated sources keep each block and the adjacency', () => {
  const city = generateSyntheticCity({ ...small, sources: defaultSourceTransforms(2) });
  const { network, blocks } = concatenateSources(city.sources);
  assert.deepEqual(blocks, [{ start: 0, end: 96 }, { start: 96, end: 192 }]);
  assert.equal(network.steps, 192);
  assert.deepEqual(network.values.subarray(96 * 12), city.sources[1]!.values);
});
