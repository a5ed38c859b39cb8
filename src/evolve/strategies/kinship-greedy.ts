/**
 * Top-k greedy merging with model kinship — Hu et al., "Exploring Model Kinship for Merging Large Language
 * Models" (Algorithm 1); spec: kinship.md §5. Candidates are pairwise merges named by their parents; the
 * orchestrator merges and evaluates them. Kinship values come from the orchestrator through
 * `recordKinship` (ask it for `kinshipNeeded` first), so the state stays plain data.
 * Variants: 'kinship' (greedy + exploration), 'greedy' (no exploration), 'random' (random pairs, the
 * paper's Appendix C ablation).
 */
import { createRng, rngFromState } from '../../core/rng.js';
import { ModelevoError } from '../../core/errors.js';
import { type BaseParams, type Strategy, type TellResult, isBetter } from '../strategy.js';

export interface KinshipGreedyParams extends BaseParams {
  readonly foundations: readonly string[];
  readonly k: number;
  readonly variant: 'kinship' | 'greedy' | 'random';
  /** exploration partner drawn from all of M (paper's experiments) or only S ∪ G_{i−1} */
  readonly explorationPool: 'all' | 'recent';
  /** stop once the mean pairwise kinship of S exceeds this (kinship.md §5 early stop); null = off */
  readonly stopAtKinship: number | null;
  readonly maxGenerations: number;
  readonly maxEvaluations?: number;
}

export type KinshipGreedyCandidate =
  | { readonly kind: 'foundation'; readonly id: string }
  /** `parents[0]` is the higher-scoring parent (SLERP base by convention) */
  | { readonly kind: 'merge'; readonly id: string; readonly parents: readonly [string, string]; readonly exploration: boolean };

export interface KinshipGreedyState {
  readonly objective: 'min' | 'max';
  readonly phase: 'foundations' | 'first-generation' | 'loop' | 'done';
  readonly generation: number;
  /** every model of M with its fitness (null when its evaluation failed) */
  readonly models: { id: string; fitness: number | null; parents: [string, string] | null; generation: number }[];
  readonly top: string[];
  readonly previousTop: string[] | null;
  /** ids added in the last generation (G_{i−1}) */
  readonly recent: string[];
  readonly merged: string[];
  readonly kinship: Record<string, number>;
  readonly rng: [number, number, number, number];
  readonly evaluations: number;
  readonly stop: string | null;
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
const childId = (a: string, b: string): string => `merge(${a},${b})`;

function fitnessOf(state: KinshipGreedyState, id: string): number {
  return state.models.find((m) => m.id === id)?.fitness ?? NaN;
}

function rankTop(state: KinshipGreedyState, k: number): string[] {
  return [...state.models]
    .map((m, index) => ({ m, index }))
    .sort((a, b) => {
      const fa = a.m.fitness ?? NaN;
      const fb = b.m.fitness ?? NaN;
      if (isBetter(state.objective, fa, fb)) return -1;
      if (isBetter(state.objective, fb, fa)) return 1;
      return a.index - b.index;
    })
    .slice(0, k)
    .map((e) => e.m.id);
}

function orderedPair(state: KinshipGreedyState, a: string, b: string): [string, string] {
  return isBetter(state.objective, fitnessOf(state, b), fitnessOf(state, a)) ? [b, a] : [a, b];
}

function explorationPartnerPool(params: KinshipGreedyParams, state: KinshipGreedyState, best: string): string[] {
  const pool = params.explorationPool === 'all' ? state.models.map((m) => m.id) : [...new Set([...state.top, ...state.recent])];
  return pool.filter((id) => id !== best && !state.merged.includes(pairKey(best, id)));
}

/** Kinship pairs the next `ask` (or the early-stop test) needs and that are not recorded yet. */
export function kinshipNeeded(params: KinshipGreedyParams, state: KinshipGreedyState): [string, string][] {
  const needed: [string, string][] = [];
  const want = (a: string, b: string) => {
    if (!(pairKey(a, b) in state.kinship) && !needed.some(([x, y]) => pairKey(x, y) === pairKey(a, b))) needed.push([a, b]);
  };
  if (state.phase !== 'loop') return needed;
  if (params.variant === 'kinship' && state.top.length > 0) {
    const best = state.top[0]!;
    for (const id of explorationPartnerPool(params, state, best)) want(best, id);
  }
  if (params.stopAtKinship !== null) {
    for (let i = 0; i < state.top.length; i++) for (let j = i + 1; j < state.top.length; j++) want(state.top[i]!, state.top[j]!);
  }
  return needed;
}

export function recordKinship(state: KinshipGreedyState, entries: readonly { a: string; b: string; value: number }[]): KinshipGreedyState {
  const kinship = { ...state.kinship };
  for (const { a, b, value } of entries) kinship[pairKey(a, b)] = value;
  return { ...state, kinship };
}

function kinshipOf(state: KinshipGreedyState, a: string, b: string): number {
  const value = state.kinship[pairKey(a, b)];
  if (value === undefined) {
    throw new ModelevoError('STRATEGY_FAILED', `kinship between '${a}' and '${b}' is not recorded`, {
      hint: 'call kinshipNeeded() and recordKinship() before ask()',
    });
  }
  return value;
}

function meanTopKinship(state: KinshipGreedyState): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < state.top.length; i++)
    for (let j = i + 1; j < state.top.length; j++) {
      sum += kinshipOf(state, state.top[i]!, state.top[j]!);
      count++;
    }
  return count ? sum / count : NaN;
}

function mergeCandidate(state: KinshipGreedyState, a: string, b: string, exploration: boolean): KinshipGreedyCandidate {
  const parents = orderedPair(state, a, b);
  return { kind: 'merge', id: childId(parents[0], parents[1]), parents, exploration };
}

function loopCandidates(params: KinshipGreedyParams, state: KinshipGreedyState): { candidates: KinshipGreedyCandidate[]; rng: KinshipGreedyState['rng'] } {
  const candidates: KinshipGreedyCandidate[] = [];
  const taken = new Set(state.merged);
  const rng = rngFromState(state.rng);
  if (params.variant === 'random') {
    const ids = state.models.map((m) => m.id);
    const open: [string, string][] = [];
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) if (!taken.has(pairKey(ids[i]!, ids[j]!))) open.push([ids[i]!, ids[j]!]);
    const count = (params.k * (params.k - 1)) / 2;
    for (let c = 0; c < count && open.length > 0; c++) {
      const [a, b] = open.splice(rng.int(open.length), 1)[0]!;
      candidates.push(mergeCandidate(state, a, b, false));
    }
    return { candidates, rng: rng.state() };
  }
  for (let i = 0; i < state.top.length; i++)
    for (let j = i + 1; j < state.top.length; j++) {
      const [a, b] = [state.top[i]!, state.top[j]!];
      if (!taken.has(pairKey(a, b))) {
        candidates.push(mergeCandidate(state, a, b, false));
        taken.add(pairKey(a, b));
      }
    }
  if (params.variant === 'kinship' && state.top.length > 0) {
    const best = state.top[0]!;
    let partner: string | undefined;
    let lowest = Infinity;
    for (const id of explorationPartnerPool(params, state, best)) {
      if (taken.has(pairKey(best, id))) continue;
      const value = kinshipOf(state, best, id);
      if (value < lowest) {
        lowest = value;
        partner = id;
      }
    }
    if (partner !== undefined) candidates.push(mergeCandidate(state, best, partner, true));
  }
  return { candidates, rng: rng.state() };
}

export const kinshipGreedy: Strategy<KinshipGreedyParams, KinshipGreedyState, KinshipGreedyCandidate> = {
  name: 'kinship-greedy',
  title: 'Top-k greedy merging with kinship-based exploration',
  reference: 'Hu et al., Exploring Model Kinship for Merging Large Language Models, arXiv:2410.12613',

  init(params, seed) {
    if (params.foundations.length < 2 || params.k < 2) {
      throw new ModelevoError('CONFIG_INVALID', `kinship-greedy needs ≥ 2 foundation models and k ≥ 2 (got ${params.foundations.length} and ${params.k})`);
    }
    return {
      objective: params.objective,
      phase: 'foundations',
      generation: 0,
      models: [],
      top: [],
      previousTop: null,
      recent: [],
      merged: [],
      kinship: {},
      rng: createRng('kinship-greedy', seed).state(),
      evaluations: 0,
      stop: null,
    };
  },

  ask(params, state) {
    switch (state.phase) {
      case 'done':
        return { candidates: [], state };
      case 'foundations':
        return { candidates: params.foundations.map((id) => ({ kind: 'foundation', id })), state };
      case 'first-generation': {
        const ids = params.foundations;
        const candidates: KinshipGreedyCandidate[] = [];
        for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) candidates.push(mergeCandidate(state, ids[i]!, ids[j]!, false));
        return { candidates, state };
      }
      case 'loop': {
        if (params.stopAtKinship !== null && state.top.length > 1 && meanTopKinship(state) > params.stopAtKinship) {
          return { candidates: [], state: { ...state, phase: 'done', stop: 'kinship saturated' } };
        }
        const { candidates, rng } = loopCandidates(params, state);
        return { candidates, state: { ...state, rng } };
      }
    }
  },

  tell(params, state, candidates, fitness): TellResult<KinshipGreedyState> {
    if (candidates.length !== fitness.length) {
      throw new ModelevoError('VALUE_INVALID', `kinship-greedy tell got ${candidates.length} candidates and ${fitness.length} fitness values`);
    }
    if (state.phase === 'done') return { state, metrics: { evaluations: state.evaluations } };
    const generation = state.phase === 'foundations' ? 0 : state.generation + 1;
    const added = candidates.map((c, i) => ({
      id: c.id,
      fitness: Number.isFinite(fitness[i]!) ? fitness[i]! : null,
      parents: c.kind === 'merge' ? ([...c.parents] as [string, string]) : null,
      generation,
    }));
    const merged = [...state.merged, ...candidates.flatMap((c) => (c.kind === 'merge' ? [pairKey(c.parents[0], c.parents[1])] : []))];
    let next: KinshipGreedyState = {
      ...state,
      models: [...state.models, ...added],
      merged,
      recent: added.map((m) => m.id),
      generation,
      evaluations: state.evaluations + candidates.length,
    };
    const top = rankTop(next, params.k);
    if (state.phase === 'foundations') next = { ...next, phase: 'first-generation', top };
    else if (state.phase === 'first-generation') next = { ...next, phase: 'loop', top, previousTop: null };
    else {
      const unchanged = candidates.length === 0 || (state.top.length === top.length && state.top.every((id, i) => top[i] === id));
      next = { ...next, top, previousTop: state.top };
      if (unchanged) next = { ...next, phase: 'done', stop: 'top-k unchanged' };
    }
    if (next.phase === 'loop') {
      if (next.generation >= params.maxGenerations) next = { ...next, phase: 'done', stop: 'max generations' };
      else if (params.maxEvaluations !== undefined && next.evaluations >= params.maxEvaluations) next = { ...next, phase: 'done', stop: 'budget' };
    }
    const bestFitness = fitnessOf(next, top[0] ?? '');
    return { state: next, metrics: { generation, evaluations: next.evaluations, best: bestFitness } };
  },

  stopReason(_params, state) {
    return state.stop ?? undefined;
  },

  best(state) {
    const id = state.top[0];
    if (id === undefined) return undefined;
    const model = state.models.find((m) => m.id === id)!;
    const genome: KinshipGreedyCandidate = model.parents
      ? { kind: 'merge', id, parents: model.parents, exploration: false }
      : { kind: 'foundation', id };
    return { genome, fitness: model.fitness ?? NaN };
  },
};
