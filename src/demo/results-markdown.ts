/**
 * docs/results/merging.md: the multi-seed search table of the evolution demo, with the static baselines,
 * the test rows of the inputs, a verdict per strategy decided by the seed spread, and one fitness-per-
 * evaluation SVG per strategy (mean best-so-far over seeds) written beside the document.
 */
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { TEST_WINDOWS } from '../evolve/fitness/splits.js';
import { evaluationCurveSvg } from './curve-plot.js';
import type { EvolutionDemoResult, SearchResult } from './evolution-demo.js';
import { DOMAINS } from './family.js';
import { kinshipLines } from './kinship-view.js';
import { DETERMINISTIC, SEARCHES } from './searches.js';
import { formatSpread, meanCurve, spread, verdict, wins } from './stats.js';

export interface ResultsMeta {
  readonly started: Date;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly command: string;
}

const signedSpread = (values: readonly number[]) => {
  const s = spread(values);
  return `${s.mean >= 0 ? '+' : ''}${formatSpread(s)}`;
};

export function writeMergingResults(result: EvolutionDemoResult, file: string, meta: ResultsMeta): void {
  const plots = join(dirname(file), basename(file, '.md'));
  const base = result.inputs.find((r) => r.model === 'base')!;
  const staticRow = result.inputs.find((r) => r.model.startsWith('best static'))!;
  const n = result.seeds.length;
  const byName = (name: string) => result.searches.filter((r) => r.name === name).sort((a, b) => a.seed - b.seed);
  const random = byName('random');
  const names = SEARCHES.filter((s) => byName(s).length > 0);
  const devEntries = result.history.filter((e) => e.phase === 'dev').length;
  const testEntries = result.history.filter((e) => e.phase === 'test').length;
  const cpu = cpus();
  const fmtLoad = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');

  const rows: string[] = [];
  const readings: string[] = [];
  for (const name of names) {
    const runs = byName(name);
    const tests = runs.map((r) => r.testMean);
    const vsStatic = tests.map((t) => t - staticRow.testMean);
    const vsBase = tests.map((t) => t - base.testMean);
    const vsRandom = name === 'random' || random.length !== runs.length ? undefined : runs.map((r, i) => r.testMean - random[i]!.testMean);
    const decided = verdict(vsStatic);
    const evaluations = [...new Set(runs.map((r) => r.summary.evaluations))].join('/');
    rows.push(
      `| ${runs[0]!.label}${DETERMINISTIC.has(name) ? ' (seed-independent: one run)' : ''} | ${evaluations} | ${formatSpread(spread(runs.map((r) => r.bestDev)))} | ${formatSpread(spread(tests))} | ${signedSpread(vsStatic)} | ${wins(vsStatic)}/${n} | ${signedSpread(vsBase)} | ${wins(vsBase)}/${n} | ${vsRandom ? `${signedSpread(vsRandom)} (${wins(vsRandom)}/${n})` : '—'} | **${decided}** best static |`,
    );
    readings.push(
      `- **${name}**: ${decided === 'beats' ? 'beats' : decided === 'loses' ? 'loses to' : 'ties with'} the best static baseline (test − best static ${signedSpread(vsStatic)} over ${n} seed${n > 1 ? 's' : ''}, ${wins(vsStatic)}/${n} wins)` +
        `${vsRandom ? `; against random search at the same budget: ${verdict(vsRandom) === 'beats' ? 'better' : verdict(vsRandom) === 'loses' ? 'worse' : 'no clear difference'} (${signedSpread(vsRandom)})` : ''}.`,
    );
    const curve = meanCurve(runs.map((r) => r.curve));
    const svg = evaluationCurveSvg(`${name}: best development loss so far, mean over ${runs.length === 1 || DETERMINISTIC.has(name) ? 'its one run' : `${n} seeds`}`, curve, [
      { label: 'base', fitness: base.dev },
      { label: 'best static', fitness: staticRow.dev },
    ]);
    writeFileAtomic(join(plots, `${name}.svg`), svg);
  }

  const doc = [
    `# Merging and evolution on the tiny-llama ${result.family} family`,
    '',
    `Produced by \`npm run results:merging\` (\`${meta.command}\`); resumable: rerunning it after a kill reuses the stored runs and cached scores under its \`--out\` folder.`,
    `Run started ${meta.started.toISOString()}, wall time ${(result.seconds / 60).toFixed(1)} min on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; load average (1/5/15 min) ${fmtLoad(meta.loadBefore)} at the start and ${fmtLoad(meta.loadAfter)} at the end — the machine was shared with other jobs, so times are not benchmarks.`,
    '',
    `Selection only on development windows ${TEST_WINDOWS}–${TEST_WINDOWS + result.setup.devWindows - 1} (${result.setup.devWindows} windows of 256 tokens per text); test = windows 0–${TEST_WINDOWS - 1} of each validation text (the fixture protocol), evaluated once after all selection: \`evaluation-order.json\` in the output folder records ${devEntries} development and ${testEntries} test evaluations (resumed sessions append; within a session a development evaluation after the first test evaluation throws, and cached scores are never re-read).`,
    `Every search row: budget ${result.setup.budget} development evaluations (strategies that evaluate whole generations may finish the last one: the counts are in the table), seeds ${result.seeds.join(', ')}. Loss = mean next-token cross-entropy (nats), lower is better. A small-scale reproduction on a 0.95M-parameter model, not the papers' setting.`,
    '',
    '## Kinship',
    '',
    '```',
    ...kinshipLines(result.kinship),
    '```',
    '',
    '## Static baselines (selected on development data)',
    '',
    '| baseline | dev loss |',
    '|---|---|',
    ...result.statics.map((s) => `| ${s.name}${s.name === result.bestStatic.name ? ' **← best static**' : ''} | ${s.dev.toFixed(4)} |`),
    '',
    '## Test split: inputs and the best static baseline',
    '',
    `| model | dev loss | ${DOMAINS.map((d) => `test ${d}`).join(' | ')} | test mean |`,
    `|---|---|${DOMAINS.map(() => '---|').join('')}---|`,
    ...result.inputs.map((r) => `| ${r.model} | ${r.dev.toFixed(4)} | ${DOMAINS.map((d) => r.test[d]!.toFixed(4)).join(' | ')} | ${r.testMean.toFixed(4)} |`),
    '',
    `## Searches: ${n} seed${n > 1 ? 's' : ''} each, mean ± sd over seeds`,
    '',
    'Wins = seeds whose test loss is lower. Verdict against the best static baseline: "beats"/"loses" when the mean difference is more than two standard errors (sd/√n) from zero, else "ties". The "− random" column pairs seeds.',
    '',
    '| strategy | evaluations | best dev loss | test mean | test − best static | wins | test − base | wins | test − random (wins) | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `${result.verdict}`,
    '',
    '## Reading',
    '',
    ...readings,
    '',
    '## Fitness per evaluation (mean over seeds of the best development loss so far)',
    '',
    ...names.map((name) => `![${name}](${basename(plots)}/${name}.svg)`),
    '',
    'Each run\'s own `report.md`/`report.html` (fitness per step with the base, the experts and the best static as reference lines, the genome by gene, the lineage) is in its run folder.',
    '',
    '## Papers, for orientation (different models, tasks and scales: not comparable numbers)',
    '',
    '| source | setting | reported |',
    '|---|---|---|',
    '| FusionBench (arXiv 2406.03280) | CLIP ViT-B/32, 8 tasks, mean accuracy | simple average 66.5; task arithmetic (λ 0.3) 68.0; TIES (λ 0.3) 72.2; individual fine-tunes 90.3 |',
    '| Model kinship (arXiv 2410.12613) | Mistral-7B family, mean of TQA/Wino/GSM8K | greedy merging plateaus at 68.72; kinship exploration reaches 69.13 |',
    '| Sakana evolutionary merge (arXiv 2403.13187) | Japanese math LLM, MGSM-JA | best source model 30.0; evolved PS merge 52.0–52.4 |',
    '| AnyFit (arXiv 2405.18172) | prior model evolution by grid-greedy coefficient search | numbers not recorded in the spec: not quoted |',
    '| LoraHub (arXiv 2307.13269) | Flan-T5, BBH few-shot | numbers not recorded in the spec: not quoted |',
    '| Evolver (arXiv 2406.12208) | RoBERTa/DeBERTa/DistilBERT fusion | result tables not recorded in the spec (UNVERIFIED): not quoted |',
    '',
  ];
  writeFileAtomic(file, doc.join('\n'));
}

