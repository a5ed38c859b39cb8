/**
 * Produces docs/results/ad-nev.md: AD-NEv (ad-nev.md) on a documented SMAP and MSL channel subset with a
 * reduced budget, per level (untrained, baseline, 1, 2, 3), pooled over channels, beside the paper's Table
 * VIII and a random-score baseline that exposes point-adjustment inflation. Defaults (fitness weighting,
 * vote rule) come from config.ts, chosen by scripts/ad-nev-design-study.ts on disjoint dev channels.
 * Runs are resumable (re-run the command).
 *
 * Usage: node --import tsx scripts/results-ad-nev.ts [--run-dir runs/ad-nev-results] [--out docs/results/ad-nev.md]
 *        [--data-dir ../shared/data]
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { adNevConfigSchema, type AdNevConfig } from '../src/neuro/ad-nev/config.js';
import { runAdNev, VOTES, type ChannelOutputs, type ChannelReport } from '../src/neuro/ad-nev/run.js';
import type { PoolStats } from '../src/train/pool.js';
import type { LevelName } from '../src/neuro/ad-nev/pipeline.js';
import { bestF1Oracle, percentileThreshold, pointAdjustedPrf, prf, rangePrf, thresholdPredictions } from '../src/tasks/anomaly/metrics.js';
import { medianSegmentLength, vus } from '../src/tasks/anomaly/vus.js';
import { listChannels, loadChannel, resolveSmapMslRoot } from '../src/tasks/anomaly/smap-msl.js';
import { createRng } from '../src/core/rng.js';
import { concat, DOCUMENTED, drawChannels, fixed3 as f, LEVELS, pooled, REDUCED_BUDGET, type Dataset } from './ad-nev-setup.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const RUN_DIR = flag('run-dir', 'runs/ad-nev-results');
const OUT = flag('out', 'docs/results/ad-nev.md');
const DATA_DIR = args.includes('--data-dir') ? flag('data-dir', '') : undefined;
const ROOT = resolveSmapMslRoot(DATA_DIR);

const CONFIG: AdNevConfig = adNevConfigSchema.parse(REDUCED_BUDGET);
const DATASETS: Dataset[] = ['SMAP', 'MSL'];
const CHANNELS = Object.fromEntries(DATASETS.map((d) => [d, [...DOCUMENTED[d], ...drawChannels(listChannels(ROOT, d), d).extra]])) as Record<Dataset, string[]>;
const DEV = Object.fromEntries(DATASETS.map((d) => [d, drawChannels(listChannels(ROOT, d), d).dev])) as Record<Dataset, string[]>;
const PAPER = { SMAP: { p: 0.8554, r: 0.6988, f1: 0.7692 }, MSL: { p: 0.6199, r: 0.5205, f1: 0.5659 } };
const TITLES: Record<LevelName, string> = {
  untrained: 'untrained: baseline architecture, random initial weights',
  baseline: 'baseline: one hand-configured conv AE, all features',
  level1: 'level 1 (feature subspaces)',
  level2: 'level 1 + 2 (architectures)',
  level3: 'level 1 + 2 + 3 (weight fine-tuning)',
};

/** per channel: does the first 20% of the test series (the spec's dev-f1 part) contain a labelled anomaly? */
function devPartLabelled(dataset: Dataset): { labelled: number; total: number } {
  const ids = [...new Set(listChannels(ROOT, dataset))];
  const labelled = ids.filter((id) => {
    const { labels } = loadChannel(ROOT, id, CONFIG.convention);
    return labels.subarray(0, Math.round(0.2 * labels.length)).some((y) => y > 0);
  }).length;
  return { labelled, total: ids.length };
}

function randomScores(channels: readonly string[], outputs: Map<string, ChannelOutputs>): { predictions: Float64Array; vusPr: number } {
  // top 1% of uniform noise per channel: exposes PA inflation (Kim et al. 2022)
  const perChannel = channels.map((c) => {
    const labels = outputs.get(c)!.labels;
    const rng = createRng('random-baseline', c);
    const scores = Float64Array.from({ length: labels.length }, () => rng.next());
    return { predictions: thresholdPredictions(scores, percentileThreshold(scores, 1)), vusPr: vus(scores, labels, medianSegmentLength(labels)).vusPr };
  });
  return { predictions: concat(perChannel.map((c) => c.predictions)), vusPr: perChannel.reduce((s, c) => s + c.vusPr, 0) / perChannel.length };
}

const verdict = (before: number, after: number, higherIsBetter: boolean): string => {
  const delta = higherIsBetter ? after - before : before - after;
  return Math.abs(after - before) < 5e-4 ? 'unchanged' : delta > 0 ? 'helped' : 'hurt';
};

function datasetSection(name: Dataset, reports: ChannelReport[], outputs: Map<string, ChannelOutputs>, minutes: number, stats: PoolStats): string[] {
  const channels = CHANNELS[name];
  const labels = concat(channels.map((c) => outputs.get(c)!.labels));
  const lines = [`## ${name}: channels ${channels.join(', ')} (${labels.length} test steps, ${labels.reduce((s, v) => s + v, 0)} anomalous)`, ''];
  lines.push(`Pooled over the channels (predictions concatenated). Headline: plain point-wise P/R/F1 at the POT threshold, **${CONFIG.vote}** rule; PA = point-adjusted at the same threshold; "pct" = the ${100 - CONFIG.threshold.percentile}th percentile of training scores. VUS-PR: mean over channels, buffers 0…median anomaly length. Fitness: label-free, mean over channels (lower is better).`, '');
  lines.push('| model | fitness | POT P | POT R | **POT F1** | POT PA-F1 | range F1 | pct F1 | pct PA-F1 | VUS-PR | oracle F1 | oracle PA-F1 |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const random = randomScores(channels, outputs);
  const rp = prf(random.predictions, labels);
  lines.push(`| random scores (top 1%) | – | ${f(rp.precision)} | ${f(rp.recall)} | ${f(rp.f1)} | ${f(pointAdjustedPrf(random.predictions, labels).f1)} | ${f(rangePrf(random.predictions, labels).f1)} | | | ${f(random.vusPr)} | | |`);
  const summary = new Map<LevelName, { f1: number; vusPr: number; fitness: number }>();
  for (const level of LEVELS) {
    const pot = pooled(channels, outputs, level, CONFIG.vote, 'pot');
    const pct = pooled(channels, outputs, level, CONFIG.vote, 'percentile');
    const score = concat(channels.map((c) => outputs.get(c)!.levels.get(level)!.score));
    const perChannel = reports.map((r) => r.levels.find((l) => l.level === level)!);
    const vusPr = perChannel.reduce((s, l) => s + l.metrics!.vus_pr!, 0) / perChannel.length;
    const fitness = perChannel.reduce((s, l) => s + l.validationFitness, 0) / perChannel.length;
    summary.set(level, { f1: pot.plain.f1, vusPr, fitness });
    lines.push(
      `| ${TITLES[level]} | ${fitness.toPrecision(3)} | ${f(pot.plain.precision)} | ${f(pot.plain.recall)} | **${f(pot.plain.f1)}** | ${f(pot.pa.f1)} | ${f(pot.range.f1)} | ${f(pct.plain.f1)} | ${f(pct.pa.f1)} | ${f(vusPr)} | ${f(bestF1Oracle(score, labels).f1)} | ${f(bestF1Oracle(score, labels, { pointAdjusted: true }).f1)} |`,
    );
  }
  lines.push(`| AD-NEv paper, Table VIII (all channels, tuned threshold, no PA) | – | ${PAPER[name].p} | ${PAPER[name].r} | **${PAPER[name].f1}** | | | | | | | |`, '');
  lines.push('Measured effect of each level (pooled POT F1 / mean VUS-PR / mean fitness; "unchanged" = |Δ| < 0.0005):', '');
  const steps: [LevelName, LevelName, string][] = [['untrained', 'baseline', 'training (baseline vs untrained)'], ['baseline', 'level1', 'level 1'], ['level1', 'level2', 'level 2'], ['level2', 'level3', 'level 3']];
  for (const [from, to, title] of steps) {
    const [a, b] = [summary.get(from)!, summary.get(to)!];
    lines.push(`- ${title}: POT F1 ${verdict(a.f1, b.f1, true)} (${f(a.f1)} → ${f(b.f1)}); VUS-PR ${verdict(a.vusPr, b.vusPr, true)} (${f(a.vusPr)} → ${f(b.vusPr)}); fitness ${a.fitness.toPrecision(3)} → ${b.fitness.toPrecision(3)}.`);
  }
  lines.push('', 'Other vote rules on the same members (reported for transparency; the rule was chosen on the dev channels, not here) — pooled POT F1:', '');
  lines.push('| vote | untrained | baseline | level 1 | level 1 + 2 | level 1 + 2 + 3 |', '|---|---|---|---|---|---|');
  for (const vote of VOTES) lines.push(`| ${vote}${vote === CONFIG.vote ? ' (default)' : ''} | ${LEVELS.map((level) => f(pooled(channels, outputs, level, vote, 'pot').plain.f1)).join(' | ')} |`);
  lines.push('', 'Per channel (POT F1 / VUS-PR by level):', '', '| channel | untrained | baseline | level 1 | level 1 + 2 | level 1 + 2 + 3 | members after level 1 (feature counts; * = sees column 0) | seconds |', '|---|---|---|---|---|---|---|---|');
  for (const report of reports) {
    const cells = LEVELS.map((level) => {
      const m = report.levels.find((l) => l.level === level)!.metrics!;
      return `${f(m.pot_f1!)} / ${f(m.vus_pr!)}`;
    });
    const level1 = report.levels.find((l) => l.level === 'level1')!.members.map((m) => `${m.features.length}${m.features.includes(0) ? '*' : ''}`).join(', ');
    lines.push(`| ${report.id} | ${cells.join(' | ')} | ${level1} | ${report.seconds.toFixed(0)} |`);
  }
  const busy = stats.busySeconds.reduce((a, b) => a + b, 0);
  lines.push('', `Run time: ${minutes.toFixed(1)} min in the invocation that wrote this file (a resumed run re-trains only the selected members and re-scores). Engine pool: ${stats.jobs.reduce((a, b) => a + b, 0)} jobs on ${stats.jobs.length} workers (${stats.jobs.join(' + ')}), workers busy ${((100 * busy) / (stats.wallSeconds * stats.jobs.length)).toFixed(0)}% of the wall time (the rest: data preparation, scoring bookkeeping and fitness on the main thread, and batch ends).`, '');
  return lines;
}

const sections: string[] = [];
for (const name of DATASETS) {
  const started = performance.now();
  const { reports, outputs, poolStats } = await runAdNev({
    runDir: join(RUN_DIR, name.toLowerCase()),
    config: CONFIG,
    dataset: { dataset: name.toLowerCase(), channels: CHANNELS[name], ...(DATA_DIR ? { dataDir: DATA_DIR } : {}) },
    log: (m) => process.stderr.write(`${m}\n`),
  });
  sections.push(...datasetSection(name, reports, outputs, (performance.now() - started) / 60000, poolStats));
}

const devSmap = devPartLabelled('SMAP');
const devMsl = devPartLabelled('MSL');
const doc = [
  '# AD-NEv on SMAP and MSL (reduced budget, channel subset)',
  '',
  'Produced by `node --import tsx scripts/results-ad-nev.ts` (resumable; runs under `runs/ad-nev-results`). Spec: `ad-nev.md`.',
  '',
  '**Protocol.** Label-free split (ad-nev.md §3.1, `fitness: recon`): scalers (min–max to [−1, 1]) fitted on each',
  "channel's training series only; training series median-downsampled ×5; fitness = reconstruction error on the last 20% of",
  `the training series (held out from fitting), each feature's error divided by its variance on the fitting part, features constant there counting 0 when watched and 1 when not (\`fitnessNormalisation: ${CONFIG.fitnessNormalisation}\`);`,
  'one ensemble fitness for every level, so levels 1–3 are elitist from the baseline on (level 1 is seeded with the baseline).',
  `Thresholds calibrated per member on training-series scores only (POT: level ${CONFIG.threshold.level}, q ${CONFIG.threshold.q}, Grimshaw GPD fit). Members combined by the **${CONFIG.vote}** rule`,
  `(${CONFIG.vote === 'any' ? 'an alarm when any member exceeds its own threshold' : CONFIG.vote === 'majority' ? 'an alarm when more than half of the members exceed their thresholds' : 'mean of per-member scores, each divided by its mean training score, against one threshold on the same mean over the training series'}).`,
  `Test series used for reporting only. Label ranges read with **${CONFIG.convention}** ends. Oracle columns pick the best threshold on the test labels`,
  'themselves (on the normalised-mean ensemble score): **oracle, not deployable**, an upper bound.',
  '',
  '**Why these defaults.** The first results (SMAP POT F1 0.690 → 0.000 after level 1) came from a raw-error fitness that favoured',
  'subspaces of near-constant command flags, scored per level on different scales, and a majority vote that outvotes the one member',
  'watching the anomalous telemetry. The fitness weighting and the vote rule were then chosen together on dev channels disjoint from the',
  'ones below ([ad-nev-design.md](ad-nev-design.md), three rounds): `variance` + `any` had the highest final POT F1 there, by a small margin',
  '(0.251 vs 0.249 for `none` + `majority`). A code bottleneck (round 3: every network compressed to half its input, against the identity',
  'map that a widening conv encoder can learn) did not beat it there (best 0.244) and is not used. On the dev channels, as below, the',
  'untrained network often beats the trained baseline — the effect Kim et al. (AAAI 2022) report for reconstruction detectors — and a lower',
  'label-free fitness does not reliably mean a better detector: the proxy, not the search, limits what levels 2 and 3 can do.',
  `The spec's labelled-dev protocol (\`fitness: dev-f1\`, first 20% of each test series) was not adopted: that part holds a labelled anomaly in`,
  `only ${devSmap.labelled} of ${devSmap.total} SMAP and ${devMsl.labelled} of ${devMsl.total} MSL channels (counted by this script), so its F1 is 0 for every candidate almost everywhere.`,
  '',
  `**Reduced budget** (the paper's search exceeds the time available on this shared 2-core box): ${CONFIG.members} ensemble members (paper: 5);`,
  `${CONFIG.epochs} epochs per candidate (paper: 25); level 1 population ${CONFIG.level1.population} + ${CONFIG.level1.generations} generations × ${CONFIG.level1.offspring} offspring;`,
  `level 2 per member population ${CONFIG.level2.population} + ${CONFIG.level2.generations} × ${CONFIG.level2.offspring}, channels ≤ ${CONFIG.level2.maxChannels}, ≤ ${CONFIG.level2.maxLayers} conv layers;`,
  `level 3 per member population ${CONFIG.level3.population}, ${CONFIG.level3.iterations} iterations (paper: 64), p ${CONFIG.level3.mutationProbability}, ω 1/256, additive. No final re-training`,
  '(paper: 70 epochs); the selected candidate is used as trained. Baseline = one hand-configured conv autoencoder',
  '(window 5, 32/64 channels, kernels 3, strides 1/2, Adam 1e-3) on all features, same epochs; untrained = the same network at its seeded initial weights.',
  '',
  `**Channels:** SMAP ${CHANNELS.SMAP.join(', ')}; MSL ${CHANNELS.MSL.join(', ')}. The first three of each are the earlier documented subset`,
  '(shortest series; SMAP D-12 is constant in every training column and A-5 in column 0), the last two a seeded draw from the other',
  `channels (scripts/ad-nev-setup.ts), made before any result was seen; the dev channels of the design study (SMAP ${DEV.SMAP.join(', ')}; MSL ${DEV.MSL.join(', ')}) are excluded.`,
  'Not a representative sample: the paper pools all 54 SMAP and 27 MSL channels, so its row is context, not a like-for-like comparison.',
  '',
  ...sections,
  `Machine load at the end of the run: load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on 2 cores.`,
  '',
].join('\n');
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(`${OUT}.tmp`, doc);
renameSync(`${OUT}.tmp`, OUT);
process.stderr.write(`wrote ${OUT}\n`);
