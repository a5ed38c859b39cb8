import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptFeatures, promptTargets } from './features.js';

/** 2 nodes × 30 steps: node 0 reads 10 + t, node 1 reads 50 except a missing value at step 14. */
function network() {
  const steps = 30;
  const values = new Float64Array(steps * 2);
  for (let t = 0; t < steps; t++) {
    values[t * 2] = 10 + t;
    values[t * 2 + 1] = t === 14 ? 0 : 50 + (t % 2);
  }
  return { sensorIds: ['a', 'b'], values };
}

const scaler = { mean: 20, std: 4 };

test('prompt target = mean and population variance of the next 12 z-scored readings, missing excluded', () => {
  const { target, mask } = promptTargets({ network: network(), scaler }, [0, 3]);
  // node 0, sample 0: raw 22…33 → mean 27.5, population variance (12² − 1)/12 = 11.9167; z: (27.5−20)/4, var/16
  assert.ok(Math.abs(target[0]! - 7.5 / 4) < 1e-6);
  assert.ok(Math.abs(target[1]! - 143 / 12 / 16) < 1e-6);
  // node 1, sample 0 (row 1·2 + 0): steps 12…23 without the missing step 14
  const kept = [12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23].map((t) => 50 + (t % 2));
  const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
  const variance = kept.reduce((a, b) => a + (b - mean) ** 2, 0) / kept.length;
  assert.ok(Math.abs(target[2 * 2]! - (mean - 20) / 4) < 1e-6);
  assert.ok(Math.abs(target[2 * 2 + 1]! - variance / 16) < 1e-6);
  assert.deepEqual([...mask], [1, 1, 1, 1]);
});

test('temporal features: 11 scaled differences (0 across a missing reading), hour and weekday; spatial = coordinates', () => {
  const context = { network: network(), scaler, stepsPerDay: 24, coordinates: Float64Array.from([0.5, -1, 2, 3]), firstWeekday: 5 };
  const { temporal, spatial } = promptFeatures(context, [6]);
  // row 0 = node 0: differences of 10 + t are 1 → 1/4
  assert.deepEqual([...temporal.slice(0, 11)], new Array(11).fill(0.25));
  assert.equal(temporal[11], 6 / 24);
  assert.ok(Math.abs(temporal[12]! - 5 / 7) < 1e-7);
  // row 1 = node 1: steps 6…17 alternate 50/51, step 14 missing → differences touching it are 0
  const expected = Array.from({ length: 11 }, (_, i) => {
    const t = 6 + i;
    return t === 13 || t === 14 ? 0 : (t % 2 === 0 ? 1 : -1) / 4;
  });
  assert.deepEqual([...temporal.slice(13, 24)], expected);
  assert.deepEqual([...spatial], [0.5, -1, 2, 3]);
  // a window starting on day 2 has weekday (5 + 1) mod 7
  assert.ok(Math.abs(promptFeatures(context, [24]).temporal[12]! - 6 / 7) < 1e-7);
});
