/** The continual-learning strategies by name (one literal map; the name union comes from config.ts). */
import { UnknownNameError } from '../core/errors.js';
import { CONTINUAL_METHODS, type ContinualMethod } from './config.js';
import type { ContinualStrategy } from './strategy.js';
import { createFsDgpmStrategy } from './strategies/fs-dgpm.js';
import { createGpmStrategy } from './strategies/gpm.js';
import { createNaiveStrategy } from './strategies/naive.js';
import { createSgpStrategy } from './strategies/sgp.js';

export const CONTINUAL_STRATEGIES: Readonly<Record<ContinualMethod, { title: string; paper: string; create: (layers: number) => ContinualStrategy }>> = {
  naive: { title: 'Naive fine-tuning (plain SGD)', paper: '-', create: createNaiveStrategy },
  gpm: { title: 'Gradient Projection Memory', paper: 'https://arxiv.org/abs/2103.09762', create: createGpmStrategy },
  sgp: { title: 'Scaled Gradient Projection', paper: 'https://arxiv.org/abs/2302.01386', create: createSgpStrategy },
  'fs-dgpm': { title: 'Flattening Sharpness for Dynamic Gradient Projection Memory', paper: 'https://arxiv.org/abs/2110.04593', create: createFsDgpmStrategy },
};

export function createStrategy(name: string, layers: number): ContinualStrategy {
  if (!(CONTINUAL_METHODS as readonly string[]).includes(name)) throw new UnknownNameError('continual method', name, CONTINUAL_METHODS);
  return CONTINUAL_STRATEGIES[name as ContinualMethod].create(layers);
}
