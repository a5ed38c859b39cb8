/**
 * What every AD-NEv level is run with (pipeline.ts for one channel, shared-subspaces.ts for a dataset): the
 * context, the one genome repair, the cache that trains each (feature subset, genome) pair once on the engine
 * pool, and one level's resumable ask/tell run with its own store under `<runDir>/<channel>/<level>`.
 */
import { join } from 'node:path';
import { createRng } from '../../core/rng.js';
import { invariant, ModelevoError } from '../../core/errors.js';
import { openRun } from '../../runs/open-run.js';
import { runLoop, type LoopProgress } from '../../evolve/loop.js';
import type { BaseParams, Strategy } from '../../evolve/strategy.js';
import type { GaParams } from '../../evolve/strategies/elitist-ga.js';
import { makeWindows } from '../../tasks/anomaly/series.js';
import type { EnginePool } from './pool.js';
import type { EngineJob } from './jobs.js';
import type { ConvAutoencoderGenome, ModelWeights } from './conv-autoencoder.js';
import type { AdNevConfig } from './config.js';
import type { PreparedChannel } from './channel.js';
import { ensembleFitness, type FeatureProfile, type MemberErrors } from './fitness.js';
import { enforceBottleneck, repairArchitecture, type Subspaces } from './operators.js';

export interface Trained {
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

export function trainedOrThrow(value: Trained | { failed: string } | undefined, what: string): Trained {
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

export const errorsOf = (value: Trained | { failed: string } | undefined, features: readonly number[]): MemberErrors | undefined =>
  value && !('failed' in value) ? { features, featureErrors: value.featureErrors } : undefined;

/** the ensemble fitness with member `index` replaced by `replacement` (NaN when it failed) */
export function fitnessWith(profile: FeatureProfile, members: readonly MemberErrors[], index: number, replacement: MemberErrors | undefined): number {
  if (!replacement) return NaN;
  return ensembleFitness(profile, members.map((m, i) => (i === index ? replacement : m)));
}
