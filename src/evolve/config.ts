/**
 * The evolution run configuration (`modelevo evolve <evolve.yml>`): which models, which strategy, which
 * fitness on which development data, and the budget. One zod schema; keys snake_case like mergekit's.
 * Test data has no place in this schema: strategies only ever see the development split.
 */
import { readConfigFile } from '../core/config-file.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseWithSchema } from '../core/schema.js';
import { TEST_WINDOWS } from './fitness/splits.js';

const objective = z.enum(['min', 'max']);

const builtinFitness = z.strictObject({
  /** name → text file; the score is the mean loss over these texts (lower is better) */
  texts: z.record(z.string(), z.string()).refine((t) => Object.keys(t).length > 0, { error: 'give at least one text' }),
  window: z.number().int().min(2).default(256),
  windows: z.number().int().min(1).default(8),
  /** first development window; windows [0, offset) are the test split and are never evaluated */
  offset: z.number().int().min(0).default(32),
});

export const fitnessSchema = z.union([
  z.strictObject({ builtin: builtinFitness }),
  z.strictObject({ command: z.strictObject({ run: z.string(), timeout: z.number().positive().default(600), objective: objective.default('max') }) }),
  z.strictObject({ module: z.strictObject({ path: z.string(), objective: objective.default('max') }) }),
]);

const genomeSchema = z.strictObject({
  merge_method: z.enum(['linear', 'task_arithmetic', 'ties', 'dare_ties', 'slerp']),
  layer_granularity: z.number().int().min(0).default(0),
  filters: z.array(z.string()).default([]),
  smooth: z.boolean().default(false),
  allow_negative_weights: z.boolean().default(false),
  normalize: z.boolean().optional(),
  dtype: z.enum(['float32', 'float16', 'bfloat16']).default('float32'),
});

const strategySchema = z.discriminatedUnion('name', [
  z.strictObject({
    name: z.literal('cma-es'),
    genome: genomeSchema,
    sigma0: z.number().positive().default(1 / 6),
    population: z.number().int().min(2).optional(),
    random_init: z.boolean().default(false),
    restarts: z.enum(['none', 'ipop']).default('none'),
  }),
  z.strictObject({ name: z.literal('random'), genome: genomeSchema, batch: z.number().int().min(1).default(4), low: z.number().default(0), high: z.number().default(1) }),
  z.strictObject({
    name: z.literal('grid-greedy'),
    /** AnyFit: task_arithmetic over the models' residuals with coefficients α_i */
    start: z.array(z.number()).optional(),
    step: z.number().positive().default(0.1),
    low: z.number().default(0),
    high: z.number().default(2),
  }),
  z.strictObject({
    name: z.literal('evolver'),
    mode: z.enum(['standalone', 'merger']).default('merger'),
    merger: z.enum(['linear', 'task_arithmetic', 'ties']).default('linear'),
    /** λ of a task_arithmetic / ties merger */
    merger_lambda: z.number().default(1),
    mutation: z.enum(['interpolate', 'rand/1', 'current-to-best/1']).default('interpolate'),
    F: z.number().default(0.5),
    CR: z.number().min(0).max(1).default(0.5),
    jrand: z.boolean().default(false),
    accept: z.enum(['>', '>=']).default('>'),
    generations: z.number().int().min(1).default(3),
    /** tensors left out of evolution (regular expression), e.g. heads */
    exclude: z.string().optional(),
  }),
  z.strictObject({
    name: z.literal('kinship-greedy'),
    k: z.number().int().min(2).default(3),
    variant: z.enum(['kinship', 'greedy', 'random']).default('kinship'),
    exploration_pool: z.enum(['all', 'recent']).default('all'),
    stop_at_kinship: z.number().nullable().default(null),
    max_generations: z.number().int().min(1).default(5),
  }),
  z.strictObject({
    name: z.literal('lorahub'),
    adapters: z.array(z.string()).min(2),
    sigma0: z.number().positive().default(0.5),
    bound: z.number().positive().default(1.5),
    l1: z.number().min(0).default(0.05),
  }),
]);

export const evolveConfigSchema = z.strictObject({
  name: z.string().default('evolve'),
  seed: z.number().int().default(0),
  /** maximum number of fitness evaluations */
  budget: z.number().int().min(1).default(40),
  base_model: z.string().optional(),
  models: z.array(z.string()).default([]),
  strategy: strategySchema,
  fitness: fitnessSchema,
  /** store each individual's PCC kinship to its parents (needs base_model) */
  record_kinship: z.boolean().default(true),
  /** tensor dtype of the written best model */
  out_dtype: z.enum(['float32', 'float16', 'bfloat16']).optional(),
});

export type EvolveConfig = z.output<typeof evolveConfigSchema>;
export type StrategyConfig = EvolveConfig['strategy'];
export type FitnessConfig = EvolveConfig['fitness'];
export type GenomeConfig = z.output<typeof genomeSchema>;

function checkCombination(config: EvolveConfig, source?: string): void {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const s = config.strategy;
  if (s.name !== 'lorahub' && config.models.length < 2) issues.push({ path: ['models'], message: `strategy ${s.name} needs at least 2 models` });
  if (s.name === 'lorahub' && !config.base_model) issues.push({ path: ['base_model'], message: 'lorahub needs the base model the adapters were trained on' });
  if (s.name === 'lorahub' && fitnessObjective(config.fitness) !== 'min') {
    issues.push({ path: ['fitness'], message: 'lorahub minimises a loss (plus its L1 term): use the built-in loss or a fitness with objective: min' });
  }
  if (s.name === 'grid-greedy' && !config.base_model) {
    issues.push({ path: ['base_model'], message: 'grid-greedy (task arithmetic over residuals) needs base_model' });
  }
  if ((s.name === 'cma-es' || s.name === 'random') && ['ties', 'dare_ties', 'task_arithmetic'].includes(s.genome.merge_method) && !config.base_model) {
    issues.push({ path: ['base_model'], message: `${s.genome.merge_method} needs base_model` });
  }
  if (s.name === 'grid-greedy' && s.start && s.start.length !== config.models.length) {
    issues.push({ path: ['strategy', 'start'], message: `expected ${config.models.length} start coefficients (one per model), got ${s.start.length}` });
  }
  if ('builtin' in config.fitness && config.fitness.builtin.offset < TEST_WINDOWS) {
    issues.push({
      path: ['fitness', 'builtin', 'offset'],
      message: `windows [0, ${TEST_WINDOWS}) are the test split; the development offset must be ≥ ${TEST_WINDOWS}, got ${config.fitness.builtin.offset}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, { source });
}

export function parseEvolveConfig(input: unknown, source?: string): EvolveConfig {
  const config = parseWithSchema(evolveConfigSchema, input, source, 'see docs/evolve.md for every key of an evolution config');
  checkCombination(config, source);
  return config;
}

export function loadEvolveConfig(path: string): EvolveConfig {
  const text = readConfigFile(path, 'evolve config');
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new ConfigError([{ path: [], message: `cannot read YAML: ${(error as Error).message}` }], { source: path, cause: error });
  }
  return parseEvolveConfig(data, path);
}

/** The fitness objective a config implies: built-in loss is minimised; others say so. */
export function fitnessObjective(fitness: FitnessConfig): 'min' | 'max' {
  if ('builtin' in fitness) return 'min';
  if ('command' in fitness) return fitness.command.objective;
  return fitness.module.objective;
}
