import type { RunStore } from '../../src/runs/store.js';
import { evaluateInOrder, runLoop } from '../../src/evolve/loop.js';
import { cmaEs, type CmaEsParams } from '../../src/evolve/strategies/cma-es.js';

export const crashParams: CmaEsParams = { objective: 'min', x0: [1, 1, 1, 1], sigma0: 0.5, maxEvaluations: 120 };
export const sphere = (x: readonly number[]): number => x.reduce((a, v) => a + v * v, 0);

/**
 * CMA-ES (seed 5, `crashParams`) minimising the sphere in `store`, as the crash test's reference, resumed and
 * child runs all do it; `beforeEvaluate` sees the 1-based number of each evaluation this call makes.
 */
export async function runSphereLoop(store: RunStore, beforeEvaluate?: (call: number) => void) {
  let calls = 0;
  const result = await runLoop({
    strategy: cmaEs,
    params: crashParams,
    seed: 5,
    store,
    keyOf: (x) => x.join(','),
    evaluateBatch: evaluateInOrder(async (x) => {
      calls++;
      beforeEvaluate?.(calls);
      return { fitness: sphere(x) };
    }),
  });
  return { result, calls };
}
