/**
 * fit's early stopping: records every validation metric in the loop state, remembers the parameters of the best
 * evaluation (to put them back at the end) and says when the patience has run out.
 */
import type { ArenaArray } from './kernels/kernels.js';
import type { LoopState } from './fit-state.js';

/** The part of fit's `Validation` that judging a metric needs. */
export interface EarlyStopRule {
  readonly objective: 'min' | 'max';
  readonly patience?: number;
  readonly minDelta?: number;
  readonly restoreBest?: boolean;
}

/** Copies the concatenation of `views` into `into` (or back out of it). */
function copyViews(views: readonly ArenaArray[], into: Float32Array | Float64Array, back: boolean): void {
  let at = 0;
  for (const v of views) {
    if (back) v.set(into.subarray(at, at + v.length));
    else into.set(v, at);
    at += v.length;
  }
}

export class EarlyStopping {
  /** the best parameters, allocated at the first improvement; float64 holds either arena type exactly */
  bestRun: Float64Array | undefined;
  /** the last metric judged */
  lastMetric: number | undefined;

  constructor(
    private readonly state: LoopState,
    private readonly rule: EarlyStopRule | undefined,
    private readonly restorable: (() => readonly ArenaArray[]) | undefined,
    resumedBest: Float32Array | undefined,
  ) {
    if (resumedBest) this.bestRun = Float64Array.from(resumedBest);
  }

  /** Records `metric` (evaluated in `epoch`); true when early stopping says stop. */
  judge(metric: number, epoch: number): boolean {
    const { state } = this;
    const rule = this.rule!;
    const minDelta = rule.minDelta ?? 0;
    this.lastMetric = metric;
    state.metrics.push(metric);
    const best = state.best?.metric;
    const improved = !Number.isNaN(metric) && (best === undefined || (rule.objective === 'min' ? metric < best - minDelta : metric > best + minDelta));
    if (improved) {
      state.best = { metric, step: state.steps, epoch };
      state.sinceBest = 0;
      if ((rule.restoreBest ?? true) && this.restorable) {
        const views = this.restorable();
        this.bestRun ??= new Float64Array(views.reduce((s, v) => s + v.length, 0));
        copyViews(views, this.bestRun, false);
      }
      return false;
    }
    state.sinceBest++;
    return rule.patience !== undefined && state.sinceBest >= rule.patience;
  }

  /** At the end of the loop: puts the best evaluation's parameters back unless they are the current ones. */
  restoreBest(): void {
    const { state } = this;
    if (this.bestRun && state.best && state.best.step !== state.steps && this.restorable) copyViews(this.restorable(), this.bestRun, true);
  }
}
