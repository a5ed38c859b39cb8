/**
 * The resumable ask/tell loop shared by every evolution command. A strategy's whole ask goes to the
 * evaluator at once (`evaluateBatch`), so an evaluator may train, merge or score candidates together, in
 * parallel or on other machines; each evaluation is committed to the run store as soon as its outcome
 * settles, keyed by (step, candidate index); the strategy state is committed after every `tell`. On resume
 * the loop reloads the last state, asks again (strategies are deterministic functions of their state), reuses
 * the stored evaluations of the interrupted step and sends only the rest: no completed evaluation is lost or
 * repeated. A failed evaluation is a NaN fitness with a logged reason.
 * The budget is hard: the loop sends no more candidates than the budget has left, even mid-step (the partial
 * step is stored and a resume with a larger budget completes it). When every evaluation of the first step
 * fails, the run stops with an error instead of "finishing" a run that can never score anything.
 */
import { ModelevoError } from '../core/errors.js';
import type { BaseParams, Strategy } from './strategy.js';
import type { IndividualRecord, RunStore } from '../runs/store.js';

/** What the run store keeps of an evaluation besides its fitness (a merge's recipe and parents, kinship …). */
export type OutcomeDetails = Partial<Pick<IndividualRecord, 'recipe' | 'parents' | 'kinship'>>;

export interface EvaluationOutcome {
  readonly fitness: number;
  readonly failure?: string;
  readonly metrics?: Record<string, number>;
  /** stored verbatim with the individual */
  readonly details?: OutcomeDetails;
  /** time this evaluation took; when absent, the time from the batch's start until it settled */
  readonly seconds?: number;
}

export interface EvaluationContext {
  readonly step: number;
  readonly index: number;
}

/**
 * Evaluates one batch: the candidates of one ask that are not in the store yet, with their (step, index).
 * Returns one promise per candidate, in candidate order; each is stored as soon as it settles, and a
 * rejected one is a failed (NaN) evaluation.
 */
export type EvaluateBatch<G> = (candidates: readonly G[], contexts: readonly EvaluationContext[]) => readonly Promise<EvaluationOutcome>[];

/** The local evaluator: one candidate after the other, each timed (a batch evaluator for `runLoop`). */
export function evaluateInOrder<G>(evaluate: (candidate: G, context: EvaluationContext) => Promise<EvaluationOutcome>): EvaluateBatch<G> {
  return (candidates, contexts) => {
    let previous: Promise<unknown> = Promise.resolve();
    return candidates.map((candidate, k) => {
      const outcome = previous.then(async () => {
        const started = performance.now();
        const result = await evaluate(candidate, contexts[k]!);
        return { ...result, seconds: result.seconds ?? (performance.now() - started) / 1000 };
      });
      // the next evaluation starts when this one has settled, whether it succeeded or failed
      previous = outcome.catch(() => undefined);
      return outcome;
    });
  };
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
  /** evaluates the candidates of one ask that still need it (see EvaluateBatch) */
  readonly evaluateBatch: EvaluateBatch<G>;
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
    const fitness: number[] = asked.candidates.map((_, index) => done.get(index)?.fitness ?? NaN);
    const pending = asked.candidates.map((_, index) => index).filter((index) => !done.has(index));
    reused += asked.candidates.length - pending.length;
    const allowed = options.maxEvaluations === undefined ? pending.length : Math.max(0, options.maxEvaluations - total);
    const sent = pending.slice(0, allowed);
    const contexts = sent.map((index) => ({ step: step + 1, index }));
    const batchStarted = performance.now();
    const outcomes = sent.length > 0 ? options.evaluateBatch(sent.map((index) => asked.candidates[index]!), contexts) : [];
    if (outcomes.length !== sent.length) {
      throw new ModelevoError('INTERNAL', `evaluateBatch returned ${outcomes.length} outcomes for ${sent.length} candidates`);
    }
    const record = (outcome: EvaluationOutcome, k: number): void => {
      const { index } = contexts[k]!;
      const value = Number.isFinite(outcome.fitness) ? outcome.fitness : NaN;
      store.recordIndividual({
        step: step + 1,
        index,
        key: options.keyOf(asked.candidates[index]!, contexts[k]!),
        genome: asked.candidates[index],
        ...outcome.details,
        fitness: value,
        ...(outcome.failure === undefined && Number.isFinite(outcome.fitness) ? {} : { failure: outcome.failure ?? `non-finite fitness ${outcome.fitness}` }),
        ...(outcome.metrics === undefined ? {} : { metrics: outcome.metrics }),
        seconds: outcome.seconds ?? (performance.now() - batchStarted) / 1000,
      });
      if (!Number.isFinite(outcome.fitness)) store.event('evaluation-failed', { step: step + 1, index, failure: outcome.failure });
      fitness[index] = value;
      evaluated++;
      total++;
    };
    // settle in any order, store in the order they settle: a kill loses only the evaluations still running.
    // A store that fails stops the recording; the loop still waits for the batch, so nothing runs on after it.
    let storeFailure: { error: unknown } | undefined;
    await Promise.all(
      outcomes.map(async (promise, k) => {
        let outcome: EvaluationOutcome;
        try {
          outcome = await promise;
        } catch (error) {
          outcome = { fitness: NaN, failure: error instanceof Error ? error.message : String(error) };
        }
        if (storeFailure) return;
        try {
          record(outcome, k);
        } catch (error) {
          storeFailure = { error };
        }
      }),
    );
    if (storeFailure) throw storeFailure.error;
    if (sent.length < pending.length) {
      const evaluatedSoFar = asked.candidates.length - pending.length + sent.length;
      if (step === 0) refuseWhenAllFailed(fitness.slice(0, evaluatedSoFar));
      store.event('budget-exhausted', { step: step + 1, evaluated: evaluatedSoFar, population: asked.candidates.length });
      // done ∪ sent is a prefix of the step: candidates are sent in index order and earlier sessions did the same
      return finish('budget', asked.candidates.slice(0, evaluatedSoFar).map((candidate, k) => ({ candidate, fitness: fitness[k]! })));
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
