import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.js';
import {
  countEqualMagnitude,
  keepByCut,
  kthLargestMagnitude,
  magnitudeCut,
  magnitudeCutStreamed,
  maskFromCut,
  topKMagnitudeMask,
} from './select.js';

function gaussian(n: number, seed: string, scale = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

test('k = 1, N, N/2 on a Gaussian tensor equal the sorted magnitudes (gathered refinement path)', () => {
  const values = gaussian(100_003, 'select-gauss');
  const sorted = Float64Array.from(values, Math.abs).sort().reverse();
  for (const k of [1, values.length, Math.floor(values.length / 2), 20_000, 1_000]) {
    assert.ok(Object.is(kthLargestMagnitude(values, k), sorted[k - 1]), `k=${k}`);
  }
  assert.equal(kthLargestMagnitude(values, 1), Math.max(...Array.from(values, Math.abs)));
});

test('rescan path: a tensor that is mostly one value still selects exactly', () => {
  const values = new Float32Array(50_000).fill(0.75);
  for (let j = 0; j < values.length; j += 97) values[j] = -0.7500001; // same top bucket, different low bits
  values[123] = 3;
  const cut = magnitudeCut(values, 10);
  assert.equal(cut.threshold, Math.fround(0.7500001));
  assert.equal(cut.countAbove, 1);
  assert.equal(cut.countEqual, Math.ceil(50_000 / 97));
  assert.equal(cut.tiesToKeep, 9);
  const mask = topKMagnitudeMask(values, 10);
  const keptIndices = [...mask.keys()].filter((j) => mask[j] === 1);
  assert.deepEqual(keptIndices, [0, 97, 123, 194, 291, 388, 485, 582, 679, 776]);
});

test('k = 0 keeps nothing; ±0 are equal magnitudes with +0 as the threshold', () => {
  const values = Float32Array.from([-0, 0, -0, 1]);
  assert.deepEqual(magnitudeCut(values, 0), { threshold: Infinity, countAbove: 0, countEqual: 0, tiesToKeep: 0 });
  assert.deepEqual([...topKMagnitudeMask(values, 0)], [0, 0, 0, 0]);
  const cut = magnitudeCut(values, 3);
  assert.ok(Object.is(cut.threshold, 0));
  assert.equal(cut.countEqual, 3);
  assert.deepEqual([...topKMagnitudeMask(values, 3)], [1, 1, 0, 1]);
});

test('maskFromCut prefers the highest indices at the cut when asked', () => {
  const values = Float32Array.from([2, -1, 1, 1, -1, 0.5]);
  const cut = magnitudeCut(values, 3); // 2 and two of the four ±1
  assert.equal(cut.threshold, 1);
  assert.equal(countEqualMagnitude(values, 1), 4);
  assert.deepEqual([...maskFromCut(values, cut.threshold, cut.tiesToKeep, true)], [1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...maskFromCut(values, cut.threshold, cut.tiesToKeep, false)], [1, 0, 0, 1, 1, 0]);
});

test('streamed select over 3 arrays matches the single-array select, including huge and subnormal values', () => {
  const parts = [gaussian(10_000, 'a', 1e-3), gaussian(7_001, 'b', 1e30), Float32Array.from({ length: 5_000 }, (_, j) => j * 1e-45)];
  const whole = new Float32Array(22_001);
  whole.set(parts[0]!, 0);
  whole.set(parts[1]!, 10_000);
  whole.set(parts[2]!, 17_001);
  for (const k of [1, 4_400, 11_000, 17_001, 20_000, 22_001]) {
    const streamed = magnitudeCutStreamed((visit) => parts.forEach(visit), k);
    assert.deepEqual(streamed, magnitudeCut(whole, k), `k=${k}`);
  }
});

test('timing sanity: select on 16M elements finishes well under a second', () => {
  const values = gaussian(1 << 24, 'timing');
  const start = performance.now();
  const cut = magnitudeCut(values, Math.floor(0.2 * values.length));
  const elapsed = performance.now() - start;
  assert.equal(cut.countAbove + cut.tiesToKeep, Math.floor(0.2 * values.length));
  assert.ok(elapsed < 1000, `select took ${elapsed.toFixed(0)} ms`);
});

test('keepByCut equals the mask applied to a copy, also in place and preferring high indices', () => {
  const values = Float32Array.from([2, -1, 1, 1, -1, 0.5, -3]);
  const cut = magnitudeCut(values, 4);
  for (const preferLow of [true, false]) {
    const mask = maskFromCut(values, cut.threshold, cut.tiesToKeep, preferLow);
    const expected = values.map((v, j) => (mask[j] === 1 ? v * 2 : 0));
    assert.deepEqual(keepByCut(values, cut.threshold, cut.tiesToKeep, preferLow, 2), expected);
    const inPlace = values.slice();
    assert.equal(keepByCut(inPlace, cut.threshold, cut.tiesToKeep, preferLow, 2, inPlace), inPlace);
    assert.deepEqual(inPlace, expected);
  }
  assert.deepEqual([...keepByCut(values, Infinity, 0)], [0, 0, 0, 0, 0, 0, 0]);
});
