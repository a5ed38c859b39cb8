import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affiliationPr, eventsOf, poolAffiliation, rampIntegral } from './affiliation.js';
import { createRng } from '../../core/rng.js';

const close = (actual: number, expected: number, what: string, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);

/** a 0/1 vector of length n with the given steps flagged */
const flags = (n: number, ...steps: number[]): Uint8Array => {
  const out = new Uint8Array(n);
  for (const s of steps) out[s] = 1;
  return out;
};
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('interval convention: step i is [i, i + 1); ramp integrals are exact', () => {
  assert.deepEqual(eventsOf([0, 1, 1, 0, 1]), [[1, 3], [4, 5]]);
  close(rampIntegral(0, 1, 1, 2), 1.5, '∫₁² x');
  close(rampIntegral(1, -1, 0, 3), 0.5, '∫₀³ max(0, 1 − x)');
  close(rampIntegral(-5, 2, 1, 2), 0, 'negative throughout');
  close(rampIntegral(2, 0, 0, 3), 6, 'constant');
});

test('a perfect prediction gives precision = recall = 1 (spec acceptance check)', () => {
  const labels = flags(50, ...range(5, 9), 20, ...range(40, 47));
  const result = affiliationPr(labels, labels);
  assert.equal(result.zones.length, 3);
  close(result.precision, 1, 'precision');
  close(result.recall, 1, 'recall');
});

test('a prediction inside the event gives precision 1 (recall below 1 when it covers only part of it)', () => {
  const labels = flags(30, ...range(10, 19));
  const result = affiliationPr(flags(30, 14), labels);
  close(result.precision, 1, 'precision');
  assert.ok(result.recall > 0.5 && result.recall < 1, `recall ${result.recall}`);
});

test('a far-away prediction scores low: event at step 10, prediction at step 990 of 1000', () => {
  // one zone [0, 1000), event [10, 11). Recall: for x ∈ [10, 11] the nearest prediction starts at q = 990, and
  // |{z ∈ [0, 1000]: |z − x| ≥ 990 − x}| = max(0, 2x − 990) + (1000 − 990) = 10, so recall = 10/1000.
  // Precision: for y ∈ [990, 991], d = y − 11 and the zone points at least d from the event are
  // [0, 10 − d] (empty) ∪ [11 + d, 1000], of length 1000 − y: mean over y of (1000 − y)/1000 = 9.5/1000.
  const result = affiliationPr(flags(1000, 990), flags(1000, 10));
  close(result.recall, 0.01, 'recall');
  close(result.precision, 0.0095, 'precision');
});

test('hand-computed two-event example (zones meet half-way between the events)', () => {
  // T = 20, events E₁ = [4, 6) (steps 4, 5) and E₂ = [14, 15) (step 14): the zones meet at (6 + 14)/2 = 10,
  // I₁ = [0, 10), I₂ = [10, 20), both 10 long. Predictions: steps 1, 14, 18 → [1, 2), [14, 15), [18, 19).
  // Zone 1 (left part 4, right part 4): precision of y ∈ [1, 2], d = 4 − y: survival (2·(4 − d))/10 = 2y/10,
  //   ∫₁² 2y/10 dy = 3/10 → P₁ = 0.3. Recall of x ∈ [4, 6], nearest prediction ends at p = 2, d = x − 2:
  //   |[0, 2]| + |[2x − 2, 10]| = 2 + 12 − 2x, ∫₄⁶ (14 − 2x) dx = 8 → R₁ = 8/10/2 = 0.4.
  // Zone 2 (left part 4, right part 5): [14, 15) is inside E₂ (survival 1); y ∈ [18, 19], d = y − 15 ∈ [3, 4]:
  //   survival ((4 − d) + (5 − d))/10, ∫₃⁴ (9 − 2d) dd/10 = 2/10 → P₂ = (1 + 0.2)/2 = 0.6. E₂ fully covered: R₂ = 1.
  // Precision (0.3 + 0.6)/2 = 0.45, recall (0.4 + 1)/2 = 0.7.
  const labels = flags(20, 4, 5, 14);
  const result = affiliationPr(flags(20, 1, 14, 18), labels);
  assert.deepEqual(result.zones.map((z) => z.zone), [[0, 10], [10, 20]]);
  close(result.zones[0]!.precision!, 0.3, 'P₁');
  close(result.zones[0]!.recall, 0.4, 'R₁');
  close(result.zones[1]!.precision!, 0.6, 'P₂');
  close(result.zones[1]!.recall, 1, 'R₂');
  close(result.precision, 0.45, 'precision');
  close(result.recall, 0.7, 'recall');
});

test('hand-computed gap between two predictions: the nearest one switches half-way', () => {
  // T = 12, event [4, 8) (steps 4–7), predictions [2, 3) and [9, 10); one zone [0, 12).
  // Recall, x ∈ [4, 6] (nearest end p = 3, d = x − 3): |[0, 3]| + |[2x − 3, 12]| = 18 − 2x, ∫₄⁶ = 16;
  //         x ∈ [6, 8] (nearest start q = 9, d = 9 − x): |[0, 2x − 9]| + |[9, 12]| = 2x − 6, ∫₆⁸ = 16;
  //         R = 32/12/4 = 2/3 (check: x = 6 → d = 3 → [0, 3] ∪ [9, 12] → 1/2; x = 4 → d = 1 → 10/12).
  // Precision: each piece lies at distance d ∈ [1, 2] on its side, survival 2(4 − d)/12, ∫₁² = 5/12 each → P = 5/12.
  const result = affiliationPr(flags(12, 2, 9), flags(12, 4, 5, 6, 7));
  close(result.recall, 2 / 3, 'recall');
  close(result.precision, 5 / 12, 'precision');
});

test('hand-computed asymmetric zone: the survival function clamps on the short side', () => {
  // T = 10, event [1, 2), prediction [5, 6). Left part 1, right part 8.
  // Precision: d = y − 2 ∈ [3, 4]: max(0, 1 − d) = 0, so survival (8 − d)/10, ∫₃⁴ = 4.5/10 → 0.45.
  // Recall: x ∈ [1, 2], q = 5: max(0, 2x − 5) = 0 and 10 − 5 = 5 → 0.5 everywhere.
  const result = affiliationPr(flags(10, 5), flags(10, 1));
  close(result.precision, 0.45, 'precision');
  close(result.recall, 0.5, 'recall');
});

test('edge cases: a zone without predictions, no predictions, no events, length mismatch', () => {
  const labels = flags(20, 4, 5, 14);
  // only zone 2 holds a prediction: precision is its precision (1); zone 1 recall 0
  const one = affiliationPr(flags(20, 14), labels);
  assert.equal(one.zones[0]!.precision, undefined);
  close(one.precision, 1, 'precision over zones with predictions');
  close(one.recall, 0.5, 'recall (0 + 1)/2');
  const none = affiliationPr(new Uint8Array(20), labels);
  assert.deepEqual([none.precision, none.recall], [0, 0]);
  const noEvents = affiliationPr(flags(20, 3), new Uint8Array(20));
  assert.deepEqual([noEvents.precision, noEvents.recall, noEvents.zones.length], [0, 0, 0]);
  assert.throws(() => affiliationPr(new Uint8Array(3), new Uint8Array(4)), (e: Error & { code?: string }) => e.code === 'SHAPE_MISMATCH');
});

/** the definitions evaluated on a fine grid (midpoints of cells of width h), sharing no code with the module */
function bruteForce(predictions: Uint8Array, labels: Uint8Array, h: number): { precision: number; recall: number } {
  const events = eventsOf(labels);
  const points = Array.from({ length: Math.round(labels.length / h) }, (_, i) => (i + 0.5) * h);
  const distTo = (x: number, [s, e]: readonly [number, number]): number => (x < s ? s - x : x > e ? x - e : 0);
  const owner = points.map((x) => events.reduce((best, ev, j) => (distTo(x, ev) < distTo(x, events[best]!) ? j : best), 0));
  const predicted = (x: number): boolean => predictions[Math.floor(x)]! > 0;
  const [precisions, recalls]: [number[], number[]] = [[], []];
  events.forEach((event, j) => {
    const zone = points.filter((_, i) => owner[i] === j);
    const toEvent = zone.map((x) => distTo(x, event));
    const ys = zone.filter(predicted);
    if (ys.length > 0) {
      // outside the event, ties (same grid distance) count half: the continuous survival has no ties there
      const survival = (d: number): number => (d === 0 ? 1 : (toEvent.filter((t) => t > d).length + toEvent.filter((t) => t === d).length / 2) / zone.length);
      precisions.push(ys.reduce((s, y) => s + survival(distTo(y, event)), 0) / ys.length);
    }
    const xs = zone.filter((x) => x >= event[0] && x <= event[1]);
    recalls.push(
      xs.reduce((s, x) => {
        if (ys.length === 0) return s;
        const d = predicted(x) ? 0 : Math.min(...ys.map((y) => Math.abs(y - x)));
        return s + zone.filter((z) => Math.abs(z - x) >= d).length / zone.length;
      }, 0) / xs.length,
    );
  });
  const mean = (v: number[]): number => (v.length === 0 ? 0 : v.reduce((a, b) => a + b, 0) / v.length);
  return { precision: mean(precisions), recall: mean(recalls) };
}

test('closed form matches a brute-force grid evaluation of the definitions on random cases', () => {
  const rng = createRng('affiliation-brute-force');
  for (let c = 0; c < 6; c++) {
    const n = 24 + rng.int(16);
    const labels = Uint8Array.from({ length: n }, () => (rng.next() < 0.2 ? 1 : 0));
    labels[rng.int(n)] = 1;
    const predictions = Uint8Array.from({ length: n }, () => (rng.next() < 0.15 ? 1 : 0));
    const exact = affiliationPr(predictions, labels);
    const grid = bruteForce(predictions, labels, 1 / 32);
    // every integrand is linear between kinks on multiples of ¼ step and every distance is a multiple of h, so
    // the midpoint rule on the 1/32 grid (ties counted half) is exact: agreement up to rounding is expected
    close(exact.precision, grid.precision, `case ${c} precision`, 1e-9);
    close(exact.recall, grid.recall, `case ${c} recall`, 1e-9);
  }
});

test('random predictions score about ½: one random predicted step, and many random steps for precision', () => {
  // one event of 10 steps in 1000 (zone = the whole series, m = 10/1000). Over every possible single predicted
  // step the mean precision is exactly the continuous expectation m + (1 − m)²/2 = 0.50005.
  const labels = flags(1000, ...range(600, 609));
  let exhaustive = 0;
  for (let k = 0; k < 1000; k++) exhaustive += affiliationPr(flags(1000, k), labels).precision;
  close(exhaustive / 1000, 0.01 + 0.99 ** 2 / 2, 'exhaustive precision', 1e-9);
  // seeded draws: each value lies in [0, 1] with standard deviation ≤ ½ (≈ 0.29 if uniform), so the mean of
  // 2000 draws has standard deviation ≤ 0.011; 0.04 is > 3.5σ plus the 0.001 offset of a unit-wide prediction
  // against a point (recall of a random point is exactly ½)
  const rng = createRng('affiliation-random-point');
  let [precision, recall] = [0, 0];
  const draws = 2000;
  for (let i = 0; i < draws; i++) {
    const result = affiliationPr(flags(1000, rng.int(1000)), labels);
    precision += result.precision / draws;
    recall += result.recall / draws;
  }
  close(precision, 0.5, 'mean precision of one random step', 0.04);
  close(recall, 0.5, 'mean recall of one random step', 0.04);
  // many random steps (5%) around three events: precision averages over predicted time, so it stays ≈ ½
  // (recall does not: the nearest of many random points is closer than one random point)
  const three = flags(600, ...range(100, 104), 300, ...range(450, 459));
  const many = createRng('affiliation-random-many');
  const results = Array.from({ length: 200 }, () => affiliationPr(Uint8Array.from({ length: 600 }, () => (many.next() < 0.05 ? 1 : 0)), three));
  close(poolAffiliation(results).precision, 0.5, 'pooled precision of 5% random steps', 0.04);
  assert.ok(poolAffiliation(results).recall > 0.8, 'many random points sit close to every event'); // measured 0.905
});

test('pooling counts every zone of every series once', () => {
  const a = affiliationPr(flags(20, 1, 14, 18), flags(20, 4, 5, 14)); // zones: P 0.3, 0.6; R 0.4, 1
  const b = affiliationPr(flags(10, 5), flags(10, 1)); // one zone: P 0.45, R 0.5
  const pooled = poolAffiliation([a, b]);
  close(pooled.precision, (0.3 + 0.6 + 0.45) / 3, 'precision');
  close(pooled.recall, (0.4 + 1 + 0.5) / 3, 'recall');
});
