/** Naive fine-tuning: plain SGD task after task, no protection (the forgetting baseline, fs-dgpm.md §6). */
import type { Matrix } from 'ml-matrix';
import type { ContinualStrategy } from '../strategy.js';
import { sgdStep } from '../strategy.js';

export function createNaiveStrategy(layers: number): ContinualStrategy {
  return {
    name: 'naive',
    beginTask() {},
    trainStep(batch, ctx) {
      return sgdStep(ctx.net, batch, ctx.config.lr);
    },
    endTask() {},
    importances: () => Array.from({ length: layers }, () => []),
    bases: () => new Array<Matrix | null>(layers).fill(null),
    basisSizes: () => new Array<number>(layers).fill(0),
    dispose() {},
  };
}
