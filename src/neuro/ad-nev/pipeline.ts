/**
 * The AD-NEv pipeline for one channel (Faber et al., AD-NEv, arXiv 2303.11358; ad-nev.md §1, §3.1):
 * baseline (one hand-configured autoencoder on all features) → level 1 (feature subspaces of a bagging
 * ensemble) → level 2 (architecture of each member) → level 3 (gradient-free weight fine-tuning of each
 * member). Each level is an ask/tell strategy driven by the resumable run loop with its own run store under
 * `<runDir>/<channel>/`. Candidates of one ask are trained in parallel on the engine pool.
 *
 * Fitness proxy (label-free, §3.1 `fitness: recon`): reconstruction error on the last 20% of the training
 * series, held out from fitting, as one ensemble fitness for every level (fitness.ts): per-feature errors
 * normalised by the feature's variance on the fitting part, constant features excluded, each feature taking
 * the smallest error among members that see it, unseen features their naive error. Level 1 is seeded with
 * the baseline; levels 2 and 3 score a candidate for member i as the previous level's ensemble with member i
 * replaced (all members evolve at the same time, so the pool stays full) and then accept each member's result
 * only if the ensemble fitness does not get worse: the best fitness never gets worse from level to level. An untrained (randomly initialised) baseline is scored too (ad-nev.md §6). Test data never
 * enter fitness, scalers or thresholds; thresholds are calibrated on the held-out span at full resolution.
 * Optional final re-training (`finalEpochs`, the paper's 70 epochs): after level 2, the baseline's, level 1's
 * and level 2's members are trained afresh for that many epochs and level 3 tunes the re-trained level 2.
 */
import { join } from 'node:path';
import { createRng } from '../../core/rng.js';
import { invariant, ModelevoError } from '../../core/errors.js';
import { openRun } from '../../runs/open-run.js';
import { runLoop, type LoopProgress } from '../../evolve/loop.js';
import type { BaseParams, Strategy } from '../../evolve/strategy.js';
import type { EnginePool } from './pool.js';
import type { EngineJob } from './jobs.js';
import { BASELINE_GENOME, initialWeights, planAutoencoder, type ConvAutoencoderGenome, type ModelWeights } from './conv-autoencoder.js';
import { applyScaler, fitScaler, makeWindows, medianDownsample, sliceRows, splitTail, type Scaler, type Series } from '../../tasks/anomaly/series.js';
import type { AdNevConfig } from './config.js';
import type { Member } from './ensemble.js';
import { ensembleFitness, featureProfile, type FeatureProfile, type MemberErrors } from './fitness.js';
import { elitistGa, type GaParams, type GaState } from '../../evolve/strategies/elitist-ga.js';
import {
  crossoverArchitecture,
  crossoverSubspaces,
  mutateArchitecture,
  mutateSubspaces,
  randomArchitecture,
  randomSubspaces,
  enforceBottleneck,
  repairArchitecture,
  type Subspaces,
} from './operators.js';
import { perturbWeights, replayLineage, weightTuning, type PerturbationGenome, type WeightTuningParams, type WeightTuningState } from '../../evolve/strategies/weight-tuning.js';

export interface PreparedChannel {
  readonly id: string;
  readonly names: readonly string[];
  readonly features: number;
  readonly scaler: Scaler;
  /** scaled, downsampled training rows used for fitting */
  readonly fit: Series;
  /** scaled, downsampled last part of the training series (label-free fitness) */
  readonly heldOut: Series;
  /**
   * scaled, **full-resolution** rows of the held-out time span (the raw rows the downsampled `heldOut` came
   * from): thresholds are calibrated on its scores, computed exactly like the test's (same resolution, same
   * windows). Why not the downsampled training series: a window there spans ×`downsample` more raw steps and
   * the median removed one-step spikes, so thresholds fitted on it flagged 20–50% of test steps (issue #13).
   * Not used for fitting weights; it is the time span of the label-free fitness.
   */
  readonly calibration: Series;
}

export function prepareChannel(id: string, rawTrain: Series, config: AdNevConfig): PreparedChannel {
  const scaler = fitScaler(rawTrain, config.scaler);
  const scaled = applyScaler(rawTrain, scaler);
  const train = medianDownsample(scaled, config.downsample);
  const { fit, heldOut } = splitTail(train, config.validationFraction);
  // downsampled row r is the median of raw rows [r·factor, (r + 1)·factor): the held-out span starts at fit.rows·factor
  const calibration = sliceRows(scaled, Math.min(scaled.rows, fit.rows * config.downsample), scaled.rows);
  const window = BASELINE_GENOME.window;
  if (fit.rows < window || heldOut.rows < window || calibration.rows < window) {
    throw new ModelevoError('VALUE_INVALID', `channel ${id}: ${rawTrain.rows} training rows leave ${fit.rows} for fitting and ${heldOut.rows} held out after ×${config.downsample} downsampling and a ${config.validationFraction} hold-out; each needs at least the window of ${window} time steps`, {
      hint: `provide at least ${Math.ceil((window * config.downsample) / Math.min(config.validationFraction, 1 - config.validationFraction))} training rows`,
      details: { rows: rawTrain.rows, fit: fit.rows, heldOut: heldOut.rows, window },
    });
  }
  return { id, names: rawTrain.names, features: rawTrain.columns, scaler, fit, heldOut, calibration };
}

export type LevelName = 'untrained' | 'baseline' | 'level1' | 'level2' | 'level3';

export interface LevelSnapshot {
  readonly level: LevelName;
  readonly members: Member[];
  /** the level's label-free ensemble fitness on the held-out part (fitness.ts; lower is better) */
  readonly fitness: number;
}

interface Trained {
  readonly weights: ModelWeights;
  readonly validationError: number;
  readonly featureErrors: Float64Array;
}

export interface PipelineContext {
  readonly channel: PreparedChannel;
  readonly config: AdNevConfig;
  readonly pool: EnginePool;
  readonly runDir: string;
  readonly log?: (message: string) => void;
  /**
   * one subspace set chosen for the whole dataset (shared-subspaces.ts, `subspaceScope: dataset`): level 1
   * takes it instead of evolving its own; `cache` then holds the members already trained on this channel
   */
  readonly sharedSubspaces?: Subspaces;
  readonly cache?: TrainingCache;
}

/** the one repair every network of a run passes: valid for its width, and within the optional bottleneck */
export function fitGenome(genome: ConvAutoencoderGenome, width: number, config: AdNevConfig): ConvAutoencoderGenome {
  const valid = repairArchitecture(genome, width);
  return config.bottleneck === undefined ? valid : enforceBottleneck(valid, width, config.bottleneck);
}

const subsetKey = (features: readonly number[]): string => features.join(',');

/** Trains (or takes from the cache) every (subset, genome) pair in one pool batch. */
export class TrainingCache {
  private readonly entries = new Map<string, Trained | { failed: string }>();
  constructor(private readonly context: PipelineContext) {}

  /** `epochs` enters the key only when it differs from the search's epochs (final re-training) */
  key(features: readonly number[], genome: ConvAutoencoderGenome, epochs = this.context.config.epochs): string {
    const base = `${subsetKey(features)}|${JSON.stringify(genome)}`;
    return epochs === this.context.config.epochs ? base : `${base}|epochs ${epochs}`;
  }

  get(features: readonly number[], genome: ConvAutoencoderGenome, epochs?: number): Trained | { failed: string } | undefined {
    return this.entries.get(this.key(features, genome, epochs));
  }

  async ensure(pairs: readonly { features: readonly number[]; genome: ConvAutoencoderGenome }[], epochs = this.context.config.epochs): Promise<void> {
    const { channel, config, pool } = this.context;
    const missing = new Map<string, { features: readonly number[]; genome: ConvAutoencoderGenome }>();
    for (const pair of pairs) {
      const key = this.key(pair.features, pair.genome, epochs);
      if (!this.entries.has(key)) missing.set(key, pair);
    }
    const work = [...missing.entries()];
    const jobs: (EngineJob | undefined)[] = work.map(([key, { features, genome }]) => {
      try {
        return {
          kind: 'train-score',
          genome,
          train: makeWindows(channel.fit, features, genome.window, `channel ${channel.id} training part`),
          score: [makeWindows(channel.heldOut, features, genome.window, `channel ${channel.id} held-out part`)],
          // the seed depends only on what is trained, so every level reuses identical results
          options: { epochs, batchSize: config.batchSize, seed: `${config.seed}|${channel.id}|${key}` },
          returnWeights: true,
        };
      } catch (error) {
        this.entries.set(key, { failed: (error as Error).message });
        return undefined;
      }
    });
    const runnable = jobs.filter((j): j is EngineJob => j !== undefined);
    const results = await pool.run(runnable);
    let r = 0;
    jobs.forEach((job, i) => {
      if (!job) return;
      const result = results[r++]!;
      const key = work[i]![0];
      if (!result.ok || !result.weights) {
        this.entries.set(key, { failed: result.ok ? 'no weights returned' : result.error });
        return;
      }
      const scores = result.scores[0]!;
      this.entries.set(key, { weights: result.weights, validationError: scores.reduce((s, x) => s + x, 0) / scores.length, featureErrors: result.featureErrors[0]! });
    });
  }
}

function trainedOrThrow(value: Trained | { failed: string } | undefined, what: string): Trained {
  // the level before stores every trained member, so a missing one is a bug, a failed one is reported
  invariant(value, () => `${what}: not trained`);
  if ('failed' in value) {
    throw new ModelevoError('STRATEGY_FAILED', `${what}: training failed: ${value.failed}`, { hint: 'rerun with --debug for the worker\'s stack; a NaN loss usually means a learning rate too high for the data', details: { what, error: value.failed } });
  }
  return value;
}

export async function runLevel<P extends BaseParams, S, G>(
  context: PipelineContext,
  name: string,
  strategy: Strategy<P, S, G>,
  params: P,
  seedKey: string,
  prepare: (candidates: G[]) => Promise<void>,
  fitnessOf: (candidate: G) => number,
): Promise<S> {
  const dir = join(context.runDir, context.channel.id, name);
  const seed = createRng(context.config.seed, context.channel.id, seedKey).nextUint32();
  // a level already run (finished or interrupted) in this folder is continued: the pipeline resumes level by level
  const { store } = openRun(dir, { id: `${context.channel.id}-${name}`, kind: `ad-nev-${name}`, seed, config: { params, config: context.config }, resume: 'if-present', continueFinished: true });
  try {
    const result = await runLoop({
      strategy,
      params,
      seed,
      store,
      // the whole ask is trained together on the engine pool, then each candidate is scored
      evaluateBatch: (candidates) => {
        const prepared = prepare([...candidates]);
        return candidates.map(async (candidate) => {
          await prepared;
          return { fitness: fitnessOf(candidate) };
        });
      },
      keyOf: (candidate) => JSON.stringify(candidate).slice(0, 200),
      onProgress: (p: LoopProgress) => context.log?.(`${context.channel.id} ${name} step ${p.step}: best ${p.best?.toPrecision(5)} (${p.evaluations} evaluations)`),
    });
    store.setStatus('finished');
    return result.state;
  } finally {
    store.close();
  }
}

export const gaParams = (ga: { population: number; offspring: number; generations: number }): GaParams => ({
  objective: 'min',
  populationSize: ga.population,
  offspring: ga.offspring,
  generations: ga.generations,
  tournamentSize: 2,
  crossoverRate: 0.5,
});

const errorsOf = (value: Trained | { failed: string } | undefined, features: readonly number[]): MemberErrors | undefined =>
  value && !('failed' in value) ? { features, featureErrors: value.featureErrors } : undefined;

/** the ensemble fitness with member `index` replaced by `replacement` (NaN when it failed) */
function fitnessWith(profile: FeatureProfile, members: readonly MemberErrors[], index: number, replacement: MemberErrors | undefined): number {
  if (!replacement) return NaN;
  return ensembleFitness(profile, members.map((m, i) => (i === index ? replacement : m)));
}

export async function evolveChannel(context: PipelineContext): Promise<LevelSnapshot[]> {
  const { channel, config } = context;
  const cache = context.cache ?? new TrainingCache(context);
  const profile = featureProfile(channel.fit, channel.heldOut, config.fitnessNormalisation);
  const allFeatures = Array.from({ length: channel.features }, (_, i) => i);
  // every network of the run passes one repair: valid for its width, and within the optional bottleneck
  const fit = (genome: ConvAutoencoderGenome, width: number): ConvAutoencoderGenome => fitGenome(genome, width, config);
  const baseGenome = fit(BASELINE_GENOME, channel.features);
  const snapshots: LevelSnapshot[] = [];

  // untrained: the baseline architecture at its seeded initial weights (exposes what training adds, §6)
  const plan = planAutoencoder(baseGenome, channel.features);
  if ('invalid' in plan) {
    throw new ModelevoError('CONFIG_INVALID', `channel ${channel.id}: the baseline autoencoder cannot be built for its ${channel.features} features: ${plan.invalid}`, {
      hint: 'check the baseline genome (window, layer sizes) against the channel\'s features',
      details: { channel: channel.id, reason: plan.invalid },
    });
  }
  const untrainedWeights = initialWeights(plan, `${config.seed}|${channel.id}|untrained`);
  const [untrainedScore] = await context.pool.run([{ kind: 'score', genome: baseGenome, weights: untrainedWeights, score: [makeWindows(channel.heldOut, allFeatures, baseGenome.window, `channel ${channel.id} held-out part`)] }]);
  if (!untrainedScore!.ok) {
    throw new ModelevoError('STRATEGY_FAILED', `channel ${channel.id}: scoring the untrained baseline failed: ${untrainedScore!.error}`, { hint: 'rerun with --debug for the worker\'s stack', details: { channel: channel.id, error: untrainedScore!.error } });
  }
  snapshots.push({ level: 'untrained', members: [{ features: allFeatures, genome: baseGenome, weights: untrainedWeights }], fitness: ensembleFitness(profile, [{ features: allFeatures, featureErrors: untrainedScore!.featureErrors[0]! }]) });

  await cache.ensure([{ features: allFeatures, genome: baseGenome }]);
  const baseline = trainedOrThrow(cache.get(allFeatures, baseGenome), `channel ${channel.id} baseline`);
  snapshots.push({ level: 'baseline', members: [{ features: allFeatures, genome: baseGenome, weights: baseline.weights }], fitness: ensembleFitness(profile, [{ features: allFeatures, featureErrors: baseline.featureErrors }]) });

  // level 1 — feature subspaces, each member the baseline architecture
  const memberGenome = (features: readonly number[]): ConvAutoencoderGenome => fit(BASELINE_GENOME, features.length);
  const subspaceFitness = (sets: Subspaces): number => {
    const members = sets.map((set) => errorsOf(cache.get(set, memberGenome(set)), set));
    return members.every((m) => m !== undefined) ? ensembleFitness(profile, members as MemberErrors[]) : NaN;
  };
  const level1 = elitistGa<Subspaces>('ad_nev_subspaces', 'AD-NEv level 1: feature subspaces', {
    // seeded with k copies of the baseline (every member sees every feature, so it equals the baseline):
    // level 1 can then only improve on the baseline's fitness, and mutations start from it
    seeds: [Array.from({ length: config.members }, () => allFeatures)],
    random: (rng) => randomSubspaces(rng, channel.features, config.members),
    mutate: (rng, g) => mutateSubspaces(rng, g, channel.features),
    crossover: crossoverSubspaces,
    repair: (g) => g,
  });
  const bestSets =
    context.sharedSubspaces ??
    (
      await runLevel<GaParams, GaState<Subspaces>, Subspaces>(
        context,
        'level1',
        level1,
        gaParams(config.level1),
        'level1',
        (candidates) => cache.ensure(candidates.flatMap((sets) => sets.map((features) => ({ features, genome: memberGenome(features) })))),
        subspaceFitness,
      )
    ).population[0]!.genome;
  await cache.ensure(bestSets.map((features) => ({ features, genome: memberGenome(features) })));
  let members: Member[] = bestSets.map((features) => ({ features, genome: memberGenome(features), weights: trainedOrThrow(cache.get(features, memberGenome(features)), `member ${features}`).weights }));
  let memberErrors: MemberErrors[] = bestSets.map((features) => errorsOf(cache.get(features, memberGenome(features)), features)!);
  let fitness = ensembleFitness(profile, memberErrors);
  snapshots.push({ level: 'level1', members, fitness });

  // level 2 — every member's architecture evolved at the same time against the level-1 ensemble (the member
  // GAs fill the engine pool together), then accepted member by member only if the ensemble fitness does not
  // get worse (members can overlap, so improvements found separately need not add up)
  const limits = { maxChannels: config.level2.maxChannels, maxLayers: config.level2.maxLayers };
  const level1Errors = memberErrors;
  const architectures = await Promise.all(
    members.map(async (member, i) => {
      const width = member.features.length;
      const strategy = elitistGa<ConvAutoencoderGenome>(`ad_nev_architecture_${i}`, 'AD-NEv level 2: autoencoder architecture', {
        seeds: [member.genome],
        random: (rng) => randomArchitecture(rng, limits),
        mutate: (rng, g) => mutateArchitecture(rng, g, limits),
        crossover: crossoverArchitecture,
        repair: (g) => fit(g, width),
      });
      const state = await runLevel<GaParams, GaState<ConvAutoencoderGenome>, ConvAutoencoderGenome>(
        context,
        `level2-member${i}`,
        strategy,
        gaParams(config.level2),
        `level2-${i}`,
        (candidates) => cache.ensure(candidates.map((genome) => ({ features: member.features, genome }))),
        (genome) => fitnessWith(profile, level1Errors, i, errorsOf(cache.get(member.features, genome), member.features)),
      );
      const genome = state.population[0]!.genome;
      await cache.ensure([{ features: member.features, genome }]);
      return { genome, trained: trainedOrThrow(cache.get(member.features, genome), `member ${i} level 2`) };
    }),
  );
  members = [...members];
  architectures.forEach(({ genome, trained }, i) => {
    const features = members[i]!.features;
    const trial = fitnessWith(profile, memberErrors, i, { features, featureErrors: trained.featureErrors });
    if (!(trial <= fitness)) return;
    members[i] = { features, genome, weights: trained.weights };
    memberErrors = memberErrors.map((m, j) => (j === i ? { features, featureErrors: trained.featureErrors } : m));
    fitness = trial;
  });
  snapshots.push({ level: 'level2', members: [...members], fitness });

  // final re-training: every reported trained snapshot gets the same longer training, so that levels are
  // compared at equal training length; level 3 then tunes the re-trained level-2 members
  if (config.finalEpochs > 0) {
    const retrain = async (snapshot: LevelSnapshot): Promise<{ snapshot: LevelSnapshot; errors: MemberErrors[] }> => {
      await cache.ensure(snapshot.members.map((m) => ({ features: m.features, genome: m.genome })), config.finalEpochs);
      const trained = snapshot.members.map((m) => trainedOrThrow(cache.get(m.features, m.genome, config.finalEpochs), `${snapshot.level} final re-training`));
      const errors = snapshot.members.map((m, i) => ({ features: m.features, featureErrors: trained[i]!.featureErrors }));
      return { snapshot: { level: snapshot.level, members: snapshot.members.map((m, i) => ({ ...m, weights: trained[i]!.weights })), fitness: ensembleFitness(profile, errors) }, errors };
    };
    for (let s = 1; s < snapshots.length; s++) {
      const { snapshot, errors } = await retrain(snapshots[s]!);
      snapshots[s] = snapshot;
      if (snapshot.level === 'level2') {
        members = [...snapshot.members];
        memberErrors = errors;
        fitness = snapshot.fitness;
      }
    }
  }

  // level 3 — gradient-free fine-tuning of every member's weights at the same time against the level-2
  // ensemble, then accepted member by member as in level 2
  const level2Errors = memberErrors;
  const level2Fitness = fitness;
  const tuned = await Promise.all(
    members.map(async (member, i) => {
      const params: WeightTuningParams = {
        objective: 'min',
        populationSize: config.level3.population,
        iterations: config.level3.iterations,
        mutationProbability: config.level3.mutationProbability,
        step: config.level3.step,
        multiplicative: config.level3.multiplicative,
        parentFitness: level2Fitness,
      };
      const validation = makeWindows(channel.heldOut, member.features, member.genome.window);
      const candidateErrors = new Map<number, MemberErrors | undefined>();
      let parent = { lineage: '', weights: member.weights };
      const state = await runLevel<WeightTuningParams, WeightTuningState, PerturbationGenome>(
        context,
        `level3-member${i}`,
        weightTuning,
        params,
        `level3-${i}`,
        async (candidates) => {
          const lineage = candidates[0]?.lineage ?? [];
          if (parent.lineage !== lineage.join(',')) parent = { lineage: lineage.join(','), weights: replayLineage(member.weights, lineage, params) };
          const results = await context.pool.run(candidates.map((c) => ({ kind: 'score', genome: member.genome, weights: perturbWeights(parent.weights, c.seed, params), score: [validation] })));
          candidateErrors.clear();
          results.forEach((r, k) => candidateErrors.set(candidates[k]!.seed, r.ok ? { features: member.features, featureErrors: r.featureErrors[0]! } : undefined));
        },
        (candidate) => fitnessWith(profile, level2Errors, i, candidateErrors.get(candidate.seed)),
      );
      if (state.accepted.length === 0) return undefined;
      const weights = replayLineage(member.weights, state.accepted, params);
      const [rescored] = await context.pool.run([{ kind: 'score', genome: member.genome, weights, score: [validation] }]);
      if (!rescored!.ok) {
        throw new ModelevoError('STRATEGY_FAILED', `ensemble member ${i}, level 3: rescoring the tuned weights failed: ${rescored!.error}`, { hint: 'rerun with --debug for the worker\'s stack', details: { member: i, error: rescored!.error } });
      }
      return { weights, featureErrors: rescored!.featureErrors[0]! };
    }),
  );
  tuned.forEach((result, i) => {
    if (!result) return;
    const features = members[i]!.features;
    const trial = fitnessWith(profile, memberErrors, i, { features, featureErrors: result.featureErrors });
    if (!(trial <= fitness)) return;
    members[i] = { ...members[i]!, weights: result.weights };
    memberErrors = memberErrors.map((m, j) => (j === i ? { features, featureErrors: result.featureErrors } : m));
    fitness = trial;
  });
  snapshots.push({ level: 'level3', members: [...members], fitness });
  return snapshots;
}
