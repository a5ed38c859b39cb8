/**
 * Kinship-greedy driver (kinship.md §5): foundations are the configured models; each child is a SLERP of
 * its two parents with the paper notebook's recipe (base = the higher-scoring parent, layer-wise `t`
 * schedules for attention and MLP, 0.5 elsewhere), merged in memory. Kinship (PCC of deltas from the
 * base model) is computed for exactly the pairs the strategy asks for. Children are rebuilt from their
 * parents after a restart (`parentsOf`).
 */
import { z } from 'zod';
import { ModelevoError } from '../../core/errors.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { computeKinshipWithKernels } from '../../kinship/compute-pool.js';
import { runMerge } from '../../merge/index.js';
import {
  kinshipGreedy,
  kinshipNeeded,
  recordKinship,
  type KinshipGreedyCandidate,
  type KinshipGreedyParams,
  type KinshipGreedyState,
} from '../strategies/kinship-greedy.js';
import type { Driver, DriverContext } from './driver.js';

export const kinshipGreedyOptions = {
  k: z.number().int().min(2).default(3),
  variant: z.enum(['kinship', 'greedy', 'random']).default('kinship'),
  exploration_pool: z.enum(['all', 'recent']).default('all'),
  stop_at_kinship: z.number().nullable().default(null),
  max_generations: z.number().int().min(1).default(5),
};
type KinshipGreedyConfig = z.output<z.ZodObject<typeof kinshipGreedyOptions>>;

/** SLERP recipe of the kinship paper's notebook; `first` is the base of the interpolation. */
export function kinshipSlerpRecipe(first: string, second: string): Record<string, unknown> {
  return {
    merge_method: 'slerp',
    base_model: first,
    models: [{ model: first }, { model: second }],
    parameters: {
      t: [
        { filter: 'self_attn', value: [0, 0.5, 0.3, 0.7, 1] },
        { filter: 'mlp', value: [1, 0.5, 0.7, 0.3, 0] },
        { value: 0.5 },
      ],
    },
    dtype: 'float32',
  };
}

export function kinshipGreedyDriver(context: DriverContext<KinshipGreedyConfig>): Driver<KinshipGreedyParams, KinshipGreedyState, KinshipGreedyCandidate> {
  const strategy = context.strategy;
  if (!context.config.base_model) {
    throw new ModelevoError('CONFIG_INVALID', 'kinshipGreedyDriver: kinship-greedy measures kinship as deltas from base_model, and the config has none', { hint: 'set base_model in the evolve config' });
  }
  const base = context.models.get(context.config.base_model)!;
  const params: KinshipGreedyParams = {
    objective: context.objective,
    foundations: context.config.models,
    k: strategy.k,
    variant: strategy.variant,
    explorationPool: strategy.exploration_pool,
    stopAtKinship: strategy.stop_at_kinship,
    maxGenerations: strategy.max_generations,
    maxEvaluations: context.config.budget,
  };
  const children = new Map<string, Checkpoint>();

  async function model(id: string): Promise<Checkpoint> {
    const given = context.models.get(id) ?? children.get(id);
    if (given) return given;
    const parents = context.recordOf(id)?.parents;
    if (parents?.length !== 2) {
      throw new ModelevoError('STRATEGY_FAILED', `kinship-greedy: the run records no two parents for model '${id}' (expected 2, got ${parents?.length ?? 'none'})`, {
        hint: 'the run store is incomplete; start a new --run-dir',
      });
    }
    const child = await mergeChild(parents[0]!, parents[1]!);
    children.set(id, child);
    return child;
  }

  async function mergeChild(first: string, second: string): Promise<Checkpoint> {
    const models = new Map(context.models);
    models.set(first, await model(first));
    models.set(second, await model(second));
    const result = await runMerge(kinshipSlerpRecipe(first, second), undefined, { inMemory: true, models, cwd: context.cwd, progress: 'none' });
    return result.checkpoint!;
  }

  return {
    strategy: kinshipGreedy,
    params,
    keyOf: (c) => c.id,
    async materialise(candidate) {
      if (candidate.kind === 'foundation') return { checkpoint: await model(candidate.id) };
      const [first, second] = candidate.parents;
      const child = await mergeChild(first, second);
      children.set(candidate.id, child);
      return { checkpoint: child, recipe: kinshipSlerpRecipe(first, second), parents: [first, second], parentCheckpoints: [await model(first), await model(second)] };
    },
    async beforeAsk(state) {
      const pairs = kinshipNeeded(params, state);
      const entries: { a: string; b: string; value: number }[] = [];
      for (const [a, b] of pairs) {
        // on the calling thread's wasm kernels: a pair at a time, no worker start-up per call
        const result = await computeKinshipWithKernels(base, [await model(a), await model(b)], { metrics: ['pcc'], labels: [a, b], threads: 1 });
        entries.push({ a, b, value: result.matrices.pcc![0]![1]! });
      }
      return recordKinship(state, entries);
    },
    bestCandidate: (state) => kinshipGreedy.best(state) && { candidate: kinshipGreedy.best(state)!.genome, fitness: kinshipGreedy.best(state)!.fitness },
    describe: (c) => c.id,
    close: () => children.clear(),
  };
}
