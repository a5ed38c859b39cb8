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
import type { EvolveStrategyName } from '../evolve/registry.js';
import { writeRunReport, type ReferenceLine } from '../runs/report.js';
import { RunStore } from '../runs/store.js';

/** How the demo runs one strategy: its table label and its `strategy:` block. */
interface SearchRow {
  label(setup: SearchSetup): string;
  strategy(setup: SearchSetup): Record<string, unknown>;
}

const GENOME = { merge_method: 'task_arithmetic', layer_granularity: 2, allow_negative_weights: true } as const;

/**
 * One row per evolve strategy of the registry, in table order: the `Record<EvolveStrategyName, …>` type makes
 * a strategy added to evolve/registry.ts fail the type check until the demo has a row for it.
 */
const ROWS = {
  'cma-es': {
    label: () => 'CMA-ES: task-arithmetic weights per expert × layer group (2 groups)',
    strategy: () => ({ genome: GENOME, sigma0: 0.2 }),
  },
  evolver: {
    label: (setup) => `Evolver: DE on weights, ${setup.evolverGenerations} generations max, merger task arithmetic λ=${setup.mergerLambda}`,
    strategy: (setup) => ({ mode: 'merger', merger: 'task_arithmetic', merger_lambda: setup.mergerLambda, generations: setup.evolverGenerations, F: 0.5, CR: 0.5 }),
  },
  'kinship-greedy': {
    label: () => 'kinship-guided greedy (top-3 SLERP merges + lowest-kinship exploration)',
    strategy: () => ({ k: 3, variant: 'kinship', exploration_pool: 'all', max_generations: 50 }),
  },
  'grid-greedy': {
    label: () => 'AnyFit grid-greedy: task-arithmetic α per expert, step 0.1 from α = 0',
    strategy: (setup) => ({ start: setup.experts.map(() => 0), step: 0.1, low: 0, high: 2 }),
  },
  lorahub: {
    label: () => 'LoraHub: composition weights of the 3 LoRA adapters (best dev includes its L1 term)',
    strategy: (setup) => ({ adapters: [...setup.adapters] }),
  },
  random: {
    label: () => 'random search (control): same genome as CMA-ES, uniform [0, 1]',
    // a batch above the budget is refused (hard budgets); tiny test budgets take a smaller batch
    strategy: (setup) => ({ genome: { ...GENOME, allow_negative_weights: false }, batch: Math.min(4, setup.budget), low: 0, high: 1 }),
  },
} as const satisfies Record<EvolveStrategyName, SearchRow>;

export type SearchName = EvolveStrategyName;
/** the registry's evolve strategies, in the demo table's order */
export const SEARCHES = Object.keys(ROWS) as SearchName[];

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
  return ROWS[name].label(setup);
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
  const strategy = { name, ...ROWS[name].strategy(setup) };
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
