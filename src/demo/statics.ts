/**
 * Static baselines a careful user would try before any search, all scored on development windows only:
 * the base and each expert alone, the uniform linear soup, task arithmetic over a λ grid that includes 0
 * (the base itself), and TIES and DARE-TIES over density × λ. The lowest development loss is "best static".
 */
import type { Checkpoint } from '../io/checkpoint.js';
import { runMerge } from '../merge/index.js';

export interface StaticGrid {
  readonly lambdas: readonly number[];
  readonly densities: readonly number[];
  readonly sparseLambdas: readonly number[];
}

export const DEFAULT_STATIC_GRID: StaticGrid = {
  lambdas: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0],
  densities: [0.3, 0.5, 0.7],
  sparseLambdas: [0.5, 0.7, 1.0],
};

export interface StaticCandidate {
  readonly name: string;
  /** undefined for an input model scored as it is */
  readonly recipe?: Record<string, unknown>;
  /** the reference of an input model */
  readonly model?: string;
}

/** `base` and `experts` are model references as keys of the opened-model map. */
export function staticCandidates(base: string, experts: readonly { label: string; ref: string }[], grid: StaticGrid): StaticCandidate[] {
  const weighted = (extra: Record<string, number> = {}) => experts.map((e) => ({ model: e.ref, parameters: { weight: 1, ...extra } }));
  const out: StaticCandidate[] = [{ name: 'base', model: base }, ...experts.map((e) => ({ name: e.label, model: e.ref }))];
  out.push({ name: 'linear (uniform soup)', recipe: { merge_method: 'linear', models: weighted(), dtype: 'float32' } });
  for (const lambda of grid.lambdas) {
    out.push({
      name: `task arithmetic λ=${lambda}${lambda === 0 ? ' (= base)' : ''}`,
      recipe: { merge_method: 'task_arithmetic', base_model: base, models: weighted(), parameters: { lambda }, dtype: 'float32' },
    });
  }
  for (const method of ['ties', 'dare_ties'] as const) {
    for (const density of grid.densities) {
      for (const lambda of grid.sparseLambdas) {
        out.push({
          name: `${method === 'ties' ? 'TIES' : 'DARE-TIES'} density=${density} λ=${lambda}`,
          recipe: { merge_method: method, base_model: base, models: weighted({ density }), parameters: { lambda }, dtype: 'float32' },
        });
      }
    }
  }
  return out;
}

export interface StaticScore {
  readonly name: string;
  readonly dev: number;
}

/** Materialises one static candidate in memory (input models are returned as they are). */
export async function materialiseStatic(candidate: StaticCandidate, models: ReadonlyMap<string, Checkpoint>, seed: number): Promise<Checkpoint> {
  if (candidate.model) return models.get(candidate.model)!;
  const result = await runMerge(candidate.recipe!, undefined, { inMemory: true, models, progress: 'none', seed });
  return result.checkpoint!;
}

/** the candidate with the lowest development loss; ties go to the earlier (simpler) one */
export function bestStatic(scores: readonly StaticScore[]): StaticScore {
  return scores.reduce((a, b) => (b.dev < a.dev ? b : a));
}
