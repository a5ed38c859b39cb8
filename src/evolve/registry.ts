/**
 * Every ask/tell evolution strategy of modelevo, in one literal map (style.md §1.1, §1.4). The map's keys are
 * the strategy names; the evolve config schema (`strategy.name` and each strategy's options), the CLI's list
 * of strategies, the conformance suite (registry.case.test.ts) and the strategy table in docs/evolve.md are
 * all derived from it. Adding a strategy is one file in strategies/ plus one line here (docs/evolve.md).
 *
 * An entry with an `evolve` binding can be named in an evolve config: the binding holds the options of its
 * `strategy:` block and the driver that turns its candidates into merged models. Entries without one are
 * strategies other pipelines drive (AD-NEv's GA and weight tuning); generic strategies whose operators the
 * caller supplies are registered as factories.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';
import type { Driver, DriverContext, RunSettings } from './drivers/driver.js';
import { kinshipGreedyDriver, kinshipGreedyOptions } from './drivers/kinship-greedy.js';
import { lorahubDriver, lorahubOptions } from './drivers/lorahub.js';
import { checkGenomeBase, cmaEsDriver, cmaEsOptions, gridGreedyDriver, gridGreedyOptions, randomDriver, randomOptions } from './drivers/recipe.js';
import { cmaEs } from './strategies/cma-es.js';
import { elitistGa } from './strategies/elitist-ga.js';
import { evolver, evolverDriver, evolverOptions } from './strategies/evolver.js';
import { gridGreedy } from './strategies/grid-greedy.js';
import { kinshipGreedy } from './strategies/kinship-greedy.js';
import { lorahub } from './strategies/lorahub.js';
import { randomSearch } from './strategies/random-search.js';
import { weightTuning } from './strategies/weight-tuning.js';
import type { BaseParams, Objective, Strategy } from './strategy.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- a registry holds strategies of every Params/State/genome */
type AnyStrategy = Strategy<any, any, any>;
export type AnyDriver = Driver<BaseParams, unknown, unknown>;

/** The run settings a strategy's config is checked against. */
export interface CheckedRun extends RunSettings {
  readonly objective: Objective;
}

/** How `modelevo evolve` runs a strategy on models. */
export interface EvolveBinding<Shape extends z.ZodRawShape> {
  /** the keys of the config's `strategy:` block besides `name` */
  readonly options: Shape;
  driver(context: DriverContext<z.output<z.ZodObject<Shape>>>): Driver<any, any, any>;
  /** the best candidate's recipe is a mergekit config: written as best.yml beside the best model */
  readonly writesRecipe: boolean;
  /** cross-key checks of the strategy's options against the rest of the config */
  check(strategy: z.output<z.ZodObject<Shape>>, run: CheckedRun): ConfigIssue[];
  /**
   * the option that sets how many candidates one step asks for, when the config can set it (checked against
   * the budget and the heap before the run starts: population-limits.ts)
   */
  readonly populationKey?: keyof Shape & string;
}

export type StrategyEntry =
  | { readonly strategy: AnyStrategy; readonly evolve?: EvolveBinding<any> }
  /** a generic strategy: the caller supplies its operators (and its name) */
  | { readonly factory: (...args: any[]) => AnyStrategy; readonly title: string; readonly reference: string };

const binding = <Shape extends z.ZodRawShape>(b: EvolveBinding<Shape>): EvolveBinding<Shape> => b;

const needsTwoModels = (run: CheckedRun, name: string): ConfigIssue[] =>
  run.models.length < 2 ? [{ path: ['models'], message: `strategy ${name} needs at least 2 models` }] : [];
const needsBase = (run: CheckedRun, why: string): ConfigIssue[] => (run.base_model ? [] : [{ path: ['base_model'], message: why }]);

export const STRATEGIES = {
  'cma-es': {
    strategy: cmaEs,
    evolve: binding({
      options: cmaEsOptions,
      driver: cmaEsDriver,
      writesRecipe: true,
      populationKey: 'population',
      check: (s, run) => [...needsTwoModels(run, 'cma-es'), ...checkGenomeBase(s.genome, run)],
    }),
  },
  random: {
    strategy: randomSearch,
    evolve: binding({
      options: randomOptions,
      driver: randomDriver,
      writesRecipe: true,
      populationKey: 'batch',
      check: (s, run) => [...needsTwoModels(run, 'random'), ...checkGenomeBase(s.genome, run)],
    }),
  },
  'grid-greedy': {
    strategy: gridGreedy,
    evolve: binding({
      options: gridGreedyOptions,
      driver: gridGreedyDriver,
      writesRecipe: true,
      check: (s, run) => [
        ...needsTwoModels(run, 'grid-greedy'),
        ...needsBase(run, 'grid-greedy (task arithmetic over residuals) needs base_model'),
        ...(s.start && s.start.length !== run.models.length
          ? [{ path: ['strategy', 'start'], message: `expected ${run.models.length} start coefficients (one per model), got ${s.start.length}` }]
          : []),
      ],
    }),
  },
  evolver: {
    strategy: evolver,
    evolve: binding({ options: evolverOptions, driver: evolverDriver, writesRecipe: false, check: (_s, run) => needsTwoModels(run, 'evolver') }),
  },
  'kinship-greedy': {
    strategy: kinshipGreedy,
    evolve: binding({ options: kinshipGreedyOptions, driver: kinshipGreedyDriver, writesRecipe: false, check: (_s, run) => needsTwoModels(run, 'kinship-greedy') }),
  },
  lorahub: {
    strategy: lorahub,
    evolve: binding({
      options: lorahubOptions,
      driver: lorahubDriver,
      writesRecipe: false,
      check: (_s, run) => [
        ...needsBase(run, 'lorahub needs the base model the adapters were trained on'),
        ...(run.objective === 'min' ? [] : [{ path: ['fitness'], message: 'lorahub minimises a loss (plus its L1 term): use the built-in loss or a fitness with objective: min' }]),
      ],
    }),
  },
  'elitist-ga': { factory: elitistGa, title: '(μ + λ) elitist genetic algorithm over any genome (AD-NEv levels 1 and 2)', reference: 'Faber et al., AD-NEv, arXiv 2303.11358' },
  'weight-tuning': { strategy: weightTuning },
} as const satisfies Record<string, StrategyEntry>;

type Registry = typeof STRATEGIES;
export type StrategyName = keyof Registry;
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];

/** the strategies an evolve config can name */
export type EvolveStrategyName = { [K in StrategyName]: Registry[K] extends { readonly evolve: EvolveBinding<any> } ? K : never }[StrategyName];
export const EVOLVE_STRATEGY_NAMES = STRATEGY_NAMES.filter((name): name is EvolveStrategyName => 'evolve' in STRATEGIES[name]);

type OptionsOf<K extends EvolveStrategyName> = Registry[K]['evolve']['options'];
/** the `strategy:` block of an evolve config: `name` plus that strategy's options */
export type StrategyConfig = { [K in EvolveStrategyName]: { readonly name: K } & z.output<z.ZodObject<OptionsOf<K>>> }[EvolveStrategyName];

/** The schema of the `strategy:` block, built from the registry (one strict object per evolve strategy). */
export function strategyConfigSchema(): z.ZodType<StrategyConfig> {
  const [first, ...rest] = EVOLVE_STRATEGY_NAMES.map((name) => z.strictObject({ name: z.literal(name), ...STRATEGIES[name].evolve.options }));
  // the union's members are built in a loop, so zod cannot infer the union type: it is StrategyConfig by construction
  return z.discriminatedUnion('name', [first!, ...rest]) as unknown as z.ZodType<StrategyConfig>;
}

/** The binding of a configured strategy, typed for that config (the schema guarantees name and options match). */
export function evolveBinding(config: StrategyConfig): EvolveBinding<z.ZodRawShape> & { check(s: StrategyConfig, run: CheckedRun): ConfigIssue[]; driver(context: DriverContext<StrategyConfig>): AnyDriver } {
  return STRATEGIES[config.name].evolve as never;
}

/** Title and reference of any registered strategy, for the CLI and the docs. */
export function describeStrategy(name: StrategyName): { readonly title: string; readonly reference: string } {
  const entry: StrategyEntry = STRATEGIES[name];
  return 'factory' in entry ? entry : { title: entry.strategy.title, reference: entry.strategy.reference };
}
