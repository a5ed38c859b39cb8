/**
 * Affiliation precision/recall (Huet, Navarro, Rossi, "Local Evaluation of Time Series Anomaly Detection
 * Algorithms", KDD 2022, arXiv 2206.13167; ad-nev.md §4), computed in closed form.
 *
 * Interval convention: step i of a 0/1 vector is the half-open time interval [i, i + 1), so a run of flagged
 * steps s…e is the event [s, e + 1) and the series covers [0, T). (Whether a label file's `[start, end]` is
 * inclusive is decided earlier, when the 0/1 labels are built; this module only sees the vector.)
 *
 * Definitions, for ground-truth events E₁ < … < Eₙ:
 * - zone of affiliation Iⱼ: the points of [0, T) closer to Eⱼ than to any other event (distance to an interval);
 *   neighbouring zones meet half-way between two events, the first starts at 0 and the last ends at T;
 * - precision of zone j: the mean, over the predicted time Yⱼ = Y ∩ Iⱼ, of F̄ᴾⱼ(dist(y, Eⱼ)) with the survival
 *   function F̄ᴾⱼ(d) = P(dist(X, Eⱼ) ≥ d) for X uniform on Iⱼ — "how unusually close to the event is this
 *   prediction, compared with a random point of the zone";
 * - recall of zone j: the mean, over x ∈ Eⱼ, of F̄ᴿₓ(dist(x, Yⱼ)) with F̄ᴿₓ(d) = P(|X − x| ≥ d) for X uniform
 *   on Iⱼ — "how unusually close is the nearest prediction, compared with one random predicted point";
 * - precision = mean of the zone precisions over the zones holding predictions; recall = mean over all zones.
 * A single uniformly random predicted point scores recall ½ in expectation and precision m + (1 − m)²/2
 * (m = |Eⱼ|/|Iⱼ|, ≈ ½ for short events); a perfect prediction scores 1 and 1.
 *
 * Edge cases (defined here, not in the paper): a zone without predictions has no precision (left out of the
 * precision mean) and recall 0 (the distance to an empty set is infinite); a series with predictions in no
 * zone has precision 0; a series without any event has no zone, and both values are 0 (the 0/0 = 0 rule of
 * the point-wise metrics) — its false alarms go unpunished, as no zone exists to charge them to.
 */
import { ModelevoError } from '../../core/errors.js';

/** a half-open time interval [start, end) */
export type Interval = readonly [start: number, end: number];

export interface AffiliationZone {
  /** the zone of affiliation [start, end) */
  readonly zone: Interval;
  readonly event: Interval;
  /** undefined when no prediction falls in the zone */
  readonly precision: number | undefined;
  readonly recall: number;
}

export interface Affiliation {
  readonly precision: number;
  readonly recall: number;
  readonly zones: readonly AffiliationZone[];
}

/** Runs of nonzero steps as half-open intervals [s, e + 1) (step i ↔ [i, i + 1)). */
export function eventsOf(flags: ArrayLike<number>): Interval[] {
  const out: Interval[] = [];
  let start = -1;
  for (let i = 0; i <= flags.length; i++) {
    const on = i < flags.length && flags[i]! > 0;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

/** ∫ᵤᵛ max(0, c + s·x) dx, exactly. */
export function rampIntegral(c: number, s: number, u: number, v: number): number {
  let [a, b] = [u, v];
  if (s > 0) a = Math.max(a, -c / s);
  else if (s < 0) b = Math.min(b, -c / s);
  else if (c <= 0) return 0;
  // the integrand is linear and nonnegative on [a, b]: length × value at the midpoint
  return b > a ? (b - a) * (c + (s * (a + b)) / 2) : 0;
}

/** Precision of one zone: mean of F̄ᴾ(dist(y, event)) over the predicted pieces (all inside the zone). */
function zonePrecision(zone: Interval, event: Interval, pieces: readonly Interval[]): number | undefined {
  const [a, b] = zone;
  const [g0, g1] = event;
  const width = b - a;
  const [left, right] = [g0 - a, b - g1];
  let predicted = 0;
  let sum = 0;
  for (const [u, v] of pieces) {
    predicted += v - u;
    // inside the event: distance 0, survival 1
    sum += Math.max(0, Math.min(v, g1) - Math.max(u, g0));
    // before the event, d = g0 − y: width·F̄ = max(0, left − d) + max(0, right − d) = (y − a) + max(0, right − g0 + y)
    const [lu, lv] = [u, Math.min(v, g0)];
    if (lv > lu) sum += (rampIntegral(-a, 1, lu, lv) + rampIntegral(right - g0, 1, lu, lv)) / width;
    // after the event, d = y − g1: width·F̄ = max(0, left + g1 − y) + (b − y)
    const [ru, rv] = [Math.max(u, g1), v];
    if (rv > ru) sum += (rampIntegral(left + g1, -1, ru, rv) + rampIntegral(b, -1, ru, rv)) / width;
  }
  return predicted > 0 ? sum / predicted : undefined;
}

/** Recall of one zone: mean over x ∈ event of F̄ᴿₓ(dist(x, predictions)); pieces sorted, inside the zone. */
function zoneRecall(zone: Interval, event: Interval, pieces: readonly Interval[]): number {
  if (pieces.length === 0) return 0;
  const [a, b] = zone;
  const [g0, g1] = event;
  const width = b - a;
  // width·F̄ᴿₓ(d) = max(0, (x − a) − d) + max(0, (b − x) − d)
  // nearest prediction ends at p ≤ x (d = x − p):    (p − a) + max(0, b + p − 2x)
  const fromLeft = (p: number, u: number, v: number): number => rampIntegral(p - a, 0, u, v) + rampIntegral(b + p, -2, u, v);
  // nearest prediction starts at q ≥ x (d = q − x): max(0, 2x − a − q) + (b − q)
  const fromRight = (q: number, u: number, v: number): number => rampIntegral(-a - q, 2, u, v) + rampIntegral(b - q, 0, u, v);
  const clip = (u: number, v: number): Interval => [Math.max(u, g0), Math.min(v, g1)];
  let sum = 0;
  {
    const [u, v] = clip(a, pieces[0]![0]);
    if (v > u) sum += fromRight(pieces[0]![0], u, v) / width;
  }
  for (let k = 0; k < pieces.length; k++) {
    const [start, end] = pieces[k]!;
    const [cu, cv] = clip(start, end);
    if (cv > cu) sum += cv - cu; // covered: distance 0, survival 1
    const next = pieces[k + 1]?.[0];
    if (next === undefined) {
      const [u, v] = clip(end, b);
      if (v > u) sum += fromLeft(end, u, v) / width;
    } else {
      const middle = (end + next) / 2;
      const [lu, lv] = clip(end, middle);
      if (lv > lu) sum += fromLeft(end, lu, lv) / width;
      const [ru, rv] = clip(middle, next);
      if (rv > ru) sum += fromRight(next, ru, rv) / width;
    }
  }
  return sum / (g1 - g0);
}

/** Affiliation precision and recall of 0/1 predictions against 0/1 labels (see the header for the definitions). */
export function affiliationPr(predictions: ArrayLike<number>, labels: ArrayLike<number>): Affiliation {
  if (predictions.length !== labels.length) {
    throw new ModelevoError('SHAPE_MISMATCH', `affiliationPr: ${predictions.length} predictions vs ${labels.length} labels`, {
      hint: 'pass one prediction per labelled time step',
    });
  }
  const events = eventsOf(labels);
  const predicted = eventsOf(predictions);
  const zones: AffiliationZone[] = events.map((event, j) => {
    const zone: Interval = [j === 0 ? 0 : (events[j - 1]![1] + event[0]) / 2, j === events.length - 1 ? labels.length : (event[1] + events[j + 1]![0]) / 2];
    const pieces = predicted
      .map(([u, v]): Interval => [Math.max(u, zone[0]), Math.min(v, zone[1])])
      .filter(([u, v]) => v > u);
    return { zone, event, precision: zonePrecision(zone, event, pieces), recall: zoneRecall(zone, event, pieces) };
  });
  return { ...meanOverZones(zones), zones };
}

/**
 * Affiliation over several series: every zone of every series counts once (precision over the zones holding
 * predictions, recall over all zones). Zones never cross from one series into the next, as they would if the
 * series were concatenated.
 */
export function poolAffiliation(results: readonly Affiliation[]): { precision: number; recall: number } {
  return meanOverZones(results.flatMap((r) => r.zones));
}

function meanOverZones(zones: readonly AffiliationZone[]): { precision: number; recall: number } {
  const withPredictions = zones.filter((z) => z.precision !== undefined);
  return {
    precision: withPredictions.length === 0 ? 0 : withPredictions.reduce((s, z) => s + z.precision!, 0) / withPredictions.length,
    recall: zones.length === 0 ? 0 : zones.reduce((s, z) => s + z.recall, 0) / zones.length,
  };
}
