/**
 * The resumable ask/tell loop shared by every evolution command. Each evaluation is committed to the run
 * store as soon as it finishes, keyed by (step, candidate index); the strategy state is committed after every
 * `tell`. On resume the loop reloads the last state, asks again (strategies are deterministic functions of
 * their state), reuses the stored evaluations of the interrupted step and evaluates only the rest: no
 * completed evaluation is lost or repeated. A failed evaluation is a NaN fitness with a logged reason.
 * The budget is hard: the loop stops before the evaluation that would exceed it, even mid-step (the partial
 * step is stored and a resume with a larger budget completes it). When every evaluation of the first step
 * fails, the run stops with an error instead of "finishing" a run that can never score anything.
 */
import { ModelevoError } from '../core/errors.js';
import type { BaseParams, Strategy } from './strategy.js';
import type { RunStore } from '../runs/store.js';

export interface EvaluationOutcome {
  readonly fitness: number;
  readonly failure?: string;
  readonly metrics?: Record<string, number>;
  readonly kinship?: Record<string, number>;
  readonly recipe?: unknown;
  readonly parents?: readonly string[];
}

export interface EvaluationContext {
  readonly step: number;
  readonly index: number;
}

export interface LoopProgress {
  readonly step: number;
  readonly evaluations: number;
  readonly reused: number;
  readonly best: number | undefined;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface LoopOptions<P extends BaseParams, S, G> {
  readonly strategy: Strategy<P, S, G>;
  readonly params: P;
  readonly seed: number;
  readonly store: RunStore;
  /** evaluates one candidate; a thrown error is recorded as a failed (NaN) evaluation */
  evaluate(candidate: G, context: EvaluationContext): Promise<EvaluationOutcome>;
  /** stable name of a candidate for the run record (e.g. a recipe hash or a model id) */
  keyOf(candidate: G, context: EvaluationContext): string;
  /** deterministic state preparation before each ask (e.g. recording kinship values) */
  beforeAsk?(state: S): Promise<S>;
  /** stop after exactly this many evaluations in total (including those of earlier sessions), even mid-step */
  readonly maxEvaluations?: number;
  onProgress?(progress: LoopProgress): void;
}

export interface LoopResult<S, G = unknown> {
  readonly state: S;
  readonly steps: number;
  /** evaluations made in this session */
  readonly evaluated: number;
  /** evaluations taken from the store (made before an interruption) */
  readonly reused: number;
  readonly stopReason: string;
  /** evaluations of a step the budget cut short: stored, but never told to the strategy */
  readonly untold: readonly { readonly candidate: G; readonly fitness: number }[];
}

export async function runLoop<P extends BaseParams, S, G>(options: LoopOptions<P, S, G>): Promise<LoopResult<S, G>> {
  const { strategy, params, store } = options;
  const stored = store.latestState<S>();
  let step = stored?.step ?? 0;
  let state = stored?.state ?? strategy.init(params, options.seed);
  if (!stored) store.saveState(0, state);
  else store.event('resumed', { step });
  let evaluated = 0;
  let reused = 0;
  let total = store.individuals().length;

  for (;;) {
    const reason = strategy.stopReason(params, state);
    if (reason) return finish(reason);
    // a resumed run whose budget ran out inside a step: that step's stored evaluations were never told either
    if (options.maxEvaluations !== undefined && total >= options.maxEvaluations) return finish('budget', storedUntold());
    if (options.beforeAsk) state = await options.beforeAsk(state);
    const asked = strategy.ask(params, state);
    const done = store.individualsAt(step + 1);
    const fitness: number[] = [];
    for (let index = 0; index < asked.candidates.length; index++) {
      const candidate = asked.candidates[index]!;
      const previous = done.get(index);
      if (previous) {
        fitness.push(previous.fitness);
        reused++;
        continue;
      }
      if (options.maxEvaluations !== undefined && total >= options.maxEvaluations) {
        if (step === 0) refuseWhenAllFailed(fitness);
        store.event('budget-exhausted', { step: step + 1, evaluated: index, population: asked.candidates.length });
        return finish('budget', asked.candidates.slice(0, fitness.length).map((candidate, k) => ({ candidate, fitness: fitness[k]! })));
      }
      const context = { step: step + 1, index };
      const started = performance.now();
      let outcome: EvaluationOutcome;
      try {
        outcome = await options.evaluate(candidate, context);
      } catch (error) {
        outcome = { fitness: NaN, failure: error instanceof Error ? error.message : String(error) };
      }
      const value = Number.isFinite(outcome.fitness) ? outcome.fitness : NaN;
      store.recordIndividual({
        step: step + 1,
        index,
        key: options.keyOf(candidate, context),
        genome: candidate,
        ...(outcome.recipe === undefined ? {} : { recipe: outcome.recipe }),
        ...(outcome.parents === undefined ? {} : { parents: outcome.parents }),
        fitness: value,
        ...(outcome.failure === undefined && Number.isFinite(outcome.fitness) ? {} : { failure: outcome.failure ?? `non-finite fitness ${outcome.fitness}` }),
        ...(outcome.metrics === undefined ? {} : { metrics: outcome.metrics }),
        ...(outcome.kinship === undefined ? {} : { kinship: outcome.kinship }),
        seconds: (performance.now() - started) / 1000,
      });
      if (!Number.isFinite(outcome.fitness)) store.event('evaluation-failed', { step: step + 1, index, failure: outcome.failure });
      fitness.push(value);
      evaluated++;
      total++;
    }
    if (step === 0) refuseWhenAllFailed(fitness);
    const told = strategy.tell(params, asked.state, asked.candidates, fitness);
    state = told.state;
    step++;
    store.transaction(() => {
      store.saveState(step, state);
      store.event('tell', { step, metrics: told.metrics });
    });
    store.checkpoint();
    options.onProgress?.({ step, evaluations: total, reused, best: strategy.best(state)?.fitness, metrics: told.metrics });
  }

  /** a first step without one finite fitness means the fitness can never succeed (wrong inputs, broken command) */
  function refuseWhenAllFailed(fitness: readonly number[]): void {
    if (fitness.length === 0 || fitness.some(Number.isFinite)) return;
    const failures = [...store.individualsAt(1).values()].map((r) => r.failure ?? 'non-finite fitness');
    const first = failures[0] ?? 'unknown';
    store.event('first-step-failed', { evaluations: fitness.length, failure: first });
    throw new ModelevoError('STRATEGY_FAILED', `every evaluation of the first step failed (${fitness.length} of ${fitness.length}); the first failure: ${first}`, {
      hint: 'check the fitness inputs (text files, window sizes, the command or module) on one model; the failures are stored in the run (modelevo runs show)',
      details: { evaluations: fitness.length, failures: [...new Set(failures)].slice(0, 5) },
    });
  }

  function storedUntold(): LoopResult<S, G>['untold'] {
    return [...store.individualsAt(step + 1).values()].map((record) => ({ candidate: record.genome as G, fitness: record.fitness }));
  }

  function finish(stopReason: string, untold: LoopResult<S, G>['untold'] = []): LoopResult<S, G> {
    store.event('stopped', { step, reason: stopReason });
    return { state, steps: step, evaluated, reused, stopReason, untold };
  }
}
