/**
 * scripts/ad-nev-report.ts: the trivial floor (random alarms at a level's own alarm counts), on hand cases whose
 * scores do not depend on where the random alarms fall, and the per-level verdict on hand-computed t intervals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFloor, verdict } from '../scripts/ad-nev-report.js';

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

test('verdict: the mean paired change against its 95% t interval (t 12.706 at 2 seeds, 4.303 at 3) and the 0.005 floor', () => {
  // 2 seeds, changes 0.016 and 0.020: mean 0.018, sd 0.002√2, s.e. 0.002 → half-width 0.025412 > 0.018 (2 s.e. would say "helps")
  assert.equal(verdict([0.5, 0.5], [0.516, 0.52]), 'no clear effect (Δ +0.018 ± 0.025, 95% CI over 2 seeds)');
  // 3 seeds, changes 0.02, 0.03, 0.025: mean 0.025, sd 0.005, s.e. 0.0028868 → half-width 0.012422
  assert.equal(verdict([0.1, 0.2, 0.3], [0.12, 0.23, 0.325]), 'helps (Δ +0.025 ± 0.012, 95% CI over 3 seeds)');
  assert.equal(verdict([0.12, 0.23, 0.325], [0.1, 0.2, 0.3]), 'hurts (Δ -0.025 ± 0.012, 95% CI over 3 seeds)');
  // a consistent change below the 0.005 floor stays "no clear effect"
  assert.match(verdict([0.5, 0.5, 0.5], [0.504, 0.504, 0.5041]), /^no clear effect/);
  assert.equal(verdict([0.5], [0.6]), 'Δ +0.100 (one seed: undecided)');
});
