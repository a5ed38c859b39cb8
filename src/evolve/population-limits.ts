/**
 * Up-front limits on a run's population (issue #17 item 1): a population larger than the budget could never
 * be told, and one whose candidates would not fit in the JS heap would run out of memory minutes later with a
 * native stack trace. Both are refused before anything is created, with the computed sizes.
 */
import { getHeapStatistics } from 'node:v8';
import { ConfigError } from '../core/errors.js';
import { formatBytes } from '../io/size.js';
import type { EvolveConfig } from './config.js';
import { evolveBinding } from './registry.js';

/** Bytes one candidate costs while a step is in flight: the genome (sampled, scaled and stored copies as JS
 * doubles in arrays), its key string and its record, rounded up. */
export function bytesPerCandidate(genomeLength: number): number {
  return 64 * genomeLength + 512;
}

/** The share of the heap a step's candidates may take; the rest is models, kernels and the store. */
const HEAP_SHARE = 0.25;

/** The explicitly configured population (the option the registry names: CMA-ES `population`, random search `batch`), if any. */
function configuredPopulation(config: EvolveConfig): { size: number; key: string } | undefined {
  const key = evolveBinding(config.strategy).populationKey;
  const size = key === undefined ? undefined : (config.strategy as unknown as Record<string, unknown>)[key];
  return typeof size === 'number' ? { size, key: key! } : undefined;
}

/** Refuses a population larger than the budget (instant: the config alone decides). */
export function checkPopulation(config: EvolveConfig): void {
  const population = configuredPopulation(config);
  if (population && population.size > config.budget) {
    throw new ConfigError([
      {
        path: ['strategy', population.key],
        message: `a population of ${population.size} is larger than the budget of ${config.budget} evaluations: not one step could be completed`,
      },
    ], { hint: `lower strategy.${population.key} to at most ${config.budget}, or raise the budget` });
  }
}

/** Refuses a population whose step would not fit in memory, given the driver's genome length. */
export function checkPopulationMemory(config: EvolveConfig, params: unknown, heapLimit = getHeapStatistics().heap_size_limit): void {
  const p = params as { populationSize?: number; batchSize?: number; x0?: readonly number[]; lowerBounds?: readonly number[] };
  const population = p.populationSize ?? p.batchSize;
  const genomeLength = p.x0?.length ?? p.lowerBounds?.length;
  if (population === undefined || genomeLength === undefined) return;
  const needed = population * bytesPerCandidate(genomeLength);
  const allowed = heapLimit * HEAP_SHARE;
  if (needed > allowed) {
    const key = evolveBinding(config.strategy).populationKey ?? 'population';
    throw new ConfigError([
      {
        path: ['strategy', key],
        message: `a population of ${population} candidates of ${genomeLength} genes needs about ${formatBytes(needed)} per step, more than the ${formatBytes(allowed)} this process may use (a quarter of the ${formatBytes(heapLimit)} heap)`,
      },
    ], { hint: `lower strategy.${key} to at most ${Math.floor(allowed / bytesPerCandidate(genomeLength))}` });
  }
}
