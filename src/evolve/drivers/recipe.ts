/**
 * Recipe drivers: strategies whose genome is a real vector decoded into a mergekit config — CMA-ES and
 * random search over the mergekit-evolve genome (evolutionary-merging.md §1), and AnyFit's grid walk over
 * task-arithmetic coefficients (§3). Each candidate is merged in memory from the opened input models.
 */
import { runMerge } from '../../merge/index.js';
import { createRng } from '../../core/rng.js';
import type { EvolveConfig, GenomeConfig } from '../config.js';
import { decodeGenome, geneNames, genomeShape, initialGenome, validateGenomeDefinition, type GenomeDefinition } from '../genome.js';
import { cmaEs, evaluationPoint, type CmaEsParams, type CmaEsState } from '../strategies/cma-es.js';
import { gridGreedy, type GridGreedyParams, type GridGreedyState } from '../strategies/grid-greedy.js';
import { randomSearch, type RandomSearchParams, type RandomSearchState } from '../strategies/random-search.js';
import type { Objective } from '../strategy.js';
import type { Driver, Materialised, ModelMap } from './driver.js';

export interface RecipeContext {
  readonly config: EvolveConfig;
  readonly models: ModelMap;
  readonly objective: Objective;
  readonly numLayers: number;
  readonly cwd: string;
}

function genomeDefinition(context: RecipeContext, genome: GenomeConfig): GenomeDefinition {
  const def: GenomeDefinition = {
    models: context.config.models,
    mergeMethod: genome.merge_method,
    ...(context.config.base_model ? { baseModel: context.config.base_model } : {}),
    numLayers: context.numLayers,
    layerGranularity: genome.layer_granularity,
    ...(genome.normalize === undefined ? {} : { normalize: genome.normalize }),
    allowNegativeWeights: genome.allow_negative_weights,
    filters: genome.filters,
    smooth: genome.smooth,
    dtype: genome.dtype,
  };
  validateGenomeDefinition(def);
  return def;
}

async function mergeRecipe(context: RecipeContext, recipe: unknown, parents: readonly string[]): Promise<Materialised> {
  const result = await runMerge(recipe, undefined, { inMemory: true, models: context.models, cwd: context.cwd, progress: 'none' });
  const parentCheckpoints = parents.map((ref) => context.models.get(ref)).filter((c): c is NonNullable<typeof c> => c !== undefined);
  return { checkpoint: result.checkpoint!, recipe, parents, ...(parentCheckpoints.length === parents.length ? { parentCheckpoints } : {}) };
}

const formatGenome = (genome: readonly number[]): string => `[${genome.map((g) => g.toFixed(3)).join(', ')}]`;

export function cmaEsDriver(context: RecipeContext): Driver<CmaEsParams, CmaEsState, number[]> {
  const strategy = context.config.strategy;
  if (strategy.name !== 'cma-es') throw new Error('cmaEsDriver needs a cma-es strategy config');
  const def = genomeDefinition(context, strategy.genome);
  const x0 = strategy.random_init
    ? (() => {
        const rng = createRng('cma-es-random-init', context.config.seed);
        return Array.from({ length: genomeShape(def).length }, () => rng.next());
      })()
    : initialGenome(def);
  const params: CmaEsParams = {
    objective: context.objective,
    x0,
    sigma0: strategy.sigma0,
    maxEvaluations: context.config.budget,
    restarts: strategy.restarts,
    ...(strategy.population ? { populationSize: strategy.population } : {}),
  };
  return {
    strategy: cmaEs,
    params,
    geneNames: geneNames(def),
    keyOf: formatGenome,
    materialise: (genome) => mergeRecipe(context, decodeGenome(def, evaluationPoint(params, genome)), def.models),
    bestCandidate: (state) => cmaEs.best(state) && { candidate: cmaEs.best(state)!.genome, fitness: cmaEs.best(state)!.fitness },
    describe: (genome) => `${def.mergeMethod} genome ${formatGenome(genome)}`,
    close: () => undefined,
  };
}

export function randomDriver(context: RecipeContext): Driver<RandomSearchParams, RandomSearchState, number[]> {
  const strategy = context.config.strategy;
  if (strategy.name !== 'random') throw new Error('randomDriver needs a random strategy config');
  const def = genomeDefinition(context, strategy.genome);
  const n = genomeShape(def).length;
  const params: RandomSearchParams = {
    objective: context.objective,
    lowerBounds: new Array(n).fill(strategy.low),
    upperBounds: new Array(n).fill(strategy.high),
    batchSize: strategy.batch,
    maxEvaluations: context.config.budget,
  };
  return {
    strategy: randomSearch,
    params,
    geneNames: geneNames(def),
    keyOf: formatGenome,
    materialise: (genome) => mergeRecipe(context, decodeGenome(def, genome), def.models),
    bestCandidate: (state) => (state.best ? { candidate: state.best.genome, fitness: state.best.fitness } : undefined),
    describe: (genome) => `${def.mergeMethod} genome ${formatGenome(genome)}`,
    close: () => undefined,
  };
}

/** AnyFit residual synthesis: W_base + Σ α_i (W_i − W_base) = task_arithmetic, λ = 1, no normalisation. */
export function anyFitRecipe(config: EvolveConfig, coefficients: readonly number[]): Record<string, unknown> {
  return {
    merge_method: 'task_arithmetic',
    base_model: config.base_model,
    models: config.models.map((model, i) => ({ model, parameters: { weight: coefficients[i]! } })),
    parameters: { normalize: false, lambda: 1 },
    dtype: 'float32',
  };
}

export function gridGreedyDriver(context: RecipeContext): Driver<GridGreedyParams, GridGreedyState, number[]> {
  const strategy = context.config.strategy;
  if (strategy.name !== 'grid-greedy') throw new Error('gridGreedyDriver needs a grid-greedy strategy config');
  const n = context.config.models.length;
  const params: GridGreedyParams = {
    objective: context.objective,
    start: strategy.start ?? new Array(n).fill(0.5),
    step: strategy.step,
    lowerBounds: new Array(n).fill(strategy.low),
    upperBounds: new Array(n).fill(strategy.high),
    maxEvaluations: context.config.budget,
  };
  return {
    strategy: gridGreedy,
    params,
    geneNames: context.config.models.map((m) => `α ${m}`),
    keyOf: formatGenome,
    materialise: (alphas) => mergeRecipe(context, anyFitRecipe(context.config, alphas), context.config.models),
    bestCandidate: (state) => gridGreedy.best(state) && { candidate: gridGreedy.best(state)!.genome, fitness: gridGreedy.best(state)!.fitness },
    describe: (alphas) => `task arithmetic α = ${formatGenome(alphas)}`,
    close: () => undefined,
  };
}
