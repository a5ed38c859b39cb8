/**
 * Evolver driver (evolver.md §3–§4): individuals are whole models; offspring are built tensor by tensor
 * from their recipe (`offspringTensor`) into in-memory checkpoints. Offspring weights are never stored:
 * an individual is a deterministic function of its recipe and its parents, so after a restart any
 * individual is rebuilt from the run record (`recipeOf`). Mode B scores the merge of the population with
 * the configured merger.
 */
import { isFloatDType, numelOf } from '../../core/dtype.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { MemoryCheckpoint, type MemoryTensor } from '../../io/memory-checkpoint.js';
import { runMerge } from '../../merge/index.js';
import type { EvolveConfig } from '../config.js';
import { offspringTensor, type OffspringRecipe } from '../strategies/evolver-ops.js';
import { evolver, type EvolverCandidate, type EvolverParams, type EvolverState } from '../strategies/evolver.js';
import type { Objective } from '../strategy.js';
import type { Driver, Materialised, ModelMap } from './driver.js';

export interface EvolverContext {
  readonly config: EvolveConfig;
  readonly models: ModelMap;
  readonly objective: Objective;
  readonly cwd: string;
  /** the recipe of an offspring id from the run record (for rebuilding after a restart) */
  recipeOf(id: string): OffspringRecipe | undefined;
}

export function evolverDriver(context: EvolverContext): Driver<EvolverParams, EvolverState, EvolverCandidate> {
  const strategy = context.config.strategy;
  if (strategy.name !== 'evolver') throw new Error('evolverDriver needs an evolver strategy config');
  const first = context.models.get(context.config.models[0]!)!;
  const exclude = strategy.exclude ? new RegExp(strategy.exclude) : undefined;
  const tensorNames = first.names();
  const evolved = new Set(tensorNames.filter((n) => isFloatDType(first.info(n).dtype) && !exclude?.test(n)));
  const offsets = new Map<string, number>();
  let genomeLength = 0;
  for (const name of tensorNames) {
    if (!evolved.has(name)) continue;
    offsets.set(name, genomeLength);
    genomeLength += numelOf(first.info(name).shape);
  }
  const params: EvolverParams = {
    objective: context.objective,
    models: context.config.models,
    generations: strategy.generations,
    mode: strategy.mode,
    mutation: strategy.mutation,
    F: strategy.F,
    CR: strategy.CR,
    jrand: strategy.jrand,
    genomeLength,
    accept: strategy.accept,
    runSeed: context.config.seed,
  };
  const cache = new Map<string, Checkpoint>();

  function individual(id: string): Checkpoint {
    const given = context.models.get(id);
    if (given) return given;
    const cached = cache.get(id);
    if (cached) return cached;
    const recipe = context.recipeOf(id);
    if (!recipe) throw new Error(`no recipe recorded for individual '${id}'`);
    const built = buildOffspring(id, recipe);
    cache.set(id, built);
    return built;
  }

  function buildOffspring(id: string, recipe: OffspringRecipe): Checkpoint {
    const parent = individual(recipe.parent);
    const partners = recipe.partners.map(individual);
    const tensors = new Map<string, MemoryTensor>();
    for (const name of tensorNames) {
      const info = parent.info(name);
      if (!evolved.has(name)) {
        tensors.set(name, { dtype: info.dtype, shape: info.shape, data: parent.readBytes(name) });
        continue;
      }
      const child = offspringTensor(recipe, name, parent.readFloat32(name), partners.map((p) => p.readFloat32(name)), offsets.get(name)!);
      tensors.set(name, { dtype: 'F32', shape: info.shape, data: new Uint8Array(child.buffer) });
    }
    return new MemoryCheckpoint(tensors, { source: `<evolver ${id}>`, config: parent.config });
  }

  /** drops cached offspring that are no longer in the population or in flight */
  function prune(keep: readonly string[]): void {
    for (const id of [...cache.keys()]) if (!keep.includes(id)) cache.delete(id);
  }

  function mergerRecipe(population: readonly string[]): Record<string, unknown> {
    const merger = strategy.name === 'evolver' ? strategy.merger : 'linear';
    const lambda = strategy.name === 'evolver' ? strategy.merger_lambda : 1;
    return {
      merge_method: merger,
      ...(merger === 'linear' ? {} : { base_model: context.config.base_model, parameters: { lambda } }),
      models: population.map((model) => ({ model, parameters: { weight: 1 } })),
      dtype: 'float32',
    };
  }

  async function merged(population: readonly string[]): Promise<Checkpoint> {
    const models = new Map(context.models);
    for (const id of population) models.set(id, individual(id));
    const result = await runMerge(mergerRecipe(population), undefined, { inMemory: true, models, cwd: context.cwd, progress: 'none' });
    return result.checkpoint!;
  }

  return {
    strategy: evolver,
    params,
    keyOf: (c) => (c.kind === 'merged' ? `merge[${c.population.join(',')}]` : c.id),
    async materialise(candidate): Promise<Materialised> {
      if (candidate.kind === 'individual') return { checkpoint: individual(candidate.id) };
      if (candidate.kind === 'merged') return { checkpoint: await merged(candidate.population), parents: candidate.population };
      const child = buildOffspring(candidate.id, candidate.recipe);
      cache.set(candidate.id, child);
      const parents = [candidate.recipe.parent, ...candidate.recipe.partners];
      prune([...candidate.population, ...parents]);
      const parentCheckpoints = parents.map(individual);
      if (params.mode === 'standalone') return { checkpoint: child, recipe: candidate.recipe, parents, parentCheckpoints };
      return { checkpoint: await merged(candidate.population), recipe: candidate.recipe, parents, parentCheckpoints };
    },
    bestCandidate: (state) => evolver.best(state) && { candidate: evolver.best(state)!.genome, fitness: evolver.best(state)!.fitness },
    describe: (c) => (c.kind === 'merged' ? `${params.mode === 'merger' ? 'merge of' : ''} population [${c.population.join(', ')}]` : c.id),
    close: () => cache.clear(),
  };
}
