/**
 * Reference fitness for reports: the base and each input model scored by the run's own fitness, so the
 * report can draw them as lines the search must beat. These evaluations are not part of the search (they
 * never enter the strategy or the budget). Sources that run another program are skipped: writing every
 * input to a folder and running the command could cost as much as the run itself.
 */
import { openAdapter, openCheckpoint } from '../io/open.js';
import { LoraMergedCheckpoint } from '../io/lora-view.js';
import type { ReferenceLine } from '../runs/report.js';
import type { EvolveConfig } from './config.js';
import type { FitnessSource } from './fitness/fitness.js';

export async function referenceFitness(config: EvolveConfig, fitness: FitnessSource, cwd: string): Promise<ReferenceLine[]> {
  if (fitness.needsFolder) return [];
  const out: ReferenceLine[] = [];
  const score = async (label: string, open: () => ReturnType<typeof openCheckpoint>) => {
    const checkpoint = open();
    try {
      const result = await fitness.evaluate({ checkpoint });
      out.push({ label, fitness: result.score });
    } finally {
      checkpoint.close();
    }
  };
  if (config.base_model) await score(`base ${config.base_model}`, () => openCheckpoint(config.base_model!, { cwd }));
  for (const model of config.models) if (model !== config.base_model) await score(model, () => openCheckpoint(model, { cwd }));
  if (config.strategy.name === 'lorahub' && config.base_model) {
    for (const adapter of config.strategy.adapters) {
      await score(`base + ${adapter}`, () => new LoraMergedCheckpoint(openCheckpoint(config.base_model!, { cwd }), openAdapter(adapter, { cwd })));
    }
  }
  return out;
}
