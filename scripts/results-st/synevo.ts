/**
 * Results part `synevo` of `npm run results:spatiotemporal` (issue #7): SynEVO (synevo.md) against Graph
 * WaveNet trained jointly on all training domains and GWN fine-tuned sequentially through them, zero-shot and
 * few-shot masked MAE / RMSE / MAPE on a held-out domain, and the three ablations (static schedule, no
 * reordering, no gate/extractor):
 * - cross-temporal on the METR-LA subset: each day cut into 4 periods of 6 h, the last (18–24 h) held out;
 * - cross-source on the synthetic multi-source generator (src/tasks/traffic/synthetic.ts), labelled synthetic.
 * Measured numbers are cached in docs/results/spatiotemporal/synevo.json and reused unless `rerun`.
 * Standalone: `node --import tsx scripts/results-st/synevo.ts [--rerun]`.
 */
import { useBackend } from '../../src/train/tf.js';
import { crossTemporalFromDir, DEFAULT_SYNEVO, domainSetupOf, runComparison, type ComparisonResult } from '../../src/spatiotemporal/synevo/experiment.js';
import type { SynevoOptions } from '../../src/spatiotemporal/synevo/loop.js';
import type { HeldOutMetrics } from '../../src/spatiotemporal/synevo/setup.js';
import { cachedPart, headCommit, partCachePath, partLogger, rerunCommand, runPartIfMain, startMeasurement, type PartProvenance } from './part-cache.js';

const DATA = 'test/fixtures/metr-la-subset';
/** reduced budget for 2 shared cores (the paper trains to convergence at full GWN width, 3 runs each) */
const BUDGET = {
  width: { residualChannels: 8, dilationChannels: 8, skipChannels: 32, endChannels: 64 },
  batchSize: 16,
  learningRate: 0.01,
  cycles: 2,
  stepsPerGroup: 30,
  scoringSteps: 30,
  fewShotSteps: 15,
  fewShotFraction: 0.25,
  p0: 0.5,
  lambda0: 0.05,
  kappa: 1e3,
  margin: 1,
  referenceWeightDecay: 0.001,
  seed: 0,
  synthetic: { sources: 4, nodes: 30, days: 7, stepsPerDay: 96 },
};

interface Cache extends PartProvenance<typeof BUDGET> {
  readonly crossTemporal: ComparisonResult;
  readonly crossSource: ComparisonResult;
}

const log = partLogger('synevo');

function synevoOptions(): SynevoOptions {
  return {
    ...DEFAULT_SYNEVO,
    seed: BUDGET.seed,
    config: BUDGET.width,
    learningRate: BUDGET.learningRate,
    batchSize: BUDGET.batchSize,
    cycles: BUDGET.cycles,
    stepsPerGroup: BUDGET.stepsPerGroup,
    elastic: { p0: BUDGET.p0, lambda0: BUDGET.lambda0 },
    kappa: BUDGET.kappa,
    extractor: { ...DEFAULT_SYNEVO.extractor, margin: BUDGET.margin },
    fewShotFraction: BUDGET.fewShotFraction,
    fewShotSteps: BUDGET.fewShotSteps,
    scoring: { ...DEFAULT_SYNEVO.scoring, steps: BUDGET.scoringSteps, batchSize: BUDGET.batchSize },
  };
}

async function measure(): Promise<Cache> {
  await useBackend('wasm');
  const clock = startMeasurement();
  const comparison = { synevo: synevoOptions(), ablations: ['none', 'static', 'no-reorder', 'no-gate'] as const, references: true, referenceWeightDecay: BUDGET.referenceWeightDecay };
  log('cross-temporal: METR-LA subset, time-of-day:4, p3 held out');
  const crossTemporal = await runComparison(domainSetupOf(crossTemporalFromDir(DATA, 4, 'last')), comparison, log);
  log(`cross-temporal done in ${crossTemporal.seconds.toFixed(0)} s`);
  const s = BUDGET.synthetic;
  log(`cross-source: synthetic, ${s.sources} sources × ${s.nodes} nodes × ${s.days} days, last source held out`);
  const crossSource = await runComparison(domainSetupOf({ kind: 'cross-source', ...s, seed: BUDGET.seed, holdout: 'last' }), comparison, log);
  log(`cross-source done in ${crossSource.seconds.toFixed(0)} s`);
  return { ...clock.finish({ commit: headCommit(), command: rerunCommand('synevo'), budget: BUDGET }), crossTemporal, crossSource };
}

const f3 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3));
const pct = (x: number): string => `${(100 * x).toFixed(2)}`;
/** relative change of `ours` against `reference` in % (negative = lower error) */
const change = (ours: number, reference: number): string => `${ours <= reference ? '' : '+'}${((100 * (ours - reference)) / reference).toFixed(1)}%`;

interface Row {
  readonly name: string;
  readonly zeroShot: HeldOutMetrics;
  readonly fewShot: HeldOutMetrics;
}

function rowsOf(result: ComparisonResult): Row[] {
  const label: Record<string, string> = { none: 'SynEVO', static: 'SynEVO, static schedule (p 0.1, λ 0.001)', 'no-reorder': 'SynEVO, no reordering', 'no-gate': 'SynEVO, no extractor/gate' };
  return [
    ...result.synevo.map((s) => ({ name: label[s.ablation]!, zeroShot: s.zeroShot, fewShot: s.fewShot })),
    ...result.references.map((r) => ({ name: r.method === 'gwn-joint' ? 'GWN trained jointly' : 'GWN fine-tuned sequentially', zeroShot: r.zeroShot, fewShot: r.fewShot })),
  ];
}

function table(result: ComparisonResult): string {
  const lines = ['| method | zero-shot MAE | RMSE | MAPE % | MAE h3 / h12 | few-shot MAE | RMSE | MAPE % | MAE h3 / h12 |', '|---|---|---|---|---|---|---|---|---|'];
  for (const r of rowsOf(result)) {
    const z = r.zeroShot;
    const f = r.fewShot;
    lines.push(`| ${r.name} | ${f3(z.all.mae)} | ${f3(z.all.rmse)} | ${pct(z.all.mape)} | ${f3(z.h3.mae)} / ${f3(z.h12.mae)} | ${f3(f.all.mae)} | ${f3(f.all.rmse)} | ${pct(f.all.mape)} | ${f3(f.h3.mae)} / ${f3(f.h12.mae)} |`);
  }
  return lines.join('\n');
}

function details(result: ComparisonResult): string {
  const full = result.synevo.find((s) => s.ablation === 'none')!;
  const c = full.curriculum.curriculum;
  const order = c.order.map((e) => `${e.group} (Σ‖∇‖² ${e.difficulty.toExponential(2)}, l ${e.distance.toFixed(3)})`).join(' → ');
  const schedule = full.visits.filter((v) => v.cycle === 1).map((v) => `${v.group}: p ${v.dropout.toFixed(3)}, λ ${v.weightDecay.toFixed(4)}`).join('; ');
  const gate = full.gate.map((d) => `${d.group} ${d.minDistance === null || Number.isNaN(d.minDistance) ? 'founds the container' : `D_min ${d.minDistance.toPrecision(3)} (nearest ${d.nearest})`} → ${d.admitted ? 'admitted' : 'rejected'}`).join('; ');
  const quick = c.order.map((e) => {
    const first = full.visits.find((v) => v.group === e.group && v.cycle === 1)!;
    const second = full.visits.find((v) => v.group === e.group && v.cycle === 2);
    return `${e.group} ${f3(first.firstLoss)} → ${f3(second?.firstLoss)}`;
  }).join(', ');
  return [
    `- Windows per group (train/val/test): ${result.groups.map((g) => `${g.id} ${g.train}/${g.val}/${g.test}`).join(', ')}; held out: **${result.heldOut}** (few-shot uses the first ${Math.round(BUDGET.fewShotFraction * 100)}% of its training windows; every row is scored on its test windows).`,
    `- Curriculum (bench ${c.bench}, d_max ${c.maxDistance.toFixed(3)}): ${order}; held-out few-shot slice l ${full.curriculum.fewShotDistance.toFixed(3)}${full.curriculum.fewShotDistance > c.maxDistance ? ' > d_max, so its p = λ = 0' : ''}.`,
    `- Elastic schedule (cycle 1): ${schedule}; few-shot adaptation p ${full.fewShot.dropout.toFixed(3)}, λ ${full.fewShot.weightDecay.toFixed(4)}.`,
    `- Gate (κ = ${BUDGET.kappa}): ${gate}. Extractor contrastive loss ${f3(full.extractorLoss?.first)} → ${f3(full.extractorLoss?.last)}.`,
    `- Loss of the first step after switching to a group, cycle 1 → cycle 2 (masked MAE; "quick adaptation" in the paper's loss plot): ${quick}.`,
    `- Time: curriculum scoring ${result.curriculumSeconds.toFixed(0)} s (shared by the four SynEVO variants); SynEVO variants ${result.synevo.map((s) => `${s.ablation} ${s.seconds.toFixed(0)} s`).join(', ')}; references ${result.references.map((r) => `${r.method} ${r.seconds.toFixed(0)} s`).join(', ')}.`,
  ].join('\n');
}

function comparisons(result: ComparisonResult): { zeroVsJoint: number; fewVsJoint: number; zeroVsSeq: number; ablation: Record<string, number> } {
  const full = result.synevo.find((s) => s.ablation === 'none')!;
  const joint = result.references.find((r) => r.method === 'gwn-joint')!;
  const seq = result.references.find((r) => r.method === 'gwn-sequential')!;
  const ablation: Record<string, number> = {};
  for (const s of result.synevo) if (s.ablation !== 'none') ablation[s.ablation] = (100 * (s.zeroShot.all.mae - full.zeroShot.all.mae)) / full.zeroShot.all.mae;
  return {
    zeroVsJoint: (100 * (full.zeroShot.all.mae - joint.zeroShot.all.mae)) / joint.zeroShot.all.mae,
    fewVsJoint: (100 * (full.fewShot.all.mae - joint.fewShot.all.mae)) / joint.fewShot.all.mae,
    zeroVsSeq: (100 * (full.zeroShot.all.mae - seq.zeroShot.all.mae)) / seq.zeroShot.all.mae,
    ablation,
  };
}

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;

function verdict(ours: number, better: boolean): string {
  return better ? (ours < 0 ? 'agrees in direction' : '**disagrees**') : ours > 0 ? 'agrees in direction' : '**disagrees**';
}

function gateSentence(cache: Cache): string {
  const decisions = [cache.crossTemporal, cache.crossSource].flatMap((r) => r.synevo.find((x) => x.ablation === 'none')!.gate);
  const distances = decisions.map((d) => d.minDistance).filter((x): x is number => x !== null && Number.isFinite(x));
  const rejected = decisions.filter((d) => !d.admitted).length;
  const largest = Math.max(...distances);
  return rejected === 0
    ? `With κ = ${cache.budget.kappa} on z-scored inputs the largest D_min was ${largest.toPrecision(3)}, so the gate admitted every domain and the no-gate ablation trained exactly the same container`
    : `With κ = ${cache.budget.kappa} the gate rejected ${rejected} of ${decisions.length} candidates (largest D_min ${largest.toPrecision(3)})`;
}

function quickAdaptationNote(result: ComparisonResult['synevo'][number]): string {
  const bench = result.curriculum.curriculum.bench;
  const first = result.visits.find((v) => v.group === bench && v.cycle === 1);
  const second = result.visits.find((v) => v.group === bench && v.cycle === 2);
  return first && second && second.firstLoss > first.firstLoss
    ? ` The container's first-step loss on the bench group rose from cycle 1 to cycle 2 (${first.firstLoss.toFixed(2)} → ${second.firstLoss.toFixed(2)}): the "quick adaptation" of the paper's loss plot did not show here.`
    : '';
}

function observations(cache: Cache): string {
  const out: string[] = [];
  const t = cache.crossTemporal;
  const fullT = t.synevo.find((x) => x.ablation === 'none')!;
  const staticT = t.synevo.find((x) => x.ablation === 'static');
  if (staticT && staticT.zeroShot.all.mae < fullT.zeroShot.all.mae) {
    out.push(
      `- On METR-LA the static schedule (p 0.1, λ 0.001) beats the elastic one (p₀ ${cache.budget.p0}, λ₀ ${cache.budget.lambda0}) in this single-seed run; the gap may not hold for other seeds. A possible reason (not isolated by an experiment here): λ is PyTorch-style L2 added to the gradient before Adam, and Adam normalises the step, so where λ·w dominates the loss gradient a weight moves by up to lr = ${cache.budget.learningRate} per step towards zero; over ${cache.budget.stepsPerGroup}-step visits this shrinks the small weights a lot, and DropConnect at p ≈ 0.5 adds noise a short run cannot average out. The paper trains to convergence, where this transient matters less. Eq. 10 with unnormalised gradient distances (d_max ${t.synevo[0]!.curriculum.curriculum.maxDistance.toFixed(1)}) is close to a step function: every group except the hardest gets p ≈ p₀.`,
    );
  }
  const sResult = cache.crossSource;
  const fullS = sResult.synevo.find((x) => x.ablation === 'none')!;
  const natural = sResult.synevo.find((x) => x.ablation === 'no-reorder');
  if (natural && natural.zeroShot.all.mae < fullS.zeroShot.all.mae) {
    out.push(
      `- Synthetic: the held-out source has a larger gain and offset than every training source (transform i grows with i), so zero-shot is extrapolation, and the model's last group matters most. The natural order ends on ${natural.order.at(-1)}, the source closest to the held-out one; the curriculum order ends on ${fullS.order.at(-1)} (the largest gradient distance). That — not a general property of reordering — is the likely reason the no-reordering variant scores best here.${quickAdaptationNote(fullS)}`,
    );
  }
  return out.length ? `Observations on this measurement:\n\n${out.join('\n')}\n` : '';
}

function render(cache: Cache): string {
  const t = comparisons(cache.crossTemporal);
  const s = comparisons(cache.crossSource);
  const full = (r: ComparisonResult) => r.synevo.find((x) => x.ablation === 'none')!;
  const joint = (r: ComparisonResult) => r.references.find((x) => x.method === 'gwn-joint')!;
  const sameAsFull = (r: ComparisonResult, ablation: string): boolean => {
    const other = r.synevo.find((x) => x.ablation === ablation);
    return other !== undefined && other.zeroShot.all.mae === full(r).zeroShot.all.mae && other.fewShot.all.mae === full(r).fewShot.all.mae;
  };
  const why: Record<string, string> = { 'no-reorder': 'the curriculum order equals the natural order', 'no-gate': 'the gate admitted every group' };
  const cell = (r: ComparisonResult, ablation: string, value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(1)}%${sameAsFull(r, ablation) ? ` (identical run: ${why[ablation]})` : ''}`;
  const agreement = (ablation: string, value: number): string => (sameAsFull(cache.crossTemporal, ablation) ? 'not tested here (identical run)' : verdict(value, false));
  const b = cache.budget;
  return `## SynEVO: cross-domain adaptation (cross-temporal on METR-LA, cross-source on synthetic data)

Command: \`${cache.command}\` (commit ${cache.commit}, ${cache.date.slice(0, 16).replace('T', ' ')} UTC, ${(cache.totalSeconds / 60).toFixed(1)} min; load average ${cache.loadBefore.map((x) => x.toFixed(1)).join('/')} before, ${cache.loadAfter.map((x) => x.toFixed(1)).join('/')} after — other jobs shared the two cores).
Spec: synevo.md; code: \`src/spatiotemporal/synevo/\`, CLI \`modelevo st synevo\`.

**Reduced budget, one seed (${b.seed}), not the paper's protocol scale.** Backbone GWN width ${b.width.residualChannels}/${b.width.skipChannels}/${b.width.endChannels} (residual/skip/end), batch ${b.batchSize}, Adam lr ${b.learningRate}, clip 5. Curriculum: a fresh GWN per group trained ${b.scoringSteps} steps (lr 0.01, wd 0.001; "until convergence" in the paper), gradients on 32 evenly spaced training windows. Container: ${b.cycles} cycles × ${b.stepsPerGroup} steps per group, DropConnect p_c and L2 λ_c from Eq. 10–11 with p₀ ${b.p0}, λ₀ ${b.lambda0} (the paper's best on NYC/SIP), κ ${b.kappa} (paper's best), contrastive margin ${b.margin} (not given in the paper). The references get the same total steps (${b.cycles} × groups × ${b.stepsPerGroup}) with constant wd ${b.referenceWeightDecay}. Few-shot: ${b.fewShotSteps} adaptation steps on the first ${Math.round(b.fewShotFraction * 100)}% of the held-out domain's training windows, for every method. No model selection is made (final weights), so no validation or test window is used to choose anything; the held-out domain's test windows are only scored. Errors are masked (zeros missing), in the data's units (mph for METR-LA), averaged over the 12 horizons unless marked h3/h12.

### Cross-temporal: METR-LA subset (207 sensors, 7 days), 4 periods of 6 h, 18–24 h held out

A window belongs to a period only if all its 24 steps lie inside that period of one day, so the held-out period never leaks into a training window; each period's windows are split 7:1:2 in time.

${table(cache.crossTemporal)}

${details(cache.crossTemporal)}

### Cross-source: SYNTHETIC (generator in src/tasks/traffic/synthetic.ts), ${b.synthetic.sources} sources × ${b.synthetic.nodes} nodes × ${b.synthetic.days} days, last source held out

Sources share the graph and the latent rush-hour drive and differ by gain, offset, time shift, observation noise and diffusion rate (source i: gain 40·(1 + 0.25 i), offset 5 i, shift 4 i steps, noise 0.5 + 0.5 i, diffusion min(0.2 + 0.2 i, 0.9)); one group per source. These numbers say nothing about real multi-source cities.

${table(cache.crossSource)}

${details(cache.crossSource)}

### Paper claims (synevo.md §4) beside ours

| claim (paper) | ours, cross-temporal (METR-LA) | ours, cross-source (synthetic) | |
|---|---|---|---|
| zero-shot cross-temporal beats the GWN backbone by 29.8% on average (4 datasets) | SynEVO vs GWN joint, zero-shot MAE ${change(full(cache.crossTemporal).zeroShot.all.mae, joint(cache.crossTemporal).zeroShot.all.mae)} (vs sequential ${signed(t.zeroVsSeq)}) | ${change(full(cache.crossSource).zeroShot.all.mae, joint(cache.crossSource).zeroShot.all.mae)} (vs sequential ${signed(s.zeroVsSeq)}) | cross-temporal ${verdict(t.zeroVsJoint, true)} |
| generalisation improves by 0.5–42% over baselines (few- and zero-shot) | few-shot vs GWN joint ${signed(t.fewVsJoint)} | few-shot vs GWN joint ${signed(s.fewVsJoint)} | cross-temporal few-shot ${verdict(t.fewVsJoint, true)} |
| static p = 0.1, λ = 0.001 instead of the elastic schedule: largest drop, 44.2% MAE | zero-shot MAE ${signed(t.ablation.static!)} vs full | ${signed(s.ablation.static!)} | ${verdict(t.ablation.static!, false)} |
| no reordering: ≈ 18.1% drop | ${cell(cache.crossTemporal, 'no-reorder', t.ablation['no-reorder']!)} | ${cell(cache.crossSource, 'no-reorder', s.ablation['no-reorder']!)} | ${agreement('no-reorder', t.ablation['no-reorder']!)} |
| no extractor/gate (every group admitted): ≈ 19.1% drop | ${cell(cache.crossTemporal, 'no-gate', t.ablation['no-gate']!)} | ${cell(cache.crossSource, 'no-gate', s.ablation['no-gate']!)} | ${agreement('no-gate', t.ablation['no-gate']!)} |
| memory for iterative training is 21.75% of the state of the art's | not measured | not measured | — |

${observations(cache)}
Reading. "agrees in direction" only means the sign matches; the magnitudes are from one seed at a tiny budget and differences of a few percent are within what another seed could change (not measured here). The paper's datasets (NYC, CHI, SIP, SD) are not used; METR-LA (7 days) is far smaller than SD (a year). The ablation percentages are zero-shot MAE changes of the ablated variant relative to full SynEVO (positive = the ablation is worse, as the paper reports). ${gateSentence(cache)} (the κ scale in the paper is on unnormalised counts; a κ fitted to this representation scale was not searched).
`;
}

export async function runPart(options: { rerun: boolean }): Promise<string> {
  return cachedPart({ cachePath: partCachePath('synevo'), rerun: options.rerun, measure, render });
}

await runPartIfMain(import.meta.url, runPart);
