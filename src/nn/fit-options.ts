/**
 * The options, results and targets of the one training loop (fit.ts): what a caller passes and gets back.
 */
import type { Rng } from '../core/rng.js';
import type { ExtraTensor } from './checkpoint.js';
import type { ArenaArray } from './kernels/kernels.js';

/** What to do with the examples left over after the last full batch of an epoch. */
export type LastBatch = 'drop' | 'pad' | 'keep';

export interface Validation {
  /** evaluated after every `every` optimiser steps, or at the end of each epoch ('epoch', the default) */
  readonly every?: 'epoch' | number;
  readonly metric: () => number;
  readonly objective: 'min' | 'max';
  /** stop after this many evaluations in a row without improvement (never stops when absent) */
  readonly patience?: number;
  /** an evaluation improves only if it beats the best by more than this (default 0) */
  readonly minDelta?: number;
  /** when the loop ends, put back the parameters (and persistent state) of the best evaluation (default true) */
  readonly restoreBest?: boolean;
}

export interface Checkpointing {
  readonly path: string;
  /** written after every `every` optimiser steps, or at the end of each epoch ('epoch', the default) */
  readonly every?: 'epoch' | number;
}

export interface EpochSummary {
  readonly epoch: number;
  /** optimiser steps so far (a resumed run counts the earlier ones) */
  readonly steps: number;
  /** mean loss of this epoch's steps in this call */
  readonly meanLoss: number;
  /** the last validation metric, if one was evaluated */
  readonly metric: number | undefined;
  /** an evaluation during this epoch became the best so far */
  readonly improved: boolean;
}

/**
 * Where a run continued without a checkpoint of this loop starts (a caller that stores its own per-epoch
 * records): the first epoch to run and the early-stopping state of the earlier part. Its best parameters are
 * the caller's: if no later evaluation beats `best`, nothing is restored.
 */
export interface ContinueFrom {
  readonly epoch: number;
  readonly best?: { readonly metric: number; readonly epoch: number };
  /** evaluations since the best (default 0) */
  readonly sinceBest?: number;
}

export interface FitLoopOptions {
  readonly epochs: number;
  readonly batch: number;
  readonly seed: number | string;
  /** first key of the default order stream (default 'fit-order') */
  readonly shuffleKey?: string;
  /** false: every epoch in index order (default true) */
  readonly shuffle?: boolean;
  /**
   * what each epoch's shuffle starts from: the previous epoch's order ('previous', the default) or the index
   * order again ('identity': a fresh shuffle of [0..count) from the continuing stream)
   */
  readonly shuffleFrom?: 'previous' | 'identity';
  /** the caller's stream instead of createRng(shuffleKey, seed) (it continues across calls; resume cannot replay it) */
  readonly rng?: Rng;
  /** a custom order per epoch (a permutation of 0..count−1; must be a pure function of the epoch for resume) */
  readonly order?: (epoch: number) => ArrayLike<number>;
  /** default 'drop'; 'pad' fills the last batch with the epoch's first examples again; 'keep' trains it short */
  readonly lastBatch?: LastBatch;
  /** stop once this many optimiser steps were taken in total */
  readonly maxSteps?: number;
  /** at most this many steps per epoch (the epoch's remaining batches are skipped) */
  readonly maxStepsPerEpoch?: number;
  /** a performance.now() time: once passed, the epoch ends (after at least one step) and the loop stops after it */
  readonly deadline?: number;
  /** a non-finite loss: 'throw' a TrainingDivergedError (default) or 'continue' (the NaN reaches the mean loss) */
  readonly divergence?: 'throw' | 'continue';
  readonly validation?: Validation;
  readonly checkpoint?: Checkpointing;
  /** a checkpoint written by this loop: continue from its position as if never interrupted */
  readonly resumeFrom?: string;
  /**
   * start at this epoch with this early-stopping state; the loop's own order stream replays the skipped
   * epochs' shuffles, a caller's `rng` is taken where it stands
   */
  readonly continueFrom?: ContinueFrom;
  /** after every step (no allocation: plain arguments) */
  readonly onStep?: (loss: number, step: number, epoch: number) => void;
  readonly onEpoch?: (summary: EpochSummary) => void;
}

export interface FitResult {
  /** optimiser steps in total (a resumed run counts the earlier ones) */
  readonly steps: number;
  /** epochs completed */
  readonly epochs: number;
  readonly finalLoss: number;
  /** mean loss over this call's steps (sum in step order, then divided; 0 when no step ran) */
  readonly meanLoss: number;
  readonly stopped: 'epochs' | 'max_steps' | 'patience' | 'deadline';
  /** the best validation evaluation, if any */
  readonly best: { readonly metric: number; readonly step: number; readonly epoch: number } | undefined;
  /** every validation metric in order (a resumed run includes the earlier ones) */
  readonly metrics: readonly number[];
}

/** What `fitLoop` trains: an update per batch of example indices, plus what early stopping and checkpoints need. */
export interface FitTarget {
  /** one update on the examples `rows` (a view valid during the call); returns the batch's mean loss */
  trainOn(rows: Int32Array, epoch: number): number;
  /** live views of everything restoring the best must put back (parameters, persistent state) */
  restorable?(): readonly ArenaArray[];
  /** writes a checkpoint: the model, its optimiser state, `extra` runs and the loop's `metadata` */
  save?(path: string, metadata: Record<string, string>, extra: readonly ExtraTensor[]): void;
  /** loads what `save` wrote (not the loop's own entries) and sets the optimiser step counter to `steps` */
  restore?(path: string, steps: number): void;
}


/** A target whose update may be asynchronous (a session behind a worker, an async evaluator). */
export interface AsyncFitTarget extends Omit<FitTarget, 'trainOn'> {
  trainOn(rows: Int32Array, epoch: number): number | Promise<number>;
}

export interface AsyncFitLoopOptions extends Omit<FitLoopOptions, 'validation' | 'onEpoch'> {
  readonly validation?: Omit<Validation, 'metric'> & { readonly metric: () => number | Promise<number> };
  /** awaited before the loop goes on (an epoch record written to a store, a snapshot taken) */
  readonly onEpoch?: (summary: EpochSummary) => void | Promise<void>;
}
