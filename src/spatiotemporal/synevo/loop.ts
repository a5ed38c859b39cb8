/**
 * The SynEVO training loop (Liu et al., arXiv 2505.16080; synevo.md §2.5): curriculum scoring and order
 * (§2.1), the contrastive personality extractor (§2.3), then for each cycle and each group in order the
 * coupler gate (§2.4) and training of the elastic common container with the group's p_c, λ_c (§2.2, Eq. 15)
 * or of a separate model; finally zero-shot and few-shot evaluation on the held-out group.
 * Choices the paper leaves open (made here, stated in the results): the gate decides once per group, on its first
 * arrival (in later cycles the group's own representation is already in the container, so D_min would be 0);
 * rejected groups train a separate model without regularisation (Eq. 15's (1 − h) term), random init by
 * default; few-shot adaptation runs the gate on the held-out few-shot slice and, if admitted, continues a copy
 * of the container with the slice's p, λ (its gradient distance to the bench, clamped at d_max). Zero-shot
 * evaluates the container as it is. Ablations: 'static' (p = 0.1, λ = 0.001), 'no-reorder' (natural group
 * order, elastic p, λ kept; when the natural order already equals the curriculum order, a seeded shuffled
 * order that differs from it is the control, so the ablation is never the full run again), 'no-gate' (no
 * extractor, every group admitted).
 * κ: a fixed value (the paper's 1e3) or, with `kappaFactor`, factor × the median pairwise distance between the
 * training domains' representations (gate.ts `kappaFromDistances`), so the gate can reject on this data's scale.
 * Masked steps never feed BatchNorm running statistics (gwn-engine-session.ts): they come from an unmasked pass of
 * the same batch, because evaluation runs the unmasked network (the paper does not mention BatchNorm; Def. 4.2
 * masks parameters to model inactive synapses during training, not at inference).
 */
import type { GraphWaveNetConfig } from '../gwn-config.js';
import type { PreparedTraffic } from '../gwn-data.js';
import { GwnEngineSession, type GwnSession, type GwnWorkers } from '../gwn-engine-session.js';
import { INPUT_STEPS } from '../../tasks/traffic/windows.js';
import { DEFAULT_EXTRACTOR, domainRepresentation, trainExtractor, type ExtractorOptions, type PersonalityExtractor } from './extractor.js';
import { AdaptiveCoupler } from './coupler.js';
import { kappaFromDistances, type GateDecision, type KappaScale } from './gate.js';
import { createRng } from '../../core/rng.js';
import { buildCurriculum, DEFAULT_SCORING, evenlySpaced, type CurriculumResult, type ScoringOptions } from './group-scoring.js';
import { DEFAULT_ELASTIC, STATIC_REGULARISATION, elasticRegularisation, type ElasticParams, type GroupRegularisation } from './schedule.js';
import { evaluateOn, fewShotSlice, trainSteps, type DomainSetup, type HeldOutMetrics, type StepBudget } from './setup.js';

export const SYNEVO_ABLATIONS = ['none', 'static', 'no-reorder', 'no-gate'] as const;
export type SynevoAblation = (typeof SYNEVO_ABLATIONS)[number];

export interface SynevoOptions {
  readonly seed: number;
  readonly config: Partial<GraphWaveNetConfig>;
  readonly learningRate: number;
  readonly clipNorm: number;
  readonly batchSize: number;
  readonly cycles: number;
  /** container optimiser steps per group visit */
  readonly stepsPerGroup: number;
  readonly elastic: ElasticParams;
  /** gate threshold κ (paper's best 1e3; acts on the representation scale); ignored when `kappaFactor` is set */
  readonly kappa: number;
  /** κ = kappaFactor × median pairwise D of the training domains' representations (gate.ts) */
  readonly kappaFactor?: number;
  readonly extractor: ExtractorOptions;
  readonly extractorSamplesPerGroup: number;
  readonly ablation: SynevoAblation;
  /** Def. 4.2 masking: DropConnect on weights (default) or dropout on activations */
  readonly dropMode: 'dropconnect' | 'activation';
  /** initialisation of a rejected group's separate model */
  readonly separateInit: 'random' | 'warm';
  readonly fewShotFraction: number;
  readonly fewShotSteps: number;
  readonly scoring: Omit<ScoringOptions, 'seed' | 'config'>;
  /** engine threads of every session (container, separate models, few-shot; default 'auto') */
  readonly workers?: GwnWorkers;
}

export const DEFAULT_SYNEVO: Omit<SynevoOptions, 'seed' | 'config'> = {
  learningRate: 0.01,
  clipNorm: 5,
  batchSize: 16,
  cycles: 2,
  stepsPerGroup: 30,
  elastic: DEFAULT_ELASTIC,
  kappa: 1e3,
  extractor: DEFAULT_EXTRACTOR,
  extractorSamplesPerGroup: 48,
  ablation: 'none',
  dropMode: 'dropconnect',
  separateInit: 'random',
  fewShotFraction: 0.25,
  fewShotSteps: 15,
  scoring: DEFAULT_SCORING,
};

export interface SynevoVisit {
  readonly cycle: number;
  readonly group: string;
  readonly admitted: boolean;
  readonly dropout: number;
  readonly weightDecay: number;
  /** loss of the first step after switching to this group, and the visit's mean */
  readonly firstLoss: number;
  readonly meanLoss: number;
}

export interface SynevoResult {
  readonly ablation: SynevoAblation;
  readonly order: readonly string[];
  /** how `order` was made: the curriculum, the natural order, or a shuffle (natural = curriculum order) */
  readonly orderKind: 'curriculum' | 'natural' | 'shuffled';
  /** the κ the gate used, and its basis when scaled from the representation distances */
  readonly kappa: number;
  readonly kappaScale?: KappaScale;
  readonly curriculum: CurriculumResult;
  /** every gate decision with its D_min (training groups, then the held-out few-shot slice) */
  readonly gate: readonly (GateDecision & { readonly group: string })[];
  readonly visits: readonly SynevoVisit[];
  /** masked MAE of the final container on the training groups' validation windows (pooled): the dev score */
  readonly validationMae: number;
  readonly zeroShot: HeldOutMetrics;
  readonly fewShot: HeldOutMetrics & { readonly admitted: boolean; readonly dropout: number; readonly weightDecay: number };
  readonly extractorLoss?: { readonly first: number; readonly last: number };
  readonly seconds: number;
}

/** A sample's z-scored input values [N × 12], node-major (the extractor's X). */
export function windowFeatures(prepared: PreparedTraffic, sample: number): Float64Array {
  const { network, scaler } = prepared;
  const nodes = network.sensorIds.length;
  const out = new Float64Array(nodes * INPUT_STEPS);
  for (let t = 0; t < INPUT_STEPS; t++) for (let n = 0; n < nodes; n++) out[n * INPUT_STEPS + t] = (network.values[(sample + t) * nodes + n]! - scaler.mean) / scaler.std;
  return out;
}

/** A session on the training engine (both drop modes: DropConnect masks, or the activation-dropout rate slot). */
function createSession(prepared: PreparedTraffic, options: SynevoOptions, seed: number | string, initialWeights?: Awaited<ReturnType<GwnSession['snapshot']>>): GwnSession {
  return new GwnEngineSession(prepared, { seed, learningRate: options.learningRate, clipNorm: options.clipNorm, config: options.config, ...(initialWeights ? { initialWeights } : {}), ...(options.workers === undefined ? {} : { workers: options.workers }) });
}

/**
 * A visit's step budget: the group's p as DropConnect, or as the activation-dropout rate (0 for rejected groups
 * and separate models, which then train without dropout). Masked steps' BatchNorm statistics come from
 * unmasked passes (gwn-engine-session.ts).
 */
function budgetFor(options: SynevoOptions, steps: number, regularisation: GroupRegularisation): StepBudget {
  const drop = options.dropMode === 'dropconnect' ? { dropConnect: regularisation.dropout } : { activationDropout: regularisation.dropout };
  return { steps, batchSize: options.batchSize, weightDecay: regularisation.weightDecay, ...drop };
}

/** SynEVO's container trained and scored on the training groups' validation windows only (no held-out window is read). */
export async function synevoValidationMae(setup: DomainSetup, options: SynevoOptions, curriculum: CurriculumResult, log: (line: string) => void = () => {}): Promise<number> {
  const result = await runSynevoStages(setup, options, { curriculum }, log, true);
  return result.validationMae;
}

export async function runSynevo(setup: DomainSetup, options: SynevoOptions, reuse?: { curriculum?: CurriculumResult }, log: (line: string) => void = () => {}): Promise<SynevoResult> {
  return (await runSynevoStages(setup, options, reuse, log, false)) as SynevoResult;
}

async function runSynevoStages(setup: DomainSetup, options: SynevoOptions, reuse: { curriculum?: CurriculumResult } | undefined, log: (line: string) => void, validationOnly: boolean): Promise<SynevoResult | { validationMae: number }> {
  const started = performance.now();
  const { prepared, groups, heldOut } = setup;
  const fewShotSamples = fewShotSlice(heldOut, options.fewShotFraction);
  const curriculum = reuse?.curriculum ?? (await buildCurriculum(prepared, groups, fewShotSamples, { workers: options.workers, ...options.scoring, seed: options.seed, config: options.config }, log));
  const distance = new Map(curriculum.curriculum.order.map((e) => [e.group, e.distance]));
  const dMax = curriculum.curriculum.maxDistance;
  const regularisationOf = (l: number): GroupRegularisation => (options.ablation === 'static' ? STATIC_REGULARISATION : elasticRegularisation(l, dMax, options.elastic));
  const curriculumIds = curriculum.curriculum.order.map((e) => e.group);
  const { order, orderKind } = options.ablation === 'no-reorder' ? controlOrder(groups.map((g) => g.id), curriculumIds, options.seed) : { order: curriculumIds, orderKind: 'curriculum' as const };
  const byId = new Map(groups.map((g) => [g.id, g]));

  // §2.3: the extractor sees training windows of the training groups only
  let extractor: PersonalityExtractor | undefined;
  const representationOf = (samples: readonly number[]): Float64Array => domainRepresentation(extractor!, samples.map((s) => windowFeatures(prepared, s)));
  if (options.ablation !== 'no-gate') {
    const samples = groups.flatMap((g) => evenlySpaced(g.train, options.extractorSamplesPerGroup).map((s) => ({ features: windowFeatures(prepared, s), domain: g.id })));
    extractor = trainExtractor(samples, INPUT_STEPS, { ...options.extractor, seed: `${options.seed}` });
    log(`extractor: contrastive loss ${extractor.losses[0]!.toFixed(4)} → ${extractor.losses.at(-1)!.toFixed(4)}`);
  }

  let kappa = options.kappa;
  let kappaScale: KappaScale | undefined;
  if (extractor && options.kappaFactor !== undefined) {
    kappaScale = kappaFromDistances(new Map(groups.map((g) => [g.id, representationOf(evenlySpaced(g.train, options.extractorSamplesPerGroup))])), options.kappaFactor);
    kappa = kappaScale.kappa;
    log(`gate: κ = ${options.kappaFactor} × median pairwise D ${kappaScale.median.toPrecision(4)} = ${kappa.toPrecision(4)}`);
  }

  const container = createSession(prepared, options, options.seed);
  const coupler = new AdaptiveCoupler(container, {
    kappa,
    gated: extractor !== undefined,
    createSeparate: async (id) => createSession(prepared, options, `${options.seed}:separate:${id}`, options.separateInit === 'warm' ? await container.snapshot() : undefined),
  });
  const visits: SynevoVisit[] = [];
  const logDecision = (): void => {
    const d = coupler.decisions.at(-1)!;
    log(`gate: ${d.group} D_min = ${d.minDistance.toPrecision(4)} (nearest ${d.nearest || '—'}) → ${d.admitted ? 'admitted' : 'rejected'}`);
  };
  try {
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      for (const id of order) {
        const group = byId.get(id)!;
        const before = coupler.decisions.length;
        const admitted = coupler.admit(id, extractor ? representationOf(evenlySpaced(group.train, options.extractorSamplesPerGroup)) : undefined);
        if (coupler.decisions.length > before) logDecision();
        const regularisation = admitted ? regularisationOf(distance.get(id)!) : { dropout: 0, weightDecay: 0 };
        const session = await coupler.sessionFor(id);
        const { firstLoss, meanLoss } = await trainSteps(session, group.train, budgetFor(options, options.stepsPerGroup, regularisation));
        visits.push({ cycle, group: id, admitted, dropout: regularisation.dropout, weightDecay: regularisation.weightDecay, firstLoss, meanLoss });
        log(`cycle ${cycle} ${id}: ${admitted ? 'container' : 'separate model'}, p ${regularisation.dropout.toFixed(3)}, λ ${regularisation.weightDecay.toFixed(4)}, loss ${firstLoss.toFixed(3)} → mean ${meanLoss.toFixed(3)}`);
      }
    }
    const validationMae = (await container.evaluate(groups.flatMap((g) => g.val))).mae;
    log(`container on the training groups' validation windows: MAE ${validationMae.toFixed(3)}`);
    if (validationOnly) return { validationMae };
    const zeroShot = await evaluateOn(container, prepared, heldOut.test);
    log(`zero-shot held-out ${heldOut.id}: MAE ${zeroShot.all.mae.toFixed(3)}`);

    // few-shot: the coupler on the held-out slice
    const decision = coupler.probe(`${heldOut.id} (few-shot)`, extractor ? representationOf(fewShotSamples) : undefined);
    logDecision();
    const regularisation = decision.admitted ? regularisationOf(curriculum.fewShotDistance) : { dropout: 0, weightDecay: 0 };
    const containerWeights = await container.snapshot();
    const initial = decision.admitted || options.separateInit === 'warm' ? containerWeights : undefined;
    const adapted = createSession(prepared, options, `${options.seed}:few-shot`, initial);
    try {
      await trainSteps(adapted, fewShotSamples, budgetFor(options, options.fewShotSteps, regularisation));
      const fewShot = await evaluateOn(adapted, prepared, heldOut.test);
      log(`few-shot held-out ${heldOut.id}: MAE ${fewShot.all.mae.toFixed(3)} (${decision.admitted ? 'container' : 'separate model'})`);
      return {
        ablation: options.ablation,
        order,
        orderKind,
        kappa,
        ...(kappaScale ? { kappaScale } : {}),
        curriculum,
        gate: coupler.decisions,
        visits,
        validationMae,
        zeroShot,
        fewShot: { ...fewShot, admitted: decision.admitted, ...regularisation },
        ...(extractor ? { extractorLoss: { first: extractor.losses[0]!, last: extractor.losses.at(-1)! } } : {}),
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      await adapted.dispose();
    }
  } finally {
    await container.dispose();
    await coupler.disposeSeparate();
  }
}

/**
 * The no-reordering control: the natural order, unless it equals the curriculum order (then the ablation
 * would repeat the full run); then a seeded shuffle that differs from the curriculum order.
 */
export function controlOrder(natural: readonly string[], curriculum: readonly string[], seed: number | string): { order: string[]; orderKind: 'natural' | 'shuffled' } {
  const same = (a: readonly string[]): boolean => a.every((id, i) => id === curriculum[i]);
  if (!same(natural) || natural.length < 2) return { order: [...natural], orderKind: 'natural' };
  const rng = createRng('synevo-control-order', seed);
  for (;;) {
    const order = [...natural];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    if (!same(order)) return { order, orderKind: 'shuffled' };
  }
}
