/**
 * Produces docs/results/ad-nev.md: AD-NEv (ad-nev.md) on every labelled SMAP and MSL channel except the
 * design-study dev channels, with a reduced budget, per level (untrained, baseline, 1, 2, 3), pooled over
 * channels, beside the paper's Table VIII and a random-score baseline that exposes point-adjustment inflation.
 * Defaults (fitness weighting, vote rule) come from config.ts, chosen by scripts/ad-nev-design-study.ts on the
 * dev channels. Sections are formatted by scripts/ad-nev-report.ts. Runs are resumable (re-run the command).
 *
 * Usage: node --import tsx scripts/results-ad-nev.ts [--run-dir runs/ad-nev-all] [--out docs/results/ad-nev.md]
 *        [--data-dir ../shared/data]
 */
import { writeFileAtomic } from '../src/core/atomic-file.js';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { adNevConfigSchema, type AdNevConfig } from '../src/neuro/ad-nev/config.js';
import { runAdNev } from '../src/neuro/ad-nev/run.js';
import { listChannels, loadChannel, resolveSmapMslRoot } from '../src/tasks/anomaly/smap-msl.js';
import { drawChannels, REDUCED_BUDGET, reportChannels, type Dataset } from './ad-nev-setup.js';
import { datasetSection } from './ad-nev-report.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const RUN_DIR = flag('run-dir', 'runs/ad-nev-all');
const OUT = flag('out', 'docs/results/ad-nev.md');
const DATA_DIR = args.includes('--data-dir') ? flag('data-dir', '') : undefined;
const ROOT = resolveSmapMslRoot(DATA_DIR);

const CONFIG: AdNevConfig = adNevConfigSchema.parse(REDUCED_BUDGET);
const DATASETS: Dataset[] = ['SMAP', 'MSL'];
const LABELLED = Object.fromEntries(DATASETS.map((d) => [d, [...new Set(listChannels(ROOT, d))]])) as Record<Dataset, string[]>;
const CHANNELS = Object.fromEntries(DATASETS.map((d) => [d, reportChannels(LABELLED[d], d)])) as Record<Dataset, string[]>;
const DEV = Object.fromEntries(DATASETS.map((d) => [d, drawChannels(LABELLED[d], d).dev])) as Record<Dataset, string[]>;

/** per channel: does the first 20% of the test series (the spec's dev-f1 part) contain a labelled anomaly? */
function devPartLabelled(dataset: Dataset): { labelled: number; total: number } {
  const ids = LABELLED[dataset];
  const labelled = ids.filter((id) => {
    const { labels } = loadChannel(ROOT, id, CONFIG.convention);
    return labels.subarray(0, Math.round(0.2 * labels.length)).some((y) => y > 0);
  }).length;
  return { labelled, total: ids.length };
}

// progress with a naive remaining-time estimate (mean seconds per finished channel × channels left)
const TOTAL = CHANNELS.SMAP.length + CHANNELS.MSL.length;
const startedAll = performance.now();
let finished = 0;
const log = (message: string): void => {
  process.stderr.write(`${message}\n`);
  if (!/: done in /.test(message)) return;
  finished++;
  const minutes = (performance.now() - startedAll) / 60000;
  process.stderr.write(
    `progress ${new Date().toISOString()}: ${finished}/${TOTAL} channels in ${minutes.toFixed(1)} min; naive estimate for the other ${TOTAL - finished}: ${((minutes / finished) * (TOTAL - finished)).toFixed(0)} min (load ${loadavg().map((l) => l.toFixed(1)).join(' ')})\n`,
  );
};

process.stderr.write(`start ${new Date().toISOString()}: SMAP ${CHANNELS.SMAP.length} + MSL ${CHANNELS.MSL.length} channels (dev excluded: ${[...DEV.SMAP, ...DEV.MSL].join(', ')}), run dir ${RUN_DIR}\n`);

const sections: string[] = [];
const summary: string[] = [];
for (const name of DATASETS) {
  const started = performance.now();
  const { reports, outputs, poolStats } = await runAdNev({
    runDir: join(RUN_DIR, name.toLowerCase()),
    config: CONFIG,
    dataset: { dataset: name.toLowerCase(), channels: CHANNELS[name], ...(DATA_DIR ? { dataDir: DATA_DIR } : {}) },
    log,
  });
  const section = datasetSection({ name, config: CONFIG, channels: CHANNELS[name], reports, outputs, minutes: (performance.now() - started) / 60000, stats: poolStats });
  sections.push(...section.lines);
  summary.push(`- **${name}** — ${section.verdicts.join('; ')}.`);
}

const devSmap = devPartLabelled('SMAP');
const devMsl = devPartLabelled('MSL');
const listed = (d: Dataset): string => `${d} (${CHANNELS[d].length} of ${LABELLED[d].length}): ${CHANNELS[d].join(', ')}`;
const doc = [
  '# AD-NEv on SMAP and MSL (reduced budget, all channels except the design-study dev channels)',
  '',
  `Produced by \`node --import tsx scripts/results-ad-nev.ts\` (resumable; runs under \`${RUN_DIR}\`). Spec: \`ad-nev.md\`.`,
  '',
  '**Measured effect of each level** (pooled POT F1 and mean VUS-PR; details, affiliation and the paper\'s rows in the sections below):',
  '',
  ...summary,
  '',
  'One seed, one run: variation across seeds was not measured, so changes of a few thousandths (here levels 2 and 3 on both',
  'datasets) are not evidence of an effect; read them as "no clear effect". Only changes of about a hundredth or more (in this run:',
  'training and level 1) are large enough to discuss, and on SMAP the untrained network still beats every trained level.',
  '',
  '**Protocol.** Label-free split (ad-nev.md §3.1, `fitness: recon`): scalers (min–max to [−1, 1]) fitted on each',
  "channel's training series only; training series median-downsampled ×5; fitness = reconstruction error on the last 20% of",
  `the training series (held out from fitting), each feature's error divided by its variance on the fitting part, features constant there counting 0 when watched and 1 when not (\`fitnessNormalisation: ${CONFIG.fitnessNormalisation}\`);`,
  'one ensemble fitness for every level, so levels 1–3 are elitist from the baseline on (level 1 is seeded with the baseline).',
  `Thresholds calibrated per member on training-series scores only (POT: level ${CONFIG.threshold.level}, q ${CONFIG.threshold.q}, Grimshaw GPD fit). Members combined by the **${CONFIG.vote}** rule`,
  `(${CONFIG.vote === 'any' ? 'an alarm when any member exceeds its own threshold' : CONFIG.vote === 'majority' ? 'an alarm when more than half of the members exceed their thresholds' : 'mean of per-member scores, each divided by its mean training score, against one threshold on the same mean over the training series'}).`,
  `Test series used for reporting only. Label ranges read with **${CONFIG.convention}** ends. Oracle columns pick the best threshold on the test labels`,
  'themselves (on the normalised-mean ensemble score): **oracle, not deployable**, an upper bound.',
  'Affiliation (src/tasks/anomaly/affiliation.ts): step i is the interval [i, i + 1); each labelled anomaly owns the zone of time closer to it',
  'than to any other anomaly of its channel; precision averages over the zones holding alarms, recall over all zones (a zone without alarms',
  'has recall 0); a single random alarm scores about 0.5 on both, a perfect detector 1.',
  '',
  '**Why these defaults.** The first results (SMAP POT F1 0.690 → 0.000 after level 1) came from a raw-error fitness that favoured',
  'subspaces of near-constant command flags, scored per level on different scales, and a majority vote that outvotes the one member',
  'watching the anomalous telemetry. The fitness weighting and the vote rule were then chosen together on dev channels disjoint from the',
  'ones below ([ad-nev-design.md](ad-nev-design.md), three rounds): `variance` + `any` had the highest final POT F1 there, by a small margin',
  '(0.251 vs 0.249 for `none` + `majority`). A code bottleneck (round 3: every network compressed to half its input, against the identity',
  'map that a widening conv encoder can learn) did not beat it there (best 0.244) and is not used. On the dev channels the',
  'untrained network often beat the trained baseline — the effect Kim et al. (AAAI 2022) report for reconstruction detectors — and a lower',
  'label-free fitness did not reliably mean a better detector there.',
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
  `**Channels:** every labelled channel except the six dev channels of the design study (SMAP ${DEV.SMAP.join(', ')}; MSL ${DEV.MSL.join(', ')}; seeded draw in`,
  'scripts/ad-nev-setup.ts), whose test labels were looked at to choose the defaults and which are therefore not reported.',
  `P-2, listed twice in \`labeled_anomalies.csv\`, is one channel with the union of both rows' ranges; T-10 has no label row and is not used.`,
  `${listed('SMAP')}. ${listed('MSL')}.`,
  `The paper pools all ${LABELLED.SMAP.length} SMAP and ${LABELLED.MSL.length} MSL channels at its full budget (25 epochs per candidate, final re-training), so its rows are context,`,
  'not a like-for-like comparison: here the 3 + 3 dev channels are missing and every stage runs at the reduced budget above.',
  '',
  ...sections,
  `Machine load at the end of the run: load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on 2 cores.`,
  '',
].join('\n');
writeFileAtomic(OUT, doc);
process.stderr.write(`wrote ${OUT}\n`);
