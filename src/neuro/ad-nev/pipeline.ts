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
import { ModelevoError } from '../../core/errors.js';
import { BASELINE_GENOME, initialWeights, planAutoencoder, type ConvAutoencoderGenome } from './conv-autoencoder.js';
import { makeWindows } from '../../tasks/anomaly/series.js';
import type { Member } from './ensemble.js';
import { ensembleFitness, featureProfile, type FeatureProfile, type MemberErrors } from './fitness.js';
import { elitistGa, type GaParams, type GaState } from '../../evolve/strategies/elitist-ga.js';
import { crossoverArchitecture, crossoverSubspaces, mutateArchitecture, mutateSubspaces, randomArchitecture, randomSubspaces, type Subspaces } from './operators.js';
import { perturbWeights, replayLineage, weightTuning, type PerturbationGenome, type WeightTuningParams, type WeightTuningState } from '../../evolve/strategies/weight-tuning.js';
import { errorsOf, fitGenome, fitnessWith, gaParams, runLevel, trainedOrThrow, TrainingCache, type PipelineContext } from './level-run.js';

export type LevelName = 'untrained' | 'baseline' | 'level1' | 'level2' | 'level3';

export interface LevelSnapshot {
  readonly level: LevelName;
  readonly members: Member[];
  /** the level's label-free ensemble fitness on the held-out part (fitness.ts; lower is better) */
  readonly fitness: number;
}

/** The members of one level with their per-feature held-out errors and the ensemble fitness they give. */
interface Ensemble {
  readonly members: readonly Member[];
  readonly errors: readonly MemberErrors[];
  readonly fitness: number;
}

/** One level's proposal for member i: the replacement member and its held-out per-feature errors. */
interface Proposal {
  readonly member: Member;
  readonly featureErrors: Float64Array;
}

/**
 * Accepts the proposals member by member, in order, each only if the ensemble fitness does not get worse
 * (members can overlap, so improvements found separately need not add up).
 */
function acceptMemberwise(profile: FeatureProfile, ensemble: Ensemble, proposals: readonly (Proposal | undefined)[]): Ensemble {
  const members = [...ensemble.members];
  let errors = ensemble.errors;
  let fitness = ensemble.fitness;
  proposals.forEach((proposal, i) => {
    if (!proposal) return;
    const features = members[i]!.features;
    const trial = fitnessWith(profile, errors, i, { features, featureErrors: proposal.featureErrors });
    if (!(trial <= fitness)) return;
    members[i] = proposal.member;
    errors = errors.map((m, j) => (j === i ? { features, featureErrors: proposal.featureErrors } : m));
    fitness = trial;
  });
  return { members, errors, fitness };
}

/** untrained: the baseline architecture at its seeded initial weights (exposes what training adds, §6) */
async function untrainedSnapshot(context: PipelineContext, profile: FeatureProfile, baseGenome: ConvAutoencoderGenome): Promise<LevelSnapshot> {
  const { channel, config } = context;
  const allFeatures = Array.from({ length: channel.features }, (_, i) => i);
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
  return { level: 'untrained', members: [{ features: allFeatures, genome: baseGenome, weights: untrainedWeights }], fitness: ensembleFitness(profile, [{ features: allFeatures, featureErrors: untrainedScore!.featureErrors[0]! }]) };
}

/** level 1 — feature subspaces, each member the baseline architecture (or the dataset's shared subspaces) */
async function level1Subspaces(context: PipelineContext, cache: TrainingCache, profile: FeatureProfile): Promise<Ensemble> {
  const { channel, config } = context;
  const allFeatures = Array.from({ length: channel.features }, (_, i) => i);
  const memberGenome = (features: readonly number[]): ConvAutoencoderGenome => fitGenome(BASELINE_GENOME, features.length, config);
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
  const members: Member[] = bestSets.map((features) => ({ features, genome: memberGenome(features), weights: trainedOrThrow(cache.get(features, memberGenome(features)), `member ${features}`).weights }));
  const errors: MemberErrors[] = bestSets.map((features) => errorsOf(cache.get(features, memberGenome(features)), features)!);
  return { members, errors, fitness: ensembleFitness(profile, errors) };
}

/**
 * level 2 — every member's architecture evolved at the same time against the level-1 ensemble (the member
 * GAs fill the engine pool together), then accepted member by member
 */
async function level2Architectures(context: PipelineContext, cache: TrainingCache, profile: FeatureProfile, level1: Ensemble): Promise<Ensemble> {
  const { config } = context;
  const limits = { maxChannels: config.level2.maxChannels, maxLayers: config.level2.maxLayers };
  const architectures = await Promise.all(
    level1.members.map(async (member, i): Promise<Proposal> => {
      const width = member.features.length;
      const strategy = elitistGa<ConvAutoencoderGenome>(`ad_nev_architecture_${i}`, 'AD-NEv level 2: autoencoder architecture', {
        seeds: [member.genome],
        random: (rng) => randomArchitecture(rng, limits),
        mutate: (rng, g) => mutateArchitecture(rng, g, limits),
        crossover: crossoverArchitecture,
        repair: (g) => fitGenome(g, width, config),
      });
      const state = await runLevel<GaParams, GaState<ConvAutoencoderGenome>, ConvAutoencoderGenome>(
        context,
        `level2-member${i}`,
        strategy,
        gaParams(config.level2),
        `level2-${i}`,
        (candidates) => cache.ensure(candidates.map((genome) => ({ features: member.features, genome }))),
        (genome) => fitnessWith(profile, level1.errors, i, errorsOf(cache.get(member.features, genome), member.features)),
      );
      const genome = state.population[0]!.genome;
      await cache.ensure([{ features: member.features, genome }]);
      const trained = trainedOrThrow(cache.get(member.features, genome), `member ${i} level 2`);
      return { member: { features: member.features, genome, weights: trained.weights }, featureErrors: trained.featureErrors };
    }),
  );
  return acceptMemberwise(profile, level1, architectures);
}

/**
 * final re-training: every reported trained snapshot (all but 'untrained') gets the same longer training, so
 * that levels are compared at equal training length; returns the re-trained level-2 ensemble level 3 tunes
 */
async function retrainSnapshots(context: PipelineContext, cache: TrainingCache, profile: FeatureProfile, snapshots: LevelSnapshot[], level2: Ensemble): Promise<Ensemble> {
  const { finalEpochs } = context.config;
  let retrainedLevel2 = level2;
  for (let s = 1; s < snapshots.length; s++) {
    const snapshot = snapshots[s]!;
    await cache.ensure(snapshot.members.map((m) => ({ features: m.features, genome: m.genome })), finalEpochs);
    const trained = snapshot.members.map((m) => trainedOrThrow(cache.get(m.features, m.genome, finalEpochs), `${snapshot.level} final re-training`));
    const errors = snapshot.members.map((m, i) => ({ features: m.features, featureErrors: trained[i]!.featureErrors }));
    const retrained: LevelSnapshot = { level: snapshot.level, members: snapshot.members.map((m, i) => ({ ...m, weights: trained[i]!.weights })), fitness: ensembleFitness(profile, errors) };
    snapshots[s] = retrained;
    if (retrained.level === 'level2') retrainedLevel2 = { members: [...retrained.members], errors, fitness: retrained.fitness };
  }
  return retrainedLevel2;
}

/**
 * level 3 — gradient-free fine-tuning of every member's weights at the same time against the level-2
 * ensemble, then accepted member by member as in level 2
 */
async function level3Weights(context: PipelineContext, profile: FeatureProfile, level2: Ensemble): Promise<Ensemble> {
  const { channel, config } = context;
  const tuned = await Promise.all(
    level2.members.map(async (member, i): Promise<Proposal | undefined> => {
      const params: WeightTuningParams = {
        objective: 'min',
        populationSize: config.level3.population,
        iterations: config.level3.iterations,
        mutationProbability: config.level3.mutationProbability,
        step: config.level3.step,
        multiplicative: config.level3.multiplicative,
        parentFitness: level2.fitness,
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
        (candidate) => fitnessWith(profile, level2.errors, i, candidateErrors.get(candidate.seed)),
      );
      if (state.accepted.length === 0) return undefined;
      const weights = replayLineage(member.weights, state.accepted, params);
      const [rescored] = await context.pool.run([{ kind: 'score', genome: member.genome, weights, score: [validation] }]);
      if (!rescored!.ok) {
        throw new ModelevoError('STRATEGY_FAILED', `ensemble member ${i}, level 3: rescoring the tuned weights failed: ${rescored!.error}`, { hint: 'rerun with --debug for the worker\'s stack', details: { member: i, error: rescored!.error } });
      }
      return { member: { ...member, weights }, featureErrors: rescored!.featureErrors[0]! };
    }),
  );
  return acceptMemberwise(profile, level2, tuned);
}

export async function evolveChannel(context: PipelineContext): Promise<LevelSnapshot[]> {
  const { channel, config } = context;
  const cache = context.cache ?? new TrainingCache(context);
  const profile = featureProfile(channel.fit, channel.heldOut, config.fitnessNormalisation);
  const allFeatures = Array.from({ length: channel.features }, (_, i) => i);
  // every network of the run passes one repair: valid for its width, and within the optional bottleneck
  const baseGenome = fitGenome(BASELINE_GENOME, channel.features, config);
  const snapshots: LevelSnapshot[] = [await untrainedSnapshot(context, profile, baseGenome)];

  await cache.ensure([{ features: allFeatures, genome: baseGenome }]);
  const baseline = trainedOrThrow(cache.get(allFeatures, baseGenome), `channel ${channel.id} baseline`);
  snapshots.push({ level: 'baseline', members: [{ features: allFeatures, genome: baseGenome, weights: baseline.weights }], fitness: ensembleFitness(profile, [{ features: allFeatures, featureErrors: baseline.featureErrors }]) });

  const level1 = await level1Subspaces(context, cache, profile);
  snapshots.push({ level: 'level1', members: [...level1.members], fitness: level1.fitness });
  let level2 = await level2Architectures(context, cache, profile, level1);
  snapshots.push({ level: 'level2', members: [...level2.members], fitness: level2.fitness });
  if (config.finalEpochs > 0) level2 = await retrainSnapshots(context, cache, profile, snapshots, level2);
  const level3 = await level3Weights(context, profile, level2);
  snapshots.push({ level: 'level3', members: [...level3.members], fitness: level3.fitness });
  return snapshots;
}
