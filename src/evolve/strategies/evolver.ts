/**
 * Evolver: differential evolution on model weights — Du et al., Findings of ACL 2024, arXiv:2406.12208;
 * spec: evolver.md §2–§4. The strategy decides *what* to evaluate (initial individuals, offspring recipes,
 * merged populations) and *what to keep*; its driver (end of this file) materialises weights per tensor with
 * `offspringTensor` (evolver-ops.ts). Selection is strict one-to-one (option '>=').
 * Mode A ('standalone') scores individuals; mode B ('merger') scores the merge of the population.
 *
 * Offspring weights are never stored: an individual is a deterministic function of its recipe and its
 * parents, so after a restart the driver rebuilds any individual from the run record (`recordOf`).
 */
import { z } from 'zod';
import { createRng, rngFromState } from '../../core/rng.js';
import { ModelevoError } from '../../core/errors.js';
import { isFloatDType, numelOf } from '../../core/dtype.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { MemoryCheckpoint, type MemoryTensor } from '../../io/memory-checkpoint.js';
import { runMerge } from '../../merge/index.js';
import { MUTATION_MIN_POPULATION, offspringTensor, type MutationVariant, type OffspringRecipe } from './evolver-ops.js';
import { type BaseParams, type Strategy, type TellResult, isBetter } from '../strategy.js';
import type { Driver, DriverContext, Materialised } from '../drivers/driver.js';

/** The `strategy:` block of an Evolver evolve config. */
export const evolverOptions = {
  mode: z.enum(['standalone', 'merger']).default('merger'),
  merger: z.enum(['linear', 'task_arithmetic', 'ties']).default('linear'),
  /** λ of a task_arithmetic / ties merger */
  merger_lambda: z.number().default(1),
  mutation: z.enum(['interpolate', 'rand/1', 'current-to-best/1']).default('interpolate'),
  F: z.number().default(0.5),
  CR: z.number().min(0).max(1).default(0.5),
  jrand: z.boolean().default(false),
  accept: z.enum(['>', '>=']).default('>'),
  generations: z.number().int().min(1).default(3),
  /** tensors left out of evolution (regular expression), e.g. heads */
  exclude: z.string().optional(),
};
type EvolverConfig = z.output<z.ZodObject<typeof evolverOptions>>;

export interface EvolverParams extends BaseParams {
  /** ids of the initial individuals (the fine-tuned models), in order */
  readonly models: readonly string[];
  readonly generations: number;
  readonly mode: 'standalone' | 'merger';
  readonly mutation: MutationVariant;
  readonly F: number;
  readonly CR: number;
  readonly jrand: boolean;
  /** flat genome length D (for the forced jrand index) */
  readonly genomeLength: number;
  readonly accept: '>' | '>=';
  readonly runSeed: number;
}

export type EvolverCandidate =
  | { readonly kind: 'individual'; readonly id: string }
  /** mode B: the merge of `population` */
  | { readonly kind: 'merged'; readonly population: readonly string[] }
  | { readonly kind: 'offspring'; readonly id: string; readonly recipe: OffspringRecipe; readonly population: readonly string[] };

export interface EvolverState {
  /** copied from params so `best(state)` can rank without them */
  readonly objective: 'min' | 'max';
  readonly phase: 'initial' | 'evolve' | 'done';
  readonly generation: number;
  /** visiting order of slots in this generation and the position in it */
  readonly order: number[];
  readonly position: number;
  /** current individual ids per slot */
  readonly population: string[];
  /** mode A: fitness per slot; mode B: unused (empty) */
  readonly fitness: number[];
  /** mode B: the current merged population's fitness */
  readonly mergedFitness: number | null;
  readonly rng: [number, number, number, number];
  readonly evaluations: number;
  readonly accepted: number;
}

function validate(params: EvolverParams): void {
  const problems: string[] = [];
  const n = params.models.length;
  if (n < MUTATION_MIN_POPULATION[params.mutation]) {
    problems.push(`mutation '${params.mutation}' needs at least ${MUTATION_MIN_POPULATION[params.mutation]} models, got ${n}`);
  }
  if (params.mode === 'merger' && params.mutation === 'current-to-best/1') {
    problems.push("'current-to-best/1' needs per-individual fitness: use mode 'standalone'");
  }
  if (!(params.CR >= 0 && params.CR <= 1)) problems.push(`CR must be in [0, 1], got ${params.CR}`);
  if (!Number.isFinite(params.F)) problems.push(`F must be finite, got ${params.F}`);
  if (!(params.generations >= 1)) problems.push(`generations must be ≥ 1, got ${params.generations}`);
  if (problems.length > 0) {
    throw new ModelevoError('CONFIG_INVALID', `invalid Evolver settings: ${problems.join('; ')}`, { hint: 'see evolver.md §2–§3' });
  }
}

function visitOrder(params: EvolverParams, rng: ReturnType<typeof rngFromState>): number[] {
  const order = params.models.map((_, i) => i);
  if (params.mode === 'merger') {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }
  return order;
}

function pickDistinct(rng: ReturnType<typeof rngFromState>, n: number, exclude: readonly number[], count: number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i).filter((i) => !exclude.includes(i));
  const picked: number[] = [];
  for (let c = 0; c < count; c++) picked.push(pool.splice(rng.int(pool.length), 1)[0]!);
  return picked;
}

function bestOther(params: EvolverParams, state: EvolverState, slot: number): number {
  let best = -1;
  state.fitness.forEach((f, i) => {
    if (i !== slot && (best < 0 || isBetter(params.objective, f, state.fitness[best]!))) best = i;
  });
  return best;
}

function bestSlot(params: EvolverParams, state: EvolverState): number {
  let best = 0;
  state.fitness.forEach((f, i) => {
    if (isBetter(params.objective, f, state.fitness[best]!)) best = i;
  });
  return best;
}

function makeRecipe(params: EvolverParams, state: EvolverState): { recipe: OffspringRecipe; rng: [number, number, number, number] } {
  const rng = rngFromState(state.rng);
  const slot = state.order[state.position]!;
  const n = params.models.length;
  let partnerSlots: number[];
  if (params.mutation === 'interpolate') {
    // Mode A: random other with p(g) = 0.5/(G − g) + 0.5, else the best other; mode B: always random
    const p = 0.5 / (params.generations - state.generation) + 0.5;
    const random = params.mode === 'merger' || rng.next() < p;
    partnerSlots = random ? pickDistinct(rng, n, [slot], 1) : [bestOther(params, state, slot)];
  } else if (params.mutation === 'rand/1') {
    partnerSlots = pickDistinct(rng, n, [slot], 3);
  } else {
    partnerSlots = [bestSlot(params, state), ...pickDistinct(rng, n, [slot], 2)];
  }
  const jrandIndex = params.jrand ? Math.floor(rng.next() * params.genomeLength) : null;
  const recipe: OffspringRecipe = {
    generation: state.generation,
    slot,
    mutation: params.mutation,
    parent: state.population[slot]!,
    partners: partnerSlots.map((s) => state.population[s]!),
    F: params.F,
    CR: params.CR,
    jrandIndex,
    runSeed: params.runSeed,
  };
  return { recipe, rng: rng.state() };
}

function advancePosition(params: EvolverParams, state: EvolverState): EvolverState {
  if (state.position + 1 < state.order.length) return { ...state, position: state.position + 1 };
  const generation = state.generation + 1;
  if (generation >= params.generations) return { ...state, generation, phase: 'done' };
  const rng = rngFromState(state.rng);
  const order = visitOrder(params, rng);
  return { ...state, generation, order, position: 0, rng: rng.state() };
}

export const evolver: Strategy<EvolverParams, EvolverState, EvolverCandidate> = {
  name: 'evolver',
  title: 'Evolver: differential evolution of model weights (standalone or merger-in-the-loop)',
  reference: 'Du et al., Findings of ACL 2024, arXiv:2406.12208',

  init(params, seed) {
    validate(params);
    const rng = createRng('evolver-schedule', seed);
    const order = visitOrder(params, rng);
    return {
      objective: params.objective,
      phase: 'initial',
      generation: 0,
      order,
      position: 0,
      population: [...params.models],
      fitness: [],
      mergedFitness: null,
      rng: rng.state(),
      evaluations: 0,
      accepted: 0,
    };
  },

  ask(params, state) {
    if (state.phase === 'done') return { candidates: [], state };
    if (state.phase === 'initial') {
      const candidates: EvolverCandidate[] =
        params.mode === 'standalone'
          ? state.population.map((id) => ({ kind: 'individual', id }))
          : [{ kind: 'merged', population: [...state.population] }];
      return { candidates, state };
    }
    const { recipe, rng } = makeRecipe(params, state);
    const id = `g${state.generation}-s${recipe.slot}`;
    const population = state.population.map((member, i) => (i === recipe.slot ? id : member));
    return { candidates: [{ kind: 'offspring', id, recipe, population }], state: { ...state, rng } };
  },

  tell(params, state, candidates, fitness): TellResult<EvolverState> {
    if (candidates.length !== fitness.length) {
      throw new ModelevoError('VALUE_INVALID', `evolver tell got ${candidates.length} candidates and ${fitness.length} fitness values`);
    }
    const evaluations = state.evaluations + candidates.length;
    if (state.phase === 'initial') {
      const next: EvolverState =
        params.mode === 'standalone'
          ? { ...state, phase: 'evolve', fitness: [...fitness], evaluations }
          : { ...state, phase: 'evolve', mergedFitness: fitness[0]!, evaluations };
      return { state: next, metrics: { evaluations } };
    }
    const candidate = candidates[0];
    if (candidates.length !== 1 || candidate?.kind !== 'offspring') {
      throw new ModelevoError('VALUE_INVALID', 'evolver tell expected exactly one offspring evaluation');
    }
    const f = fitness[0]!;
    const slot = candidate.recipe.slot;
    const incumbent = params.mode === 'standalone' ? state.fitness[slot]! : state.mergedFitness ?? NaN;
    const better = isBetter(params.objective, f, incumbent) || (params.accept === '>=' && f === incumbent);
    let next: EvolverState = { ...state, evaluations };
    if (better) {
      const population = state.population.map((member, i) => (i === slot ? candidate.id : member));
      next =
        params.mode === 'standalone'
          ? { ...next, population, fitness: state.fitness.map((old, i) => (i === slot ? f : old)), accepted: state.accepted + 1 }
          : { ...next, population, mergedFitness: f, accepted: state.accepted + 1 };
    }
    next = advancePosition(params, next);
    return { state: next, metrics: { evaluations, accepted: better ? 1 : 0, fitness: f } };
  },

  stopReason(_params, state) {
    return state.phase === 'done' ? 'generations' : undefined;
  },

  best(state) {
    if (state.mergedFitness !== null) {
      return { genome: { kind: 'merged', population: [...state.population] }, fitness: state.mergedFitness };
    }
    if (state.fitness.length === 0) return undefined;
    let best = 0;
    state.fitness.forEach((f, i) => {
      if (isBetter(state.objective, f, state.fitness[best]!)) best = i;
    });
    return { genome: { kind: 'individual', id: state.population[best]! }, fitness: state.fitness[best]! };
  },
};

/** Binds Evolver to the run's models: individuals are whole models, offspring are built tensor by tensor. */
export function evolverDriver(context: DriverContext<EvolverConfig>): Driver<EvolverParams, EvolverState, EvolverCandidate> {
  const strategy = context.strategy;
  const first = context.models.get(context.config.models[0]!)!;
  const exclude = strategy.exclude ? new RegExp(strategy.exclude) : undefined;
  const tensorNames = first.names();
  const evolved = new Set(tensorNames.filter((n) => isFloatDType(first.info(n).dtype) && !exclude?.test(n)));
  const offsets = new Map<string, number>();
  let genomeLength = 0;
  for (const name of tensorNames) {
    if (!evolved.has(name)) continue;
    offsets.set(name, genomeLength);
    genomeLength += numelOf(first.info(name).shape);
  }
  const params: EvolverParams = {
    objective: context.objective,
    models: context.config.models,
    generations: strategy.generations,
    mode: strategy.mode,
    mutation: strategy.mutation,
    F: strategy.F,
    CR: strategy.CR,
    jrand: strategy.jrand,
    genomeLength,
    accept: strategy.accept,
    runSeed: context.config.seed,
  };
  const cache = new Map<string, Checkpoint>();

  function individual(id: string): Checkpoint {
    const given = context.models.get(id);
    if (given) return given;
    const cached = cache.get(id);
    if (cached) return cached;
    const recipe = context.recordOf(id)?.recipe as OffspringRecipe | undefined;
    if (!recipe) {
      throw new ModelevoError('STRATEGY_FAILED', `evolver: the run records no recipe for individual '${id}' (needed to rebuild it)`, { hint: 'the run store is incomplete; start a new --run-dir' });
    }
    const built = buildOffspring(id, recipe);
    cache.set(id, built);
    return built;
  }

  function buildOffspring(id: string, recipe: OffspringRecipe): Checkpoint {
    const parent = individual(recipe.parent);
    const partners = recipe.partners.map(individual);
    const tensors = new Map<string, MemoryTensor>();
    for (const name of tensorNames) {
      const info = parent.info(name);
      if (!evolved.has(name)) {
        tensors.set(name, { dtype: info.dtype, shape: info.shape, data: parent.readBytes(name) });
        continue;
      }
      const child = offspringTensor(recipe, name, parent.readFloat32(name), partners.map((p) => p.readFloat32(name)), offsets.get(name)!);
      tensors.set(name, { dtype: 'F32', shape: info.shape, data: new Uint8Array(child.buffer) });
    }
    return new MemoryCheckpoint(tensors, { source: `<evolver ${id}>`, config: parent.config });
  }

  /** drops cached offspring that are no longer in the population or in flight */
  function prune(keep: readonly string[]): void {
    for (const id of [...cache.keys()]) if (!keep.includes(id)) cache.delete(id);
  }

  function mergerRecipe(population: readonly string[]): Record<string, unknown> {
    const merger = strategy.merger;
    const lambda = strategy.merger_lambda;
    return {
      merge_method: merger,
      ...(merger === 'linear' ? {} : { base_model: context.config.base_model, parameters: { lambda } }),
      models: population.map((model) => ({ model, parameters: { weight: 1 } })),
      dtype: 'float32',
    };
  }

  async function merged(population: readonly string[]): Promise<Checkpoint> {
    const models = new Map(context.models);
    for (const id of population) models.set(id, individual(id));
    const result = await runMerge(mergerRecipe(population), undefined, { inMemory: true, models, cwd: context.cwd, progress: 'none' });
    return result.checkpoint!;
  }

  return {
    strategy: evolver,
    params,
    keyOf: (c) => (c.kind === 'merged' ? `merge[${c.population.join(',')}]` : c.id),
    async materialise(candidate): Promise<Materialised> {
      if (candidate.kind === 'individual') return { checkpoint: individual(candidate.id) };
      if (candidate.kind === 'merged') return { checkpoint: await merged(candidate.population), parents: candidate.population };
      const child = buildOffspring(candidate.id, candidate.recipe);
      cache.set(candidate.id, child);
      const parents = [candidate.recipe.parent, ...candidate.recipe.partners];
      prune([...candidate.population, ...parents]);
      const parentCheckpoints = parents.map(individual);
      if (params.mode === 'standalone') return { checkpoint: child, recipe: candidate.recipe, parents, parentCheckpoints };
      return { checkpoint: await merged(candidate.population), recipe: candidate.recipe, parents, parentCheckpoints };
    },
    bestCandidate: (state) => evolver.best(state) && { candidate: evolver.best(state)!.genome, fitness: evolver.best(state)!.fitness },
    describe: (c) => (c.kind === 'merged' ? `${params.mode === 'merger' ? 'merge of' : ''} population [${c.population.join(', ')}]` : c.id),
    close: () => cache.clear(),
  };
}
