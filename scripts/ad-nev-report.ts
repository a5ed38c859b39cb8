/**
 * One dataset's section of docs/results/ad-nev.md (scripts/results-ad-nev.ts): the pooled table per level
 * beside a random-score baseline and the paper's rows, the measured effect of each level, the other vote
 * rules, and the per-channel table. Only formatting and metric aggregation; the runs happen in the caller.
 */
import type { AdNevConfig } from '../src/neuro/ad-nev/config.js';
import { VOTES, type ChannelOutputs, type ChannelReport } from '../src/neuro/ad-nev/run.js';
import type { LevelName } from '../src/neuro/ad-nev/pipeline.js';
import type { PoolStats } from '../src/neuro/ad-nev/pool.js';
import { bestF1Oracle, percentileThreshold, pointAdjustedPrf, prf, rangePrf, thresholdPredictions } from '../src/tasks/anomaly/metrics.js';
import { affiliationPr, poolAffiliation } from '../src/tasks/anomaly/affiliation.js';
import { medianSegmentLength, vus } from '../src/tasks/anomaly/vus.js';
import { createRng } from '../src/core/rng.js';
import { concat, fixed3 as f, LEVELS, pooled, type Dataset } from './ad-nev-setup.js';

/** AD-NEv Appendix Table VIII (pooled, no PA, tuned threshold) and the means of the per-entity Tables VI–VII after fine-tuning (ad-nev.md §1.3, §5) */
export const PAPER: Record<Dataset, { p: number; r: number; f1: number; perEntityMeanF1: number }> = {
  SMAP: { p: 0.8554, r: 0.6988, f1: 0.7692, perEntityMeanF1: 0.465 },
  MSL: { p: 0.6199, r: 0.5205, f1: 0.5659, perEntityMeanF1: 0.447 },
};

export const TITLES: Record<LevelName, string> = {
  untrained: 'untrained: baseline architecture, random initial weights',
  baseline: 'baseline: one hand-configured conv AE, all features',
  level1: 'level 1 (feature subspaces)',
  level2: 'level 1 + 2 (architectures)',
  level3: 'level 1 + 2 + 3 (weight fine-tuning)',
};

export interface SectionInput {
  readonly name: Dataset;
  readonly config: AdNevConfig;
  readonly channels: readonly string[];
  readonly reports: readonly ChannelReport[];
  readonly outputs: Map<string, ChannelOutputs>;
  readonly minutes: number;
  readonly stats: PoolStats;
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

function randomScores(channels: readonly string[], outputs: Map<string, ChannelOutputs>): { predictions: Float64Array; vusPr: number; affiliation: { precision: number; recall: number } } {
  // top 1% of uniform noise per channel: exposes PA inflation (Kim et al. 2022)
  const perChannel = channels.map((c) => {
    const labels = outputs.get(c)!.labels;
    const rng = createRng('random-baseline', c);
    const scores = Float64Array.from({ length: labels.length }, () => rng.next());
    const predictions = thresholdPredictions(scores, percentileThreshold(scores, 1));
    return { predictions, vusPr: vus(scores, labels, medianSegmentLength(labels)).vusPr, affiliation: affiliationPr(predictions, labels) };
  });
  return {
    predictions: concat(perChannel.map((c) => c.predictions)),
    vusPr: mean(perChannel.map((c) => c.vusPr)),
    affiliation: poolAffiliation(perChannel.map((c) => c.affiliation)),
  };
}

const verdict = (before: number, after: number, higherIsBetter: boolean): string => {
  const delta = higherIsBetter ? after - before : before - after;
  return Math.abs(after - before) < 5e-4 ? 'unchanged' : delta > 0 ? 'helped' : 'hurt';
};

const STEPS: readonly [LevelName, LevelName, string][] = [
  ['untrained', 'baseline', 'training (baseline vs untrained)'],
  ['baseline', 'level1', 'level 1'],
  ['level1', 'level2', 'level 2'],
  ['level2', 'level3', 'level 3'],
];

/** The section's lines, and one short verdict per level step for the summary at the top of the page. */
export function datasetSection(input: SectionInput): { lines: string[]; verdicts: string[] } {
  const { name, config, channels, reports, outputs } = input;
  const labels = concat(channels.map((c) => outputs.get(c)!.labels));
  const lines = [`## ${name}: ${channels.length} channels (${labels.length} test steps, ${labels.reduce((s, v) => s + v, 0)} anomalous)`, ''];
  lines.push(
    `Headline: plain point-wise P/R/F1 at the POT threshold, **${config.vote}** rule; PA = point-adjusted at the same threshold; "pct" = the ${100 - config.threshold.percentile}th percentile of training scores; "aff P/R" = affiliation precision/recall (Huet et al., KDD 2022) at the POT threshold, **${config.vote}** rule.`,
    '**Pooled vs per-channel means:** P, R, F1, PA-F1, range F1 and pct columns are pooled (predictions of all channels concatenated); aff P/R are pooled over affiliation zones (every labelled anomaly of every channel counts once; zones never span two channels); "mean F1" is the mean over channels of the per-channel POT F1 (comparable with the paper\'s per-entity means, Tables VI–VII); VUS-PR (buffers 0…median anomaly length) and fitness (label-free, lower is better) are means over channels; the oracle columns use one best threshold over the concatenated ensemble scores.',
    '',
  );
  lines.push('| model | fitness | POT P | POT R | **POT F1** | mean F1 | POT PA-F1 | range F1 | aff P | aff R | pct F1 | pct PA-F1 | VUS-PR | oracle F1 | oracle PA-F1 |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const random = randomScores(channels, outputs);
  const rp = prf(random.predictions, labels);
  lines.push(
    `| random scores (top 1%) | – | ${f(rp.precision)} | ${f(rp.recall)} | ${f(rp.f1)} | | ${f(pointAdjustedPrf(random.predictions, labels).f1)} | ${f(rangePrf(random.predictions, labels).f1)} | ${f(random.affiliation.precision)} | ${f(random.affiliation.recall)} | | | ${f(random.vusPr)} | | |`,
  );
  const summary = new Map<LevelName, { f1: number; vusPr: number; fitness: number; affP: number; affR: number }>();
  for (const level of LEVELS) {
    const pot = pooled(channels, outputs, level, config.vote, 'pot');
    const pct = pooled(channels, outputs, level, config.vote, 'percentile');
    const score = concat(channels.map((c) => outputs.get(c)!.levels.get(level)!.score));
    const perChannel = reports.map((r) => r.levels.find((l) => l.level === level)!);
    const vusPr = mean(perChannel.map((l) => l.metrics!.vus_pr!));
    const meanF1 = mean(perChannel.map((l) => l.metrics!.pot_f1!));
    const fitness = mean(perChannel.map((l) => l.validationFitness));
    summary.set(level, { f1: pot.plain.f1, vusPr, fitness, affP: pot.affiliation.precision, affR: pot.affiliation.recall });
    lines.push(
      `| ${TITLES[level]} | ${fitness.toPrecision(3)} | ${f(pot.plain.precision)} | ${f(pot.plain.recall)} | **${f(pot.plain.f1)}** | ${f(meanF1)} | ${f(pot.pa.f1)} | ${f(pot.range.f1)} | ${f(pot.affiliation.precision)} | ${f(pot.affiliation.recall)} | ${f(pct.plain.f1)} | ${f(pct.pa.f1)} | ${f(vusPr)} | ${f(bestF1Oracle(score, labels).f1)} | ${f(bestF1Oracle(score, labels, { pointAdjusted: true }).f1)} |`,
    );
  }
  const paper = PAPER[name];
  lines.push(`| AD-NEv paper, Table VIII (all channels pooled, tuned threshold, no PA) | – | ${paper.p} | ${paper.r} | **${paper.f1}** | | | | | | | | | | |`);
  lines.push(`| AD-NEv paper, Tables VI–VII (per-entity mean F1 after fine-tuning) | – | | | | ${paper.perEntityMeanF1} | | | | | | | | | |`, '');
  lines.push('Measured effect of each level (pooled POT F1 / mean VUS-PR, with pooled affiliation P/R and mean fitness beside; "unchanged" = |Δ| < 0.0005):', '');
  const verdicts: string[] = [];
  for (const [from, to, title] of STEPS) {
    const [a, b] = [summary.get(from)!, summary.get(to)!];
    const f1 = `POT F1 ${verdict(a.f1, b.f1, true)} (${f(a.f1)} → ${f(b.f1)})`;
    const vusPr = `VUS-PR ${verdict(a.vusPr, b.vusPr, true)} (${f(a.vusPr)} → ${f(b.vusPr)})`;
    lines.push(`- ${title}: ${f1}; ${vusPr}; affiliation P/R ${f(a.affP)}/${f(a.affR)} → ${f(b.affP)}/${f(b.affR)}; fitness ${a.fitness.toPrecision(3)} → ${b.fitness.toPrecision(3)}.`);
    verdicts.push(`${title}: ${f1}, ${vusPr}`);
  }
  lines.push('', 'Other vote rules on the same members (reported for transparency; the rule was chosen on the dev channels, not here) — pooled POT F1:', '');
  lines.push('| vote | untrained | baseline | level 1 | level 1 + 2 | level 1 + 2 + 3 |', '|---|---|---|---|---|---|');
  for (const vote of VOTES) lines.push(`| ${vote}${vote === config.vote ? ' (default)' : ''} | ${LEVELS.map((level) => f(pooled(channels, outputs, level, vote, 'pot').plain.f1)).join(' | ')} |`);
  lines.push('', `<details><summary>Per channel (${reports.length} channels): POT F1 / VUS-PR by level</summary>`, '');
  lines.push('| channel | untrained | baseline | level 1 | level 1 + 2 | level 1 + 2 + 3 | members after level 1 (feature counts; * = sees column 0) | seconds |', '|---|---|---|---|---|---|---|---|');
  for (const report of reports) {
    const cells = LEVELS.map((level) => {
      const m = report.levels.find((l) => l.level === level)!.metrics!;
      return `${f(m.pot_f1!)} / ${f(m.vus_pr!)}`;
    });
    const level1 = report.levels.find((l) => l.level === 'level1')!.members.map((m) => `${m.features.length}${m.features.includes(0) ? '*' : ''}`).join(', ');
    lines.push(`| ${report.id} | ${cells.join(' | ')} | ${level1} | ${report.seconds.toFixed(0)} |`);
  }
  lines.push('', '</details>');
  const { stats } = input;
  const busy = stats.busySeconds.reduce((a, b) => a + b, 0);
  lines.push(
    '',
    `Run time: ${input.minutes.toFixed(1)} min in the invocation that wrote this file (a resumed run re-trains only the selected members and re-scores). Engine pool: ${stats.jobs.reduce((a, b) => a + b, 0)} jobs on ${stats.jobs.length} workers (${stats.jobs.join(' + ')}), workers busy ${((100 * busy) / (stats.wallSeconds * stats.jobs.length)).toFixed(0)}% of the wall time (the rest: data preparation, scoring bookkeeping and fitness on the main thread, and batch ends).`,
    '',
  );
  return { lines, verdicts };
}
