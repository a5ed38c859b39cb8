/** Builds the fitness source an evolve config names (built-in LM loss, external command, or JS module). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { parseModelReference } from '../../io/open.js';
import { tokenizerFolderFor } from '../../eval/tokenizer.js';
import { fitnessObjective, type EvolveConfig } from '../config.js';
import { commandFitness } from './command.js';
import type { FitnessSource } from './fitness.js';
import { lmFitness } from './lm.js';
import { moduleFitness } from './module.js';

export async function buildFitness(config: Pick<EvolveConfig, 'fitness' | 'models' | 'base_model'>, cwd: string, options: { threads?: number } = {}): Promise<FitnessSource> {
  const fitness = config.fitness;
  if ('builtin' in fitness) {
    const donor = config.base_model ?? config.models[0];
    const folder = donor ? tokenizerFolderFor(resolve(cwd, parseModelReference(donor, { cwd }).base)) : undefined;
    if (!folder || !existsSync(join(folder, 'tokenizer.json'))) {
      throw new ConfigError([{ path: ['base_model'], message: 'the built-in fitness needs tokenizer.json in the base model folder (or the first model\'s)' }]);
    }
    const texts = Object.fromEntries(Object.entries(fitness.builtin.texts).map(([name, path]) => [name, resolve(cwd, path)]));
    return lmFitness({ texts, window: fitness.builtin.window, windows: fitness.builtin.windows, offset: fitness.builtin.offset, tokenizerFolder: folder, ...options });
  }
  if ('command' in fitness) {
    return commandFitness({ command: fitness.command.run, objective: fitnessObjective(fitness), timeoutSeconds: fitness.command.timeout, cwd });
  }
  return moduleFitness(resolve(cwd, fitness.module.path), fitnessObjective(fitness));
}
