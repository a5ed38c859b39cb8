/**
 * AD-NEv level 1 with one feature-subspace set for a whole dataset (`subspaceScope: dataset`): the paper's
 * appendix lists one final set per dataset (ad-nev.md §1.1), shared by all its channels. The GA is the
 * per-channel one (same operators, seeded with k copies of all features); a candidate's fitness is the mean
 * over channels of that channel's label-free ensemble fitness (fitness.ts), each member trained on each
 * channel. Its run store lives under `<runDir>/_dataset/level1` (resumable like every level).
 */
import { ModelevoError } from '../../core/errors.js';
import { BASELINE_GENOME } from './conv-autoencoder.js';
import type { GaParams, GaState } from '../../evolve/strategies/elitist-ga.js';
import { elitistGa } from '../../evolve/strategies/elitist-ga.js';
import { ensembleFitness, featureProfile, type MemberErrors } from './fitness.js';
import { crossoverSubspaces, mutateSubspaces, randomSubspaces, type Subspaces } from './operators.js';
import { fitGenome, gaParams, runLevel, TrainingCache, type PipelineContext } from './level-run.js';

export interface SharedSubspaces {
  readonly subspaces: Subspaces;
  /** per channel (same order as the contexts): the cache holding that channel's trained members */
  readonly caches: TrainingCache[];
}

export async function evolveSharedSubspaces(contexts: readonly PipelineContext[]): Promise<SharedSubspaces> {
  const first = contexts[0];
  if (!first) throw new ModelevoError('VALUE_INVALID', 'evolveSharedSubspaces: no channels', { hint: 'pass at least one channel' });
  const { config } = first;
  const width = first.channel.features;
  const different = contexts.find((c) => c.channel.features !== width);
  if (different) {
    throw new ModelevoError('SHAPE_MISMATCH', `subspaceScope 'dataset' needs one feature count: channel ${first.channel.id} has ${width}, ${different.channel.id} has ${different.channel.features}`, {
      hint: "use subspaceScope 'channel' for channels with different columns",
    });
  }
  const caches = contexts.map((c) => new TrainingCache(c));
  const profiles = contexts.map((c) => featureProfile(c.channel.fit, c.channel.heldOut, config.fitnessNormalisation));
  const memberGenome = (features: readonly number[]) => fitGenome(BASELINE_GENOME, features.length, config);
  const allFeatures = Array.from({ length: width }, (_, i) => i);
  const fitness = (sets: Subspaces): number => {
    let sum = 0;
    for (let c = 0; c < contexts.length; c++) {
      const members = sets.map((set) => {
        const trained = caches[c]!.get(set, memberGenome(set));
        return trained && !('failed' in trained) ? { features: set, featureErrors: trained.featureErrors } : undefined;
      });
      if (!members.every((m) => m !== undefined)) return NaN;
      sum += ensembleFitness(profiles[c]!, members as MemberErrors[]);
    }
    return sum / contexts.length;
  };
  const strategy = elitistGa<Subspaces>('ad_nev_subspaces_dataset', 'AD-NEv level 1: one feature-subspace set per dataset', {
    seeds: [Array.from({ length: config.members }, () => allFeatures)],
    random: (rng) => randomSubspaces(rng, width, config.members),
    mutate: (rng, g) => mutateSubspaces(rng, g, width),
    crossover: crossoverSubspaces,
    repair: (g) => g,
  });
  const datasetContext: PipelineContext = { ...first, channel: { ...first.channel, id: '_dataset' } };
  const state = await runLevel<GaParams, GaState<Subspaces>, Subspaces>(
    datasetContext,
    'level1',
    strategy,
    gaParams(config.level1),
    'level1',
    async (candidates) => {
      const pairs = candidates.flatMap((sets) => sets.map((features) => ({ features, genome: memberGenome(features) })));
      // channel by channel: each ensure fills the engine pool with that channel's candidates
      for (const cache of caches) await cache.ensure(pairs);
    },
    fitness,
  );
  return { subspaces: state.population[0]!.genome, caches };
}
