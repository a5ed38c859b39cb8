/**
 * The search rows of the demo and `results:merging`: every evolve strategy at one stated budget of
 * development evaluations, each run stored (and resumed after a kill) under `<out>/runs/<strategy>-seed<s>`
 * with its report. Strategies that use no randomness (AnyFit's grid walk, kinship-guided greedy) are run
 * once and that run stands for every seed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseEvolveConfig, type EvolveConfig } from '../evolve/config.js';
import type { FitnessSource } from '../evolve/fitness/fitness.js';
import { runEvolution, type EvolveSummary } from '../evolve/run.js';
import { writeRunReport, type ReferenceLine } from '../runs/report.js';
import { RunStore } from '../runs/store.js';

export const SEARCHES = ['cma-es', 'evolver', 'kinship-greedy', 'grid-greedy', 'lorahub', 'random'] as const;
export type SearchName = (typeof SEARCHES)[number];

/** strategies whose runs do not depend on the seed */
export const DETERMINISTIC: ReadonlySet<SearchName> = new Set(['kinship-greedy', 'grid-greedy']);

export interface SearchSetup {
  /** model references as written into the run configs */
  readonly base: string;
  readonly experts: readonly string[];
  readonly adapters: readonly string[];
  readonly texts: Readonly<Record<string, string>>;
  readonly devWindows: number;
  readonly devOffset: number;
  readonly budget: number;
  readonly evolverGenerations: number;
  /** λ of Evolver's task-arithmetic merger: the best static task-arithmetic λ > 0 on development data */
  readonly mergerLambda: number;
}

export function searchLabel(name: SearchName, setup: SearchSetup): string {
  switch (name) {
    case 'cma-es':
      return 'CMA-ES: task-arithmetic weights per expert × layer group (2 groups)';
    case 'evolver':
      return `Evolver: DE on weights, ${setup.evolverGenerations} generations max, merger task arithmetic λ=${setup.mergerLambda}`;
    case 'kinship-greedy':
      return 'kinship-guided greedy (top-3 SLERP merges + lowest-kinship exploration)';
    case 'grid-greedy':
      return 'AnyFit grid-greedy: task-arithmetic α per expert, step 0.1 from α = 0';
    case 'lorahub':
      return 'LoraHub: composition weights of the 3 LoRA adapters (best dev includes its L1 term)';
    case 'random':
      return 'random search (control): same genome as CMA-ES, uniform [0, 1]';
  }
}

/** The evolve configuration of one search row (the same YAML `modelevo evolve` reads). */
export function searchConfig(name: SearchName, setup: SearchSetup, seed: number): EvolveConfig {
  const common = {
    name: `${name}-seed${seed}`,
    seed,
    budget: setup.budget,
    base_model: setup.base,
    models: [...setup.experts],
    fitness: { builtin: { texts: { ...setup.texts }, windows: setup.devWindows, offset: setup.devOffset } },
  };
  const genome = { merge_method: 'task_arithmetic', layer_granularity: 2, allow_negative_weights: true } as const;
  const strategy = (() => {
    switch (name) {
      case 'cma-es':
        return { name, genome, sigma0: 0.2 };
      case 'evolver':
        return { name, mode: 'merger', merger: 'task_arithmetic', merger_lambda: setup.mergerLambda, generations: setup.evolverGenerations, F: 0.5, CR: 0.5 };
      case 'kinship-greedy':
        return { name, k: 3, variant: 'kinship', exploration_pool: 'all', max_generations: 50 };
      case 'grid-greedy':
        return { name, start: setup.experts.map(() => 0), step: 0.1, low: 0, high: 2 };
      case 'lorahub':
        return { name, adapters: [...setup.adapters] };
      case 'random':
        // a batch above the budget is refused (hard budgets); tiny test budgets take a smaller batch
        return { name, genome: { ...genome, allow_negative_weights: false }, batch: Math.min(4, setup.budget), low: 0, high: 1 };
    }
  })();
  return parseEvolveConfig({ ...common, ...(name === 'lorahub' ? { models: [] } : {}), strategy });
}

export interface SearchRun {
  readonly name: SearchName;
  readonly seed: number;
  readonly summary: EvolveSummary;
  /** development fitness of every evaluation, in evaluation order (NaN for a failure) */
  readonly curve: number[];
}

/**
 * Runs (or resumes, when the run directory already holds this run) one search and writes its report with
 * the base, the experts and the best static merge as reference lines.
 */
export async function runSearch(options: {
  name: SearchName;
  setup: SearchSetup;
  seed: number;
  runsDir: string;
  fitness: FitnessSource;
  references: readonly ReferenceLine[];
  onProgress?: (text: string) => void;
}): Promise<SearchRun> {
  const { name, seed } = options;
  const config = searchConfig(name, options.setup, seed);
  const runDir = join(options.runsDir, config.name);
  const summary = await runEvolution({
    config,
    runDir,
    resume: existsSync(join(runDir, 'run.sqlite')),
    fitness: options.fitness,
    onProgress: (p) => options.onProgress?.(`step ${p.step}, ${p.evaluations} evaluations, best dev ${p.best?.toFixed(4)}`),
  });
  const store = RunStore.open(runDir);
  try {
    // the dashboard (modelevo ui) draws them as the reference lines, the best static merge among them
    store.event('references', { references: options.references });
    writeRunReport({
      store,
      objective: summary.objective,
      bestKey: summary.best?.key,
      references: options.references,
      ...(summary.geneNames ? { geneNames: summary.geneNames } : {}),
      notes: [
        `${searchLabel(name, options.setup)}; budget ${config.budget} development evaluations`,
        `stop reason: ${summary.stopReason}; ${summary.evaluations} evaluations`,
      ],
    });
    const curve = store.individuals().map((r) => r.fitness);
    return { name, seed, summary, curve };
  } finally {
    store.close();
  }
}
