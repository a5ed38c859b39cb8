import { test } from 'node:test';
import { ModelevoError } from '../../core/errors.js';
import assert from 'node:assert/strict';
import { medianSegmentLength, rangeAuc, softLabels, vus } from './vus.js';

const close = (actual: number, expected: number, what: string, tolerance = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);

// hand example: one true segment [2, 3]; score order t2 (anomalous), t1, t3 (anomalous), t4, t0, t5
const LABELS = [0, 0, 1, 1, 0, 0];
const SCORES = [0.1, 0.4, 0.9, 0.3, 0.2, 0.0];

test('range AUC, buffer 0, on the hand example equals the hand computation', () => {
  // prefixes m = 1…6: TPR .5 .5 1 1 1 1, precision 1 1/2 2/3 1/2 2/5 1/3, FPR 0 1/4 1/4 1/2 3/4 1
  // PR area from (0, 1): .5·(1 + 1)/2 + .5·(1/2 + 2/3)/2 = 19/24; ROC = ordinary AUC = 7/8
  const { prAuc, rocAuc } = rangeAuc(SCORES, LABELS, 0);
  close(prAuc, 19 / 24, 'R-AUC-PR');
  close(rocAuc, 7 / 8, 'R-AUC-ROC');
});

test('range AUC, buffer 2, on the hand example: soft labels √½ beside the segment, P′ = (2 + 2 + √2)/2', () => {
  const r = Math.SQRT1_2;
  assert.deepEqual(Array.from(softLabels(LABELS, 2)), [0, r, 1, 1, r, 0]);
  const pPrime = (2 + 2 + 2 * r) / 2;
  // prefixes: TP 1, 1 + r, 2 + r, 2 + 2r; recall min(TP/P′, 1); one extended segment, detected from m = 1
  const tpr = [1 / pPrime, (1 + r) / pPrime, 1, 1];
  const precision = [1, (1 + r) / 2, (2 + r) / 3, (2 + 2 * r) / 4];
  let expectedPr = tpr[0]! * (1 + precision[0]!) / 2;
  for (let i = 1; i < 4; i++) expectedPr += ((tpr[i]! - tpr[i - 1]!) * (precision[i]! + precision[i - 1]!)) / 2;
  const fpr = [0, 1 - r, 1 - r, 2 - 2 * r, 3 - 2 * r, 4 - 2 * r].map((fp) => fp / (6 - pPrime));
  const tprAll = [...tpr, 1, 1];
  let expectedRoc = 0;
  for (let i = 1; i < 6; i++) expectedRoc += ((fpr[i]! - fpr[i - 1]!) * (tprAll[i]! + tprAll[i - 1]!)) / 2;
  expectedRoc += 1 - fpr[5]!;
  const { prAuc, rocAuc } = rangeAuc(SCORES, LABELS, 2);
  close(prAuc, expectedPr, 'R-AUC-PR');
  close(rocAuc, expectedRoc, 'R-AUC-ROC');
  close(prAuc, 0.9357928775928359, 'R-AUC-PR (independent brute force)', 1e-12);
  close(rocAuc, 0.9555264626954724, 'R-AUC-ROC (independent brute force)', 1e-12);
});

test('VUS: a perfect score gives VUS-PR = VUS-ROC = 1 without buffer; buffers only lower it; a reversed score scores lower', () => {
  const labels = Array.from({ length: 500 }, (_, i) => ((i >= 100 && i < 130) || (i >= 400 && i < 405) ? 1 : 0));
  const perfect = labels.map((y, i) => y + 0.001 * ((i * 37) % 11));
  close(vus(labels, labels, 0).vusPr, 1, 'binary perfect score (ties enter together)');
  const exact = vus(perfect, labels, 0);
  close(exact.vusPr, 1, 'VUS-PR, L = 0');
  close(exact.vusRoc, 1, 'VUS-ROC, L = 0');
  const buffered = vus(perfect, labels, 8);
  assert.equal(buffered.perBuffer.length, 9);
  close(buffered.perBuffer[0]!.prAuc, 1, 'ℓ = 0 inside the volume');
  assert.ok(buffered.vusPr < 1 && buffered.vusPr > 0.9, `VUS-PR with buffers: ${buffered.vusPr}`);
  const reversed = vus(perfect.map((s) => -s), labels, 8);
  assert.ok(reversed.vusPr < 0.1, `reversed score VUS-PR ${reversed.vusPr}`);
});

test('VUS on a formula-generated case matches an independent brute-force evaluation (250 thresholds per buffer)', () => {
  const labels = Array.from({ length: 300 }, (_, i) => ((i >= 40 && i < 60) || (i >= 150 && i < 153) || (i >= 220 && i < 250) ? 1 : 0));
  const scores = labels.map((y, i) => ((i * 7919) % 1000) / 1000 + 0.6 * y);
  const result = vus(scores, labels, 20);
  close(result.vusPr, 0.776869881856, 'VUS-PR', 1e-11);
  close(result.vusRoc, 0.892088198785, 'VUS-ROC', 1e-11);
  close(result.perBuffer[5]!.prAuc, 0.8001480575019587, 'R-AUC-PR at ℓ = 5', 1e-12);
  close(result.perBuffer[5]!.rocAuc, 0.9152395097454172, 'R-AUC-ROC at ℓ = 5', 1e-12);
});

test('VUS input checks and the median segment length', () => {
  const typed = (code: string, message: RegExp) => (e: unknown) => e instanceof ModelevoError && e.code === code && message.test(e.message) && e.hint !== undefined;
  assert.throws(() => vus([1, 2], [0], 1), typed('SHAPE_MISMATCH', /got 2 scores and 1 labels/));
  assert.throws(() => vus([1, NaN], [0, 1], 1), typed('VALUE_INVALID', /expected finite scores, got NaN at row 1/));
  assert.throws(() => vus([1, 2], [0, 1], -1), typed('CONFIG_INVALID', /non-negative integer, got -1/));
  assert.equal(medianSegmentLength([0, 1, 1, 0, 1, 0, 1, 1, 1, 1]), 2);
  assert.equal(medianSegmentLength([1, 1, 0, 1, 1, 1, 1]), 3);
  assert.equal(medianSegmentLength([0, 0]), 0);
});
