/**
 * scripts/ad-nev-report.ts's trivial floor (random alarms at a level's own alarm counts), on hand cases whose
 * scores do not depend on where the random alarms fall.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFloor } from '../scripts/ad-nev-report.js';

const ones = (n: number): Uint8Array => new Uint8Array(n).fill(1);
const alarmsAt = (n: number, at: readonly number[]): Uint8Array => {
  const out = new Uint8Array(n);
  for (const i of at) out[i] = 1;
  return out;
};

test('randomFloor: 3 alarms on an all-anomalous channel and none on a quiet one score F1 2·0.3/1.3, PA-F1 1, event F1 1 in every draw', () => {
  const channels = [
    { channel: 'A', labels: ones(10), predictions: alarmsAt(10, [0, 1, 2]) },
    { channel: 'B', labels: new Uint8Array(10), predictions: new Uint8Array(10) },
  ];
  const floor = randomFloor(channels, 0, 'level1');
  // point-wise: 3 true positives, no false positive, 10 anomalous steps → P 1, R 0.3
  assert.ok(Math.abs(floor.f1 - 0.6 / 1.3) < 1e-12, `F1 ${floor.f1}`);
  // PA: one alarm inside the segment credits all 10 steps; events: every predicted run overlaps the one true event
  assert.equal(floor.paF1, 1);
  assert.equal(floor.eventF1, 1);
  assert.deepEqual(randomFloor(channels, 0, 'level1'), floor);
});

test('randomFloor: as many alarms as steps is flagging every step: F1 = PA-F1 = 2·0.2/1.2 with 2 anomalous steps of 10, event F1 1', () => {
  const labels = alarmsAt(10, [3, 4]);
  const floor = randomFloor([{ channel: 'C', labels, predictions: ones(10) }], 2, 'baseline', 4);
  assert.ok(Math.abs(floor.f1 - 0.4 / 1.2) < 1e-12);
  assert.ok(Math.abs(floor.paF1 - 0.4 / 1.2) < 1e-12);
  assert.equal(floor.eventF1, 1);
});
