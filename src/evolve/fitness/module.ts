/**
 * JS-module fitness: a module exporting `evaluate(candidate)` returning a number or `{score, ...metrics}`
 * (sync or async). The candidate is the in-memory checkpoint (plus `dir` when `needsFolder` is exported as
 * true). Thrown errors and non-numeric results become failed evaluations.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelevoError } from '../../core/errors.js';
import type { Objective } from '../strategy.js';
import { type CandidateModel, type FitnessResult, type FitnessSource, failed } from './fitness.js';

interface FitnessModule {
  evaluate?: (candidate: CandidateModel) => unknown;
  needsFolder?: boolean;
}

export async function moduleFitness(path: string, objective: Objective): Promise<FitnessSource> {
  let loaded: FitnessModule;
  try {
    loaded = (await import(pathToFileURL(resolve(path)).href)) as FitnessModule;
  } catch (error) {
    throw new ModelevoError('CONFIG_INVALID', `could not load the fitness module ${path}: ${(error as Error).message}`, {
      hint: 'pass a path to an ES module that exports `evaluate(candidate)`',
      cause: error,
    });
  }
  const evaluate = loaded.evaluate;
  if (typeof evaluate !== 'function') {
    throw new ModelevoError('CONFIG_INVALID', `fitness module ${path} does not export a function named evaluate`, {
      hint: 'export async function evaluate(candidate) { return { score: ... } }',
    });
  }
  return {
    name: `module:${path}`,
    objective,
    needsFolder: loaded.needsFolder === true,
    async evaluate(candidate): Promise<FitnessResult> {
      try {
        const result = await evaluate(candidate);
        if (typeof result === 'number') return { score: result };
        if (result && typeof result === 'object' && typeof (result as { score?: unknown }).score === 'number') {
          const { score, ...rest } = result as Record<string, unknown>;
          const metrics = Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
          return { score: score as number, metrics };
        }
        return failed(`fitness module returned ${JSON.stringify(result)}, expected a number or {score: number}`);
      } catch (error) {
        return failed(`fitness module threw: ${(error as Error).message}`);
      }
    },
  };
}
