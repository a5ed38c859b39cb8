import type { CmaEsParams } from '../../src/evolve/strategies/cma-es.js';

export const crashParams: CmaEsParams = { objective: 'min', x0: [1, 1, 1, 1], sigma0: 0.5, maxEvaluations: 120 };
export const sphere = (x: readonly number[]): number => x.reduce((a, v) => a + v * v, 0);
