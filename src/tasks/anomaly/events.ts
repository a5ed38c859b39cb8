/**
 * Event-level precision/recall as AD-NEv scores SMAP and MSL: `evaluate_sequences` in the authors' repository
 * (neuroevolution-agh/AD-NEv, datasets/smap_msl/evaluation.py, commit 68aacba; written here from its
 * definition, not copied). Runs of consecutive alarms are predicted events, runs of labelled steps are true
 * events; a predicted event that overlaps a true event is a hit for precision, one that overlaps none is a
 * false positive; a true event overlapped by at least one predicted event is found. Precision = hits /
 * predicted events (0 with none), recall = found / true events (1 with none, as the authors define it).
 *
 * `eventPrf` is that definition. `eventPrfAsCoded` follows the authors' code as written, which differs in
 * three places (kept so our rows can be compared with theirs):
 * - the false-positive count sits inside the loop over true events, so every (predicted, true) pair that does
 *   not overlap counts once: precision is the fraction of overlapping pairs (the same as `eventPrf` when a
 *   channel has one true event, lower with several);
 * - runs are [start, end) with `end` the first step after the run, and "overlap" tests start ∈ [ts, te),
 *   end ∈ [ts, te) or (start < ts and end > te): a predicted run ending just before a true one counts, one
 *   that shares a true run's last step while starting before it does not;
 * - a run still open at the last step is dropped (only a following 0 closes it).
 * Counts are returned so that channels pool by summing them.
 */
import { ModelevoError } from '../../core/errors.js';
import { segments } from './metrics.js';

export interface EventCounts {
  /** predicted events (or pairs, as coded) counted as hits, and as false positives */
  readonly hits: number;
  readonly falsePositives: number;
  /** true events found, and all true events */
  readonly found: number;
  readonly trueEvents: number;
}

export interface EventPrf extends EventCounts {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Precision/recall/F1 from (summed) counts with the authors' conventions for empty sets. */
export function eventScores(counts: EventCounts): EventPrf {
  const predicted = counts.hits + counts.falsePositives;
  const precision = predicted > 0 ? counts.hits / predicted : 0;
  const recall = counts.trueEvents > 0 ? counts.found / counts.trueEvents : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { ...counts, precision, recall, f1 };
}

export function sumEventCounts(parts: readonly EventCounts[]): EventCounts {
  return parts.reduce((a, b) => ({ hits: a.hits + b.hits, falsePositives: a.falsePositives + b.falsePositives, found: a.found + b.found, trueEvents: a.trueEvents + b.trueEvents }), {
    hits: 0,
    falsePositives: 0,
    found: 0,
    trueEvents: 0,
  });
}

/** Event-level P/R/F1 by the definition: one count per predicted event, overlap = at least one shared step. */
export function eventPrf(predictions: ArrayLike<number>, labels: ArrayLike<number>): EventPrf {
  if (predictions.length !== labels.length) throw new ModelevoError('SHAPE_MISMATCH', `eventPrf: expected one label per prediction, got ${predictions.length} predictions and ${labels.length} labels`, { hint: 'predict and label the same rows of the series', details: { predictions: predictions.length, labels: labels.length } });
  const truth = segments(labels);
  const predicted = segments(predictions);
  const found = new Uint8Array(truth.length);
  let hits = 0;
  // both lists are sorted and disjoint: one merge pass finds every overlapping pair
  let first = 0;
  for (const [start, end] of predicted) {
    while (first < truth.length && truth[first]![1] < start) first++;
    let hit = false;
    for (let j = first; j < truth.length && truth[j]![0] <= end; j++) {
      hit = true;
      found[j] = 1;
    }
    if (hit) hits++;
  }
  return eventScores({ hits, falsePositives: predicted.length - hits, found: found.reduce((s, v) => s + v, 0), trueEvents: truth.length });
}

/** runs as the authors' `sequences` builds them: [start, end) closed by a following 0; an open final run is dropped */
function closedRuns(flags: ArrayLike<number>): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let i = 0; i < flags.length; i++) {
    const on = flags[i] === 1;
    if (start < 0 && on) start = i;
    if (start >= 0 && flags[i] === 0) {
      runs.push([start, i]);
      start = -1;
    }
  }
  return runs;
}

/** Event-level P/R/F1 as the authors' code computes it (pair counting and boundary tests; see the header). */
export function eventPrfAsCoded(predictions: ArrayLike<number>, labels: ArrayLike<number>): EventPrf {
  if (predictions.length !== labels.length) throw new ModelevoError('SHAPE_MISMATCH', `eventPrfAsCoded: expected one label per prediction, got ${predictions.length} predictions and ${labels.length} labels`, { hint: 'predict and label the same rows of the series', details: { predictions: predictions.length, labels: labels.length } });
  const truth = closedRuns(labels);
  const found = new Uint8Array(truth.length);
  let hits = 0;
  let falsePositives = 0;
  for (const [start, end] of closedRuns(predictions)) {
    truth.forEach(([trueStart, trueEnd], j) => {
      const overlaps = (trueStart <= start && start < trueEnd) || (trueStart <= end && end < trueEnd) || (start < trueStart && end > trueEnd);
      if (overlaps) {
        hits++;
        found[j] = 1;
      } else falsePositives++;
    });
  }
  return eventScores({ hits, falsePositives, found: found.reduce((s, v) => s + v, 0), trueEvents: truth.length });
}
