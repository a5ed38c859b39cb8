/**
 * One dataset's section of docs/results/ad-nev.md (scripts/results-ad-nev.ts), over several seeds: per level
 * (untrained, baseline, levels 1, 1+2, 1+2+3) the pooled metrics as mean ± sd over seeds, each F1 beside its
 * trivial floor (random alarms at that level's own per-channel alarm counts), the flag-every-step row, the
 * paper's row with exactly what its table gives, and a verdict per level decided by the seed spread.
 * Only formatting and metric aggregation; the runs happen in the caller.
 */
import type { AdNevConfig } from '../src/neuro/ad-nev/config.js';
import type { ChannelOutputs, ChannelReport } from '../src/neuro/ad-nev/run.js';
import type { LevelName } from '../src/neuro/ad-nev/pipeline.js';
import { bestF1Oracle, pointAdjustedPrf, prf } from '../src/tasks/anomaly/metrics.js';
import { eventPrf, eventPrfAsCoded, eventScores, sumEventCounts } from '../src/tasks/anomaly/events.js';
import { alarmRate, flagEveryStep, randomAlarmsLike } from '../src/tasks/anomaly/floors.js';
import { affiliationPr, poolAffiliation } from '../src/tasks/anomaly/affiliation.js';
import { meanStd } from '../src/continual/metrics.js';
import { createRng } from '../src/core/rng.js';
import { concat, fixed3 as f, LEVELS, pooled, type Dataset } from './ad-nev-setup.js';

/**
 * AD-NEv Appendix Table VIII and the means of its per-entity Tables VI–VII (ad-nev.md §1.3). The table gives
 * P/R/F1 per dataset; it does not state the threshold or the scoring rule. The authors' repository scores
 * SMAP/MSL only with the event-level `evaluate_sequences` (src/tasks/anomaly/events.ts).
 */
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

/** one seed's finished runs on one dataset */
export interface SeedRun {
  readonly seed: number;
  readonly reports: readonly ChannelReport[];
  readonly outputs: Map<string, ChannelOutputs>;
}

export interface SectionInput {
  readonly name: Dataset;
  readonly config: AdNevConfig;
  readonly channels: readonly string[];
  readonly seeds: readonly SeedRun[];
}

/** the metrics of one level in one seed, pooled over channels */
interface LevelRow {
  alarmRate: number;
  memberAlarmMean: number;
  memberAlarmMax: number;
  precision: number;
  recall: number;
  f1: number;
  randomF1: number;
  eventF1: number;
  randomPaF1: number;
  randomEventF1: number;
  eventF1AsCoded: number;
  paF1: number;
  vusPr: number;
  affP: number;
  affR: number;
  oracleF1: number;
}

const RANDOM_DRAWS = 3;
const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

/** one channel's labels and one level's alarms on it */
export interface ChannelAlarms {
  readonly channel: string;
  readonly labels: Uint8Array;
  readonly predictions: Uint8Array;
}

/**
 * The trivial floor of a level's alarms: on every channel the same number of alarms at random steps (seeded by
 * seed, channel, level and draw), scored like the level (point-wise F1 and PA-F1 on the concatenation, event
 * counts summed over channels), mean over `draws` draws.
 */
export function randomFloor(perChannel: readonly ChannelAlarms[], seed: number, level: LevelName, draws = RANDOM_DRAWS): { f1: number; eventF1: number; paF1: number } {
  const labels = concat(perChannel.map((p) => p.labels));
  const scores = Array.from({ length: draws }, (_, draw) => {
    const drawn = perChannel.map((p) => ({ labels: p.labels, predictions: randomAlarmsLike(p.predictions, createRng('random-at-rate', seed, p.channel, level, draw)) }));
    const predictions = concat(drawn.map((d) => d.predictions));
    return {
      f1: prf(predictions, labels).f1,
      eventF1: eventScores(sumEventCounts(drawn.map((d) => eventPrf(d.predictions, d.labels)))).f1,
      paF1: pointAdjustedPrf(predictions, labels).f1,
    };
  });
  return { f1: mean(scores.map((s) => s.f1)), eventF1: mean(scores.map((s) => s.eventF1)), paF1: mean(scores.map((s) => s.paF1)) };
}

function levelRow(input: SectionInput, run: SeedRun, level: LevelName): LevelRow {
  const { channels, config } = input;
  const perChannel = channels.map((c) => {
    const output = run.outputs.get(c)!;
    return { channel: c, labels: output.labels, level: output.levels.get(level)!, predictions: output.levels.get(level)!.decisions[config.vote].pot };
  });
  const labels = concat(perChannel.map((p) => p.labels));
  const predictions = concat(perChannel.map((p) => p.predictions));
  const pool = pooled(channels, run.outputs, level, config.vote, 'pot');
  const memberRates = perChannel.flatMap((p) => p.level.memberAlarmRates.pot);
  const random = randomFloor(perChannel, run.seed, level);
  const vus = run.reports.filter((r) => channels.includes(r.id)).map((r) => r.levels.find((l) => l.level === level)!.metrics!.vus_pr!);
  return {
    alarmRate: alarmRate(predictions),
    memberAlarmMean: mean(memberRates),
    memberAlarmMax: Math.max(...memberRates),
    precision: pool.plain.precision,
    recall: pool.plain.recall,
    f1: pool.plain.f1,
    randomF1: random.f1,
    eventF1: eventScores(sumEventCounts(perChannel.map((p) => eventPrf(p.predictions, p.labels)))).f1,
    randomEventF1: random.eventF1,
    randomPaF1: random.paF1,
    eventF1AsCoded: eventScores(sumEventCounts(perChannel.map((p) => eventPrfAsCoded(p.predictions, p.labels)))).f1,
    paF1: pool.pa.f1,
    vusPr: mean(vus),
    affP: pool.affiliation.precision,
    affR: pool.affiliation.recall,
    oracleF1: bestF1Oracle(concat(perChannel.map((p) => p.level.score)), labels).f1,
  };
}

const cell = (values: readonly number[], digits = 3): string => {
  if (values.length === 1) return values[0]!.toFixed(digits);
  const { mean: m, std } = meanStd(values);
  return `${m.toFixed(digits)} ± ${std.toFixed(digits)}`;
};
const percent = (values: readonly number[]): string => cell(values.map((v) => 100 * v), 1);

/** changes smaller than this are "no clear effect" even when seeds agree (a few seeds can agree by chance) */
const MIN_EFFECT = 0.005;

/**
 * Two-sided 95% quantiles of Student's t for 1…10 degrees of freedom (standard tables). With 2 or 3 seeds the
 * usual "2 standard errors" is far too lenient (t = 12.71 at one degree of freedom, 4.30 at two).
 */
const T_95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228] as const;

/** Mean of the paired (same-seed) differences after − before and its 95% confidence half-width t(n − 1)·s.e. */
export function pairedDifference(before: readonly number[], after: readonly number[]): { delta: number; halfWidth: number; n: number } {
  const differences = after.map((a, i) => a - before[i]!);
  const { mean: delta, std } = meanStd(differences);
  // beyond 10 degrees of freedom the 10-df value: slightly conservative
  const halfWidth = differences.length < 2 ? Infinity : T_95[Math.min(differences.length - 1, T_95.length) - 1]! * (std / Math.sqrt(differences.length));
  return { delta, halfWidth, n: differences.length };
}

/**
 * helps / hurts when the mean paired (same-seed) difference exceeds its 95% confidence half-width
 * t(n − 1)·s.e. and MIN_EFFECT; else no clear effect (one seed: undecided).
 */
export function verdict(before: readonly number[], after: readonly number[]): string {
  const { delta: d, halfWidth, n } = pairedDifference(before, after);
  if (n < 2) return `Δ ${d >= 0 ? '+' : ''}${d.toFixed(3)} (one seed: undecided)`;
  const word = Math.abs(d) <= halfWidth || Math.abs(d) < MIN_EFFECT ? 'no clear effect' : d > 0 ? 'helps' : 'hurts';
  return `${word} (Δ ${d >= 0 ? '+' : ''}${d.toFixed(3)} ± ${halfWidth.toFixed(3)}, 95% CI over ${n} seeds)`;
}

const STEPS: readonly [LevelName, LevelName, string][] = [
  ['untrained', 'baseline', 'training (baseline vs untrained)'],
  ['baseline', 'level1', 'level 1'],
  ['level1', 'level2', 'level 2'],
  ['level2', 'level3', 'level 3'],
];

export function datasetSection(input: SectionInput): { lines: string[]; verdicts: string[] } {
  const { name, channels, seeds, config } = input;
  const first = seeds[0]!;
  const labels = concat(channels.map((c) => first.outputs.get(c)!.labels));
  const lines = [`## ${name}: ${channels.length} channels, ${seeds.length} seed(s) (${labels.length} test steps, ${labels.reduce((s, v) => s + v, 0)} anomalous, base rate ${(100 * alarmRate(labels)).toFixed(1)}%)`, ''];
  lines.push(
    `Every cell is mean ± sd over seeds (${seeds.map((s) => s.seed).join(', ')}), pooled over channels: predictions concatenated for point-wise P/R/F1 and PA-F1; event counts summed over channels for event F1; affiliation pooled over zones; VUS-PR averaged over channels. POT threshold, **${config.vote}** rule. "alarms" = share of test steps flagged by the ensemble; "member alarms" = mean (max) over every channel's members of the share above the member's own threshold (POT at q = ${config.threshold.q} aims at about ${100 * config.threshold.q}% each). "@rate" columns = random alarms with the same number of alarms per channel (mean of ${RANDOM_DRAWS} draws): the trivial floor of the F1 beside it (PA-F1 credits a whole labelled segment for one alarm in it, so its floor is the highest). Event F1 = the definition of AD-NEv's evaluate_sequences; "as coded" = their code as written (src/tasks/anomaly/events.ts). Oracle = best threshold on the test labels: **not deployable**, an upper bound.`,
    '',
    '| model | alarms % | member alarms % | P | R | **F1** | F1 @rate | event F1 | event F1 @rate | event F1 as coded | PA-F1 | PA-F1 @rate | VUS-PR | aff P | aff R | oracle F1 |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const everything = channels.map((c) => ({ labels: first.outputs.get(c)!.labels, predictions: flagEveryStep(first.outputs.get(c)!.labels.length) }));
  const allOn = concat(everything.map((e) => e.predictions));
  const flagAff = poolAffiliation(everything.map((e) => affiliationPr(e.predictions, e.labels)));
  lines.push(
    `| flag every step (floor) | 100 | – | ${f(prf(allOn, labels).precision)} | 1.000 | ${f(prf(allOn, labels).f1)} | – | ${f(eventScores(sumEventCounts(everything.map((e) => eventPrf(e.predictions, e.labels)))).f1)} | – | ${f(eventScores(sumEventCounts(everything.map((e) => eventPrfAsCoded(e.predictions, e.labels)))).f1)} | ${f(pointAdjustedPrf(allOn, labels).f1)} | – | – | ${f(flagAff.precision)} | ${f(flagAff.recall)} | – |`,
  );
  const rows = new Map<LevelName, LevelRow[]>();
  for (const level of LEVELS) {
    const perSeed = seeds.map((run) => levelRow(input, run, level));
    rows.set(level, perSeed);
    const col = (key: keyof LevelRow): number[] => perSeed.map((r) => r[key]);
    lines.push(
      `| ${TITLES[level]} | ${percent(col('alarmRate'))} | ${percent(col('memberAlarmMean'))} (${percent(col('memberAlarmMax'))}) | ${cell(col('precision'))} | ${cell(col('recall'))} | **${cell(col('f1'))}** | ${cell(col('randomF1'))} | ${cell(col('eventF1'))} | ${cell(col('randomEventF1'))} | ${cell(col('eventF1AsCoded'))} | ${cell(col('paF1'))} | ${cell(col('randomPaF1'))} | ${cell(col('vusPr'))} | ${cell(col('affP'))} | ${cell(col('affR'))} | ${cell(col('oracleF1'))} |`,
    );
  }
  const paper = PAPER[name];
  lines.push(
    `| AD-NEv paper, Appendix Table VIII: P/R/F1 as printed (the table states no threshold or scoring rule) | – | – | ${paper.p} | ${paper.r} | ${paper.f1} | | | | | | | | | | |`,
    `| AD-NEv paper, Appendix Tables VI–VII: mean of the per-entity F1 after fine-tuning | – | – | | | ${paper.perEntityMeanF1} | | | | | | | | | | |`,
    '',
    `Measured effect of each level, decided by the seed spread (paired by seed; "helps"/"hurts" needs the 95% confidence interval of the mean change, t over the seeds, to exclude 0, and |Δ| ≥ ${MIN_EFFECT}): POT F1 / event F1 / VUS-PR.`,
    '',
  );
  const verdicts: string[] = [];
  for (const [from, to, title] of STEPS) {
    const [a, b] = [rows.get(from)!, rows.get(to)!];
    const text = `${title}: F1 ${verdict(a.map((r) => r.f1), b.map((r) => r.f1))}; event F1 ${verdict(a.map((r) => r.eventF1), b.map((r) => r.eventF1))}; VUS-PR ${verdict(a.map((r) => r.vusPr), b.map((r) => r.vusPr))}`;
    lines.push(`- ${text}.`);
    verdicts.push(text);
  }
  lines.push('', `<details><summary>Per channel, seed ${first.seed}: POT F1 / event F1 / alarm % by level</summary>`, '');
  lines.push('| channel | untrained | baseline | level 1 | level 1 + 2 | level 1 + 2 + 3 | seconds |', '|---|---|---|---|---|---|---|');
  for (const report of first.reports.filter((r) => channels.includes(r.id))) {
    const cells = LEVELS.map((level) => {
      const m = report.levels.find((l) => l.level === level)!.metrics!;
      return `${f(m.pot_f1!)} / ${f(m.pot_event_f1!)} / ${(100 * m.pot_alarm_rate!).toFixed(1)}`;
    });
    lines.push(`| ${report.id} | ${cells.join(' | ')} | ${report.seconds.toFixed(0)} |`);
  }
  lines.push('', '</details>', '');
  return { lines, verdicts };
}
