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
import { evolveBinding, strategyConfigSchema } from './registry.js';

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

const strategySchema = strategyConfigSchema();

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
export type { StrategyConfig } from './registry.js';
export type FitnessConfig = EvolveConfig['fitness'];

function checkCombination(config: EvolveConfig, source?: string): void {
  const issues: { path: (string | number)[]; message: string }[] = [];
  issues.push(...evolveBinding(config.strategy).check(config.strategy, { ...config, objective: fitnessObjective(config.fitness) }));
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
