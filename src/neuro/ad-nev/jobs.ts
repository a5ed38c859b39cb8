/**
 * The unit of work of the training engine: train a candidate and score windows with it, or score windows
 * with given weights. One function executes a job, in a worker or inline, so the two paths cannot diverge.
 */
import type { ConvAutoencoderGenome, ModelWeights } from './conv-autoencoder.js';
import { scoreWithModel, scoringModel, trainModel, type DetailedScores, type TrainOptions } from './autoencoder-trainer.js';
import type { Model } from '../../nn/model.js';
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

/** Runs one job on the engine; failures become values (style.md §1.7). */
export async function executeJob(job: EngineJob): Promise<EngineJobResult> {
  const started = performance.now();
  try {
    if (job.kind === 'train-score') {
      const trained = trainModel(job.genome, job.train, job.options);
      // the trained model scores too (inference mode): no second compile
      const { scores, featureErrors } = scoreAll(() => trained.model, job.score);
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
    const largest = Math.max(1, ...job.score.map((w) => w.count));
    let model: Model | undefined;
    const { scores, featureErrors } = scoreAll(() => (model ??= scoringModel(job.genome, job.weights, job.score[0]!.features, largest)), job.score);
    return { ok: true, scores, featureErrors, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), seconds: (performance.now() - started) / 1000 };
  }
}

function scoreAll(model: () => Model, batches: readonly WindowBatch[]): { scores: Float64Array[]; featureErrors: Float64Array[] } {
  const scores: Float64Array[] = [];
  const featureErrors: Float64Array[] = [];
  for (const windows of batches) {
    const detailed: DetailedScores = scoreWithModel(model(), windows);
    scores.push(detailed.windowScores);
    featureErrors.push(detailed.featureErrors);
  }
  return { scores, featureErrors };
}
