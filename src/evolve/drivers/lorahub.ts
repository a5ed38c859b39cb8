/**
 * LoraHub driver (evolutionary-merging.md §4, merge-methods.md §4.2): the genome is one composition weight
 * per adapter; a candidate is the base with the composed adapter (A = Σ w_i A_i, B = Σ w_i B_i) merged in
 * lazily. The strategy adds the L1 term to the development loss itself.
 */
import { z } from 'zod';
import type { Checkpoint } from '../../io/checkpoint.js';
import { LoraMergedCheckpoint } from '../../io/lora-view.js';
import { openAdapter } from '../../io/open.js';
import type { LoraAdapter } from '../../io/peft.js';
import { composeLoraAdapter } from '../../lora/compose.js';
import { lorahub, lorahubWeights, type LoraHubParams } from '../strategies/lorahub.js';
import type { CmaEsState } from '../strategies/cma-es.js';
import type { Driver, DriverContext } from './driver.js';

export const lorahubOptions = {
  adapters: z.array(z.string()).min(2),
  sigma0: z.number().positive().default(0.5),
  bound: z.number().positive().default(1.5),
  l1: z.number().min(0).default(0.05),
};
type LoraHubConfig = z.output<z.ZodObject<typeof lorahubOptions>>;

export function lorahubDriver(context: DriverContext<LoraHubConfig>): Driver<LoraHubParams, CmaEsState, number[]> {
  const strategy = context.strategy;
  const base: Checkpoint = context.models.get(context.config.base_model!)!;
  const adapters: LoraAdapter[] = strategy.adapters.map((path) => openAdapter(path, { cwd: context.cwd }));
  const params: LoraHubParams = {
    objective: 'min',
    adapters: adapters.length,
    maxEvaluations: context.config.budget,
    bound: strategy.bound,
    l1Weight: strategy.l1,
    sigma0: strategy.sigma0,
  };
  const format = (w: readonly number[]) => `[${w.map((x) => x.toFixed(3)).join(', ')}]`;
  return {
    strategy: lorahub,
    params,
    geneNames: strategy.adapters.map((a) => `w ${a}`),
    keyOf: (genome) => format(lorahubWeights(params, genome)),
    async materialise(genome) {
      const weights = lorahubWeights(params, genome);
      const composed = composeLoraAdapter(adapters, weights, `<lorahub ${format(weights)}>`);
      return {
        checkpoint: new LoraMergedCheckpoint(base, composed),
        recipe: { lorahub: { base_model: context.config.base_model, adapters: strategy.adapters, weights } },
        parents: strategy.adapters,
      };
    },
    bestCandidate: (state) => lorahub.best(state) && { candidate: lorahub.best(state)!.genome, fitness: lorahub.best(state)!.fitness },
    describe: (genome) => `LoraHub weights ${format(lorahubWeights(params, genome))}`,
    close: () => adapters.forEach((a) => a.weights.close()),
  };
}
