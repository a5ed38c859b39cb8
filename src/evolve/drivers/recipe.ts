/**
 * Recipe drivers: strategies whose genome is a real vector decoded into a mergekit config — CMA-ES and
 * random search over the mergekit-evolve genome (evolutionary-merging.md §1), and AnyFit's grid walk over
 * task-arithmetic coefficients (§3). Each candidate is merged in memory from the opened input models.
 */
import { z } from 'zod';
import { runMerge } from '../../merge/index.js';
import { createRng } from '../../core/rng.js';
import type { ConfigIssue } from '../../core/errors.js';
import { decodeGenome, geneNames, genomeShape, initialGenome, validateGenomeDefinition, type GenomeDefinition } from '../genome.js';
import { cmaEs, evaluationPoint, type CmaEsParams, type CmaEsState } from '../strategies/cma-es.js';
import { gridGreedy, type GridGreedyParams, type GridGreedyState } from '../strategies/grid-greedy.js';
import { randomSearch, type RandomSearchParams, type RandomSearchState } from '../strategies/random-search.js';
import type { Driver, DriverContext, Materialised, RunSettings } from './driver.js';

/** The mergekit-evolve genome block of cma-es and random configs. */
export const genomeSchema = z.strictObject({
  merge_method: z.enum(['linear', 'task_arithmetic', 'ties', 'dare_ties', 'slerp']),
  layer_granularity: z.number().int().min(0).default(0),
  filters: z.array(z.string()).default([]),
  smooth: z.boolean().default(false),
  allow_negative_weights: z.boolean().default(false),
  normalize: z.boolean().optional(),
  dtype: z.enum(['float32', 'float16', 'bfloat16']).default('float32'),
});
export type GenomeConfig = z.output<typeof genomeSchema>;

export const cmaEsOptions = {
  genome: genomeSchema,
  sigma0: z.number().positive().default(1 / 6),
  population: z.number().int().min(2).optional(),
  random_init: z.boolean().default(false),
  restarts: z.enum(['none', 'ipop']).default('none'),
};
export const randomOptions = { genome: genomeSchema, batch: z.number().int().min(1).default(4), low: z.number().default(0), high: z.number().default(1) };
export const gridGreedyOptions = {
  /** AnyFit: task_arithmetic over the models' residuals with coefficients α_i */
  start: z.array(z.number()).optional(),
  step: z.number().positive().default(0.1),
  low: z.number().default(0),
  high: z.number().default(2),
};
type CmaEsConfig = z.output<z.ZodObject<typeof cmaEsOptions>>;
type RandomConfig = z.output<z.ZodObject<typeof randomOptions>>;
type GridGreedyConfig = z.output<z.ZodObject<typeof gridGreedyOptions>>;

/** merge methods of the genome that need base_model */
export function checkGenomeBase(genome: GenomeConfig, run: RunSettings): ConfigIssue[] {
  if (['ties', 'dare_ties', 'task_arithmetic'].includes(genome.merge_method) && !run.base_model) {
    return [{ path: ['base_model'], message: `${genome.merge_method} needs base_model` }];
  }
  return [];
}

type RecipeContext<C> = DriverContext<C>;

function genomeDefinition(context: RecipeContext<unknown>, genome: GenomeConfig): GenomeDefinition {
  const def: GenomeDefinition = {
    models: context.config.models,
    mergeMethod: genome.merge_method,
    ...(context.config.base_model ? { baseModel: context.config.base_model } : {}),
    numLayers: context.numLayers(),
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

async function mergeRecipe(context: RecipeContext<unknown>, recipe: unknown, parents: readonly string[]): Promise<Materialised> {
  const result = await runMerge(recipe, undefined, { inMemory: true, models: context.models, cwd: context.cwd, progress: 'none' });
  const parentCheckpoints = parents.map((ref) => context.models.get(ref)).filter((c): c is NonNullable<typeof c> => c !== undefined);
  return { checkpoint: result.checkpoint!, recipe, parents, ...(parentCheckpoints.length === parents.length ? { parentCheckpoints } : {}) };
}

const formatGenome = (genome: readonly number[]): string => `[${genome.map((g) => g.toFixed(3)).join(', ')}]`;

export function cmaEsDriver(context: RecipeContext<CmaEsConfig>): Driver<CmaEsParams, CmaEsState, number[]> {
  const strategy = context.strategy;
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
    recipeOf: (genome) => ({ recipe: decodeGenome(def, evaluationPoint(params, genome)), parents: def.models }),
    bestCandidate: (state) => cmaEs.best(state) && { candidate: cmaEs.best(state)!.genome, fitness: cmaEs.best(state)!.fitness },
    describe: (genome) => `${def.mergeMethod} genome ${formatGenome(genome)}`,
    close: () => undefined,
  };
}

export function randomDriver(context: RecipeContext<RandomConfig>): Driver<RandomSearchParams, RandomSearchState, number[]> {
  const strategy = context.strategy;
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
    recipeOf: (genome) => ({ recipe: decodeGenome(def, genome), parents: def.models }),
    bestCandidate: (state) => (state.best ? { candidate: state.best.genome, fitness: state.best.fitness } : undefined),
    describe: (genome) => `${def.mergeMethod} genome ${formatGenome(genome)}`,
    close: () => undefined,
  };
}

/** AnyFit residual synthesis: W_base + Σ α_i (W_i − W_base) = task_arithmetic, λ = 1, no normalisation. */
export function anyFitRecipe(config: RunSettings, coefficients: readonly number[]): Record<string, unknown> {
  return {
    merge_method: 'task_arithmetic',
    base_model: config.base_model,
    models: config.models.map((model, i) => ({ model, parameters: { weight: coefficients[i]! } })),
    parameters: { normalize: false, lambda: 1 },
    dtype: 'float32',
  };
}

export function gridGreedyDriver(context: RecipeContext<GridGreedyConfig>): Driver<GridGreedyParams, GridGreedyState, number[]> {
  const strategy = context.strategy;
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
    recipeOf: (alphas) => ({ recipe: anyFitRecipe(context.config, alphas), parents: context.config.models }),
    bestCandidate: (state) => gridGreedy.best(state) && { candidate: gridGreedy.best(state)!.genome, fitness: gridGreedy.best(state)!.fitness },
    describe: (alphas) => `task arithmetic α = ${formatGenome(alphas)}`,
    close: () => undefined,
  };
}
