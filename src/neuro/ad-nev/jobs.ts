/**
 * The unit of work of the training engine: train a candidate and score windows with it, or score windows
 * with given weights. One function executes a job, in a worker or inline, so the two paths cannot diverge.
 */
import type { ConvAutoencoderGenome, ModelWeights } from './conv-autoencoder.js';
import { scoreWindowsDetailed, trainAutoencoder, type TrainOptions } from './autoencoder-trainer.js';
import type { WindowBatch } from '../../tasks/anomaly/series.js';

export type EngineJob =
  | {
      readonly kind: 'train-score';
      readonly genome: ConvAutoencoderGenome;
      readonly train: WindowBatch;
      readonly score: readonly WindowBatch[];
      readonly options: TrainOptions;
      /** return the trained weights (large) or only the scores */
      readonly returnWeights: boolean;
    }
  | {
      readonly kind: 'score';
      readonly genome: ConvAutoencoderGenome;
      readonly weights: ModelWeights;
      readonly score: readonly WindowBatch[];
    };

export type EngineJobResult =
  | {
      readonly ok: true;
      readonly scores: Float64Array[];
      /** per scored batch, the mean squared error of each feature */
      readonly featureErrors: Float64Array[];
      readonly weights?: ModelWeights;
      readonly finalLoss?: number;
      readonly steps?: number;
      readonly seconds: number;
    }
  | { readonly ok: false; readonly error: string; readonly seconds: number };

/** Runs one job on the active backend; failures become values (style.md §1.7). */
export async function executeJob(job: EngineJob): Promise<EngineJobResult> {
  const started = performance.now();
  try {
    if (job.kind === 'train-score') {
      const trained = await trainAutoencoder(job.genome, job.train, job.options);
      const { scores, featureErrors } = await scoreAll(job.genome, trained.weights, job.score);
      return {
        ok: true,
        scores,
        featureErrors,
        ...(job.returnWeights ? { weights: trained.weights } : {}),
        finalLoss: trained.finalLoss,
        steps: trained.steps,
        seconds: (performance.now() - started) / 1000,
      };
    }
    const { scores, featureErrors } = await scoreAll(job.genome, job.weights, job.score);
    return { ok: true, scores, featureErrors, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), seconds: (performance.now() - started) / 1000 };
  }
}

async function scoreAll(genome: ConvAutoencoderGenome, weights: ModelWeights, batches: readonly WindowBatch[]): Promise<{ scores: Float64Array[]; featureErrors: Float64Array[] }> {
  const scores: Float64Array[] = [];
  const featureErrors: Float64Array[] = [];
  for (const windows of batches) {
    const detailed = await scoreWindowsDetailed(genome, weights, windows);
    scores.push(detailed.windowScores);
    featureErrors.push(detailed.featureErrors);
  }
  return { scores, featureErrors };
}
