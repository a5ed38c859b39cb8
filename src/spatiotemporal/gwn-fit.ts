/**
 * Graph WaveNet sessions (the engine's, ComS2T's prompt-conditioned Stage 1b, the tfjs reference in
 * test/support) train through the one loop, src/nn/fit.ts's fitLoopAsync (issue #22 item 2). Every epoch is one
 * Fisher–Yates shuffle of the sample list drawn from the session's own batch-order stream
 * (createRng('gwn-order', seed)): the stream lives with the session, so SynEVO's many short calls on one session
 * continue it, and a session rebuilt on resume starts it afresh. Only full batches are trained (a model is
 * compiled for one batch size); one session step per batch.
 */
import type { Rng } from '../core/rng.js';
import { fitLoopAsync, type AsyncFitLoopOptions, type FitResult } from '../nn/fit.js';
import type { ArenaArray } from '../nn/kernels/kernels.js';

/** What one optimiser step of a session takes besides the batch. */
export interface GwnStepOptions {
  readonly weightDecay: number;
  /** DropConnect probability on weight matrices (SynEVO Def. 4.2; 0 = off) */
  readonly dropConnect?: number;
  /**
   * dropout on activations at this rate instead of the configured one (SynEVO's 'activation' drop mode); when
   * > 0 the steps are masked and their BatchNorm statistics come from a pass at the configured rate
   */
  readonly activationDropout?: number;
}

/** What the loop needs of a session. */
export interface GwnTrainable {
  /** the batch-order stream; each epoch draws one shuffle of the sample list from it */
  readonly batchOrder: Rng;
  /** one optimiser step on these samples; returns the batch's loss */
  step(batch: readonly number[], options: GwnStepOptions): number | Promise<number>;
  /** opens the training model for `batch` (a data-parallel session starts its worker here) */
  ready?(batch: number): Promise<void>;
  /** live views of everything restore-best puts back (parameters, persistent state); absent: keep snapshots */
  restorable?(): readonly ArenaArray[];
}

export interface SampleFitOptions extends Omit<AsyncFitLoopOptions, 'batch' | 'seed' | 'rng' | 'shuffleKey' | 'shuffle' | 'shuffleFrom' | 'order' | 'lastBatch' | 'checkpoint' | 'resumeFrom'> {
  /** the batch size (a sample list shorter than it is one batch) */
  readonly batchSize: number;
  readonly step: GwnStepOptions;
}

/** Trains `session` on `samples` with the one loop; loop epochs count from 0. */
export async function fitSamples(session: GwnTrainable, samples: readonly number[], options: SampleFitOptions): Promise<FitResult> {
  const { batchSize, step, ...loop } = options;
  // an empty list trains nothing (no full batch) rather than failing on a zero batch size
  const batch = Math.max(1, Math.min(batchSize, samples.length));
  let opened = false;
  return fitLoopAsync(
    {
      async trainOn(rows) {
        if (!opened) await session.ready?.(batch);
        opened = true;
        return session.step(Array.from(rows, (r) => samples[r]!), step);
      },
      ...(session.restorable ? { restorable: () => session.restorable!() } : {}),
    },
    samples.length,
    { ...loop, batch, seed: 0, rng: session.batchOrder, shuffleFrom: 'identity', lastBatch: 'drop' },
  );
}
