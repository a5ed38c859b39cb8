/**
 * SynEVO cross-domain experiments (issue #7; synevo.md §3): builds the domain setup for a cross-temporal
 * split of one network (`time-of-day:K`, one period held out) or a cross-source split of the synthetic
 * generator (one source held out), runs SynEVO, the requested ablations (sharing one curriculum scoring) and
 * the joint / sequential GWN references, and returns every held-out metric.
 */
import { loadTrafficNetwork, type TrafficNetwork } from '../../tasks/traffic/csv-loader.js';
import { holdoutPeriod, periodGroups } from '../../tasks/traffic/domains.js';
import { concatenateSources, defaultSourceTransforms, DEFAULT_SYNTHETIC, generateSyntheticCity, type SourceTransform } from '../../tasks/traffic/synthetic.js';
import { STEPS_PER_DAY_5MIN } from '../../tasks/traffic/windows.js';
import { buildCurriculum, type CurriculumResult } from './group-scoring.js';
import { DEFAULT_SYNEVO, runSynevo, type SynevoAblation, type SynevoOptions, type SynevoResult } from './loop.js';
import { runReference, type ReferenceResult } from './reference-models.js';
import { buildDomainSetup, fewShotSlice, type DomainSetup } from './setup.js';

export interface CrossTemporalSpec {
  readonly kind: 'cross-temporal';
  readonly network: TrafficNetwork;
  readonly stepsPerDay: number;
  readonly periods: number;
  /** 'last' or a period index */
  readonly holdout: string;
}

export interface CrossSourceSpec {
  readonly kind: 'cross-source';
  readonly sources: number;
  readonly nodes: number;
  readonly days: number;
  readonly stepsPerDay: number;
  readonly seed: number;
  /** 'last' or a source index */
  readonly holdout: string;
}

export function crossTemporalFromDir(dir: string, periods = 4, holdout = 'last'): CrossTemporalSpec {
  return { kind: 'cross-temporal', network: loadTrafficNetwork(dir), stepsPerDay: STEPS_PER_DAY_5MIN, periods, holdout };
}

export function domainSetupOf(spec: CrossTemporalSpec | CrossSourceSpec): DomainSetup & { readonly transforms?: readonly SourceTransform[] } {
  if (spec.kind === 'cross-temporal') {
    const groups = periodGroups({ steps: spec.network.steps, stepsPerDay: spec.stepsPerDay, periods: spec.periods });
    return buildDomainSetup(spec.network, spec.stepsPerDay, groups, `p${holdoutPeriod(spec.holdout, spec.periods)}`);
  }
  const transforms = defaultSourceTransforms(spec.sources);
  const city = generateSyntheticCity({ ...DEFAULT_SYNTHETIC, nodes: spec.nodes, days: spec.days, stepsPerDay: spec.stepsPerDay, seed: spec.seed, sources: transforms });
  const { network, blocks } = concatenateSources(city.sources);
  // one group per source (the whole day is one period)
  const groups = periodGroups({ steps: network.steps, stepsPerDay: spec.stepsPerDay, periods: 1, sourceBlocks: blocks });
  return { ...buildDomainSetup(network, spec.stepsPerDay, groups, `s${holdoutPeriod(spec.holdout, spec.sources)}p0`), transforms };
}

export interface ComparisonOptions {
  readonly synevo: SynevoOptions;
  readonly ablations: readonly SynevoAblation[];
  /** joint and sequential GWN references */
  readonly references: boolean;
  /** constant weight decay of the references */
  readonly referenceWeightDecay: number;
}

export interface ComparisonResult {
  readonly heldOut: string;
  readonly groups: readonly { readonly id: string; readonly train: number; readonly val: number; readonly test: number }[];
  readonly synevo: readonly SynevoResult[];
  readonly references: readonly ReferenceResult[];
  readonly curriculumSeconds: number;
  readonly seconds: number;
}

export async function runComparison(setup: DomainSetup, options: ComparisonOptions, log: (line: string) => void = () => {}, reuse: { curriculum?: CurriculumResult } = {}): Promise<ComparisonResult> {
  const started = performance.now();
  const o = options.synevo;
  const curriculum = reuse.curriculum ?? await buildCurriculum(setup.prepared, setup.groups, fewShotSlice(setup.heldOut, o.fewShotFraction), { workers: o.workers, ...o.scoring, seed: o.seed, config: o.config }, log);
  log(`curriculum: bench ${curriculum.curriculum.bench}, order ${curriculum.curriculum.order.map((e) => `${e.group} (l ${e.distance.toFixed(3)})`).join(' → ')}, few-shot l ${curriculum.fewShotDistance.toFixed(3)}; ${curriculum.seconds.toFixed(0)} s`);
  const synevo: SynevoResult[] = [];
  for (const ablation of options.ablations) {
    log(`— SynEVO, ablation ${ablation}`);
    synevo.push(await runSynevo(setup, { ...o, ablation }, { curriculum }, log));
  }
  const references: ReferenceResult[] = [];
  if (options.references) {
    const reference = { seed: o.seed, config: o.config, learningRate: o.learningRate, clipNorm: o.clipNorm, batchSize: o.batchSize, weightDecay: options.referenceWeightDecay, totalSteps: o.cycles * setup.groups.length * o.stepsPerGroup, fewShotFraction: o.fewShotFraction, fewShotSteps: o.fewShotSteps, ...(o.workers === undefined ? {} : { workers: o.workers }) };
    for (const method of ['gwn-joint', 'gwn-sequential'] as const) references.push(await runReference(method, setup, reference, log));
  }
  return {
    heldOut: setup.heldOut.id,
    groups: [...setup.groups, setup.heldOut].map((g) => ({ id: g.id, train: g.train.length, val: g.val.length, test: g.test.length })),
    synevo,
    references,
    curriculumSeconds: curriculum.seconds,
    seconds: (performance.now() - started) / 1000,
  };
}

export { DEFAULT_SYNEVO };
