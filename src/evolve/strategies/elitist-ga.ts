/**
 * The (μ + λ) elitist genetic algorithm behind AD-NEv's levels 1 and 2 (ad-nev.md §1.1–1.2; tournament
 * selection with elitism is modelevo's default, the paper's exact scheme is UNVERIFIED). The first ask
 * returns the initial population (seed genomes first, then random ones); later asks return λ offspring made
 * by tournament selection, crossover and mutation; tell keeps the best μ of parents ∪ offspring, so the best
 * fitness never gets worse. State is plain JSON data.
 */
import { createRng, rngFromState, type Rng } from '../../core/rng.js';
import { type BaseParams, type Strategy, toCost } from '../strategy.js';

export interface GaParams extends BaseParams {
  readonly populationSize: number;
  readonly offspring: number;
  readonly generations: number;
  readonly tournamentSize: number;
  readonly crossoverRate: number;
}

export interface GaMember<G> {
  readonly genome: G;
  readonly fitness: number;
}

export interface GaState<G> {
  readonly rng: [number, number, number, number];
  /** completed tells; 0 until the initial population is evaluated */
  readonly generation: number;
  /** sorted best-first */
  readonly population: readonly GaMember<G>[];
}

export interface GaOperators<G> {
  readonly seeds: readonly G[];
  random(rng: Rng): G;
  mutate(rng: Rng, genome: G): G;
  crossover(rng: Rng, a: G, b: G): G;
  /** makes a genome valid (never throws) */
  repair(genome: G): G;
}

export function elitistGa<G>(name: string, title: string, operators: GaOperators<G>): Strategy<GaParams, GaState<G>, G> {
  const rank = (objective: GaParams['objective'], members: GaMember<G>[]): GaMember<G>[] =>
    members.map((m, i) => ({ m, i })).sort((x, y) => toCost(objective, x.m.fitness) - toCost(objective, y.m.fitness) || x.i - y.i).map((x) => x.m);
  return {
    name,
    title,
    reference: 'Faber et al., AD-NEv, arXiv 2303.11358 (ad-nev.md §1)',
    init(params, seed) {
      return { rng: createRng(name, seed).state(), generation: 0, population: [] };
    },
    ask(params, state) {
      const rng = rngFromState(state.rng);
      const candidates: G[] = [];
      if (state.population.length === 0) {
        for (const s of operators.seeds.slice(0, params.populationSize)) candidates.push(operators.repair(s));
        while (candidates.length < params.populationSize) candidates.push(operators.repair(operators.random(rng)));
      } else {
        const pick = (): G => {
          let best: GaMember<G> | undefined;
          for (let t = 0; t < params.tournamentSize; t++) {
            const m = state.population[rng.int(state.population.length)]!;
            if (!best || toCost(params.objective, m.fitness) < toCost(params.objective, best.fitness)) best = m;
          }
          return best!.genome;
        };
        for (let i = 0; i < params.offspring; i++) {
          const parent = pick();
          const child = rng.next() < params.crossoverRate ? operators.crossover(rng, parent, pick()) : parent;
          candidates.push(operators.repair(operators.mutate(rng, child)));
        }
      }
      return { candidates, state: { ...state, rng: rng.state() } };
    },
    tell(params, state, candidates, fitness) {
      const merged = rank(params.objective, [...state.population, ...candidates.map((genome, i) => ({ genome, fitness: fitness[i] ?? NaN }))]);
      const population = merged.slice(0, params.populationSize);
      const finite = population.map((m) => m.fitness).filter(Number.isFinite);
      return {
        state: { ...state, generation: state.generation + 1, population },
        metrics: {
          generation: state.generation + 1,
          best: population[0]?.fitness ?? NaN,
          mean: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN,
          failed: fitness.filter((f) => !Number.isFinite(f)).length,
        },
      };
    },
    stopReason(params, state) {
      return state.generation > params.generations ? 'generations' : undefined;
    },
    best(state) {
      return state.population[0];
    },
  };
}
