import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModelevoError } from '../../core/errors.js';
import { fitScaler } from './scaler.js';

/** Two-pass population mean/std of the listed values: the independent reference. */
function reference(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length) };
}

test('stepEnd: the training steps only, missing zeros skipped', () => {
  // steps 0..29: sensor 0 reads 10,20 alternating with a 0 at step 1; later steps read 1000 (validation/test)
  const steps = 60;
  const values = new Float64Array(steps * 2);
  for (let t = 0; t < steps; t++) {
    values[t * 2] = t < 30 ? (t === 1 ? 0 : t % 2 === 0 ? 10 : 20) : 1000;
    values[t * 2 + 1] = t < 30 ? 15 : 1000;
  }
  const scaler = fitScaler({ values, sensorIds: ['a', 'b'] }, { stepEnd: 30 });
  const expected = reference([...values.subarray(0, 60)].filter((v) => v !== 0));
  assert.ok(Math.abs(scaler.mean - expected.mean) < 1e-12);
  assert.ok(Math.abs(scaler.std - expected.std) < 1e-12);
});

test('windows: each step a window reads is counted once, overlapping windows or not, in any order', () => {
  // 1 sensor, 30 steps: value t+1 except step 5 missing; windows 0 and 1 read steps 0…24
  const values = Float64Array.from({ length: 30 }, (_, t) => (t === 5 ? 0 : t + 1));
  const expected = reference(Array.from({ length: 25 }, (_, t) => t + 1).filter((v) => v !== 6));
  for (const windows of [[0, 1], [1, 0], [0, 1, 1]]) {
    const scaler = fitScaler({ values, sensorIds: ['a'] }, { windows });
    assert.ok(Math.abs(scaler.mean - expected.mean) < 1e-12);
    assert.ok(Math.abs(scaler.std - expected.std) < 1e-9);
  }
});

test('windows past the end of the series read only the steps that exist', () => {
  const values = Float64Array.from({ length: 30 }, (_, t) => t + 1);
  const scaler = fitScaler({ values, sensorIds: ['a'] }, { windows: [20] });
  const expected = reference([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  assert.ok(Math.abs(scaler.mean - expected.mean) < 1e-12 && Math.abs(scaler.std - expected.std) < 1e-12);
});

test('degenerate data: constant readings → std 1 (centre only); no reading → VALUE_INVALID', () => {
  const constant = new Float64Array(48).fill(7);
  assert.deepEqual(fitScaler({ values: constant, sensorIds: ['a', 'b'] }, { stepEnd: 24 }), { mean: 7, std: 1 });
  const missing = new Float64Array(60);
  missing[59] = 3; // step 29 only: outside the fitted steps
  for (const steps of [{ stepEnd: 20 }, { windows: [0] }, { windows: [] }]) {
    assert.throws(
      () => fitScaler({ values: missing, sensorIds: ['a', 'b'] }, steps),
      (e: unknown) => e instanceof ModelevoError && e.code === 'VALUE_INVALID' && /expected at least one non-missing/.test(e.message) && e.hint !== undefined,
    );
  }
});

test('property: stepEnd n equals the windows covering steps 0…n−1 and matches the two-pass reference', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant(0), fc.double({ min: 1, max: 100, noNaN: true })), { minLength: 60, maxLength: 60 }), fc.integer({ min: 24, max: 30 }), (list, n) => {
      const values = Float64Array.from(list);
      const kept = [...values.subarray(0, n * 2)].filter((v) => v !== 0);
      fc.pre(kept.length > 0);
      const byEnd = fitScaler({ values, sensorIds: ['a', 'b'] }, { stepEnd: n });
      const byWindows = fitScaler({ values, sensorIds: ['a', 'b'] }, { windows: Array.from({ length: n - 23 }, (_, s) => s) });
      assert.deepEqual(byWindows, byEnd);
      const expected = reference(kept);
      assert.ok(Math.abs(byEnd.mean - expected.mean) < 1e-9);
      assert.ok(Math.abs(byEnd.std - (expected.std || 1)) < 1e-6);
    }),
  );
});

test('golden: the METR-LA subset scalers are bit-identical to the three scalers this one replaced', async () => {
  // recorded with windows.ts fitScaler, domains.ts fitScalerOnSamples and coms2t fitWindowScaler before the merge
  const { loadTrafficNetwork } = await import('./csv-loader.js');
  const { chronologicalSplit } = await import('./windows.js');
  const { periodGroups } = await import('./domains.js');
  const { windowsInPeriod } = await import('./time-of-day.js');
  const network = loadTrafficNetwork('test/fixtures/metr-la-subset');
  assert.deepEqual(fitScaler(network, { stepEnd: chronologicalSplit(network.steps).trainStepEnd }), { mean: 59.39134104179979, std: 12.29756255296367 });
  const trainingPeriods = periodGroups({ steps: network.steps, stepsPerDay: 288, periods: 4 }).slice(0, 3);
  assert.deepEqual(fitScaler(network, { windows: trainingPeriods.flatMap((g) => g.train) }), { mean: 59.039050841574145, std: 12.587904763023237 });
  const comS2TTrain = windowsInPeriod({ start: 0, end: network.steps }, 288, { start: 96, end: 192 });
  assert.deepEqual(fitScaler(network, { windows: comS2TTrain }), { mean: 57.77438628938124, std: 13.88975148754232 });
});
