/**
 * Training and scoring of the conv autoencoder (ad-nev.md §1.2, §3.2) on the training engine (src/nn; the
 * network in engine-network.ts). Everything random (initial weights, batch order) comes from keyed seeded
 * streams and the engine's kernels are deterministic, so the same (genome, data, seed) gives bit-identical
 * weights and scores in any worker. The epoch loop is the engine's one loop, `fit` (src/nn/fit.ts). BatchNorm keeps torch's conventions: batch statistics while training,
 * running averages (momentum 0.1, unbiased variance) when scoring.
 */
import { ModelevoError } from '../../core/errors.js';
import type { Model } from '../../nn/model.js';
import { Trainer } from '../../nn/trainer.js';
import { fit } from '../../nn/fit.js';
import { initialWeights, parameterSpecs, planAutoencoder, type AutoencoderPlan, type ConvAutoencoderGenome, type ModelWeights } from './conv-autoencoder.js';
import { compileNetwork, engineNetwork, exportWeights, optimizerOf, type EngineNetwork } from './engine-network.js';
import type { WindowBatch } from '../../tasks/anomaly/series.js';

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number | string;
  /** optional cap on optimiser steps (budgeted evolution) */
  readonly maxSteps?: number;
}

export interface TrainResult {
  readonly weights: ModelWeights;
  readonly finalLoss: number;
  readonly steps: number;
}

/** windows per forward pass when scoring with given weights (the arena grows with it; results do not depend on it) */
const SCORE_BATCH = 128;

export function planOrThrow(genome: ConvAutoencoderGenome, features: number): AutoencoderPlan {
  const plan = planAutoencoder(genome, features);
  if ('invalid' in plan) throw new ModelevoError('CONFIG_INVALID', `invalid conv autoencoder genome: ${plan.invalid}`, { hint: 'repair the genome for this input width (operators.ts)' });
  return plan;
}

function checkWindows(genome: ConvAutoencoderGenome, windows: WindowBatch): void {
  if (windows.window !== genome.window) {
    throw new ModelevoError('SHAPE_MISMATCH', `windows have ${windows.window} steps, genome expects ${genome.window}`, { details: { expected: genome.window, actual: windows.window } });
  }
  if (windows.count < 1) throw new ModelevoError('VALUE_INVALID', 'no windows to train or score on, expected at least one', { hint: 'provide a series longer than the window' });
}

/** the weights in parameterSpecs order, so saved files list tensors as before the engine port */
function inSpecOrder(plan: AutoencoderPlan, weights: ModelWeights): ModelWeights {
  return Object.fromEntries(parameterSpecs(plan).map((spec) => [spec.name, weights[spec.name]!]));
}

export interface TrainedModel extends TrainResult {
  /**
   * the compiled training model (inference with `forward(false)` uses the running statistics); valid until
   * the same network is compiled again on this thread (compiled models are reused, engine-network.ts)
   */
  readonly model: Model;
  readonly network: EngineNetwork;
}

/** Trains a fresh autoencoder (seeded init) on `windows`; keeps the compiled model for scoring. */
export function trainModel(genome: ConvAutoencoderGenome, windows: WindowBatch, options: TrainOptions): TrainedModel {
  const plan = planOrThrow(genome, windows.features);
  checkWindows(genome, windows);
  const network = engineNetwork(plan, genome.loss);
  const batchSize = Math.min(options.batchSize, windows.count);
  const model = compileNetwork(network, batchSize, initialWeights(plan, options.seed), optimizerOf(genome));
  const trainer = new Trainer(model, { lr: genome.learningRate });
  // the autoencoder reconstructs its input: inputs and targets are the same rows; the last partial batch is dropped
  const rows = windows.data.subarray(0, windows.count * windows.window * windows.features);
  const { finalLoss } = fit(trainer, { count: windows.count, inputs: rows, targets: rows }, {
    epochs: options.epochs,
    batch: batchSize,
    seed: options.seed,
    shuffleKey: 'train-order',
    maxSteps: options.maxSteps,
  });
  return { model, network, weights: inSpecOrder(plan, exportWeights(model, network)), finalLoss, steps: trainer.steps };
}

export function trainAutoencoder(genome: ConvAutoencoderGenome, windows: WindowBatch, options: TrainOptions): TrainResult {
  const { weights, finalLoss, steps } = trainModel(genome, windows, options);
  return { weights, finalLoss, steps };
}

/** A compiled inference model for `weights`. */
export function scoringModel(genome: ConvAutoencoderGenome, weights: ModelWeights, features: number, windows: number): Model {
  const network = engineNetwork(planOrThrow(genome, features), genome.loss);
  return compileNetwork(network, Math.max(1, Math.min(SCORE_BATCH, windows)), weights);
}

/** Per-window mean squared reconstruction error (ad-nev.md §3.2), float64 accumulation. */
export function scoreWindows(genome: ConvAutoencoderGenome, weights: ModelWeights, windows: WindowBatch): Float64Array {
  return scoreWindowsDetailed(genome, weights, windows).windowScores;
}

export interface DetailedScores {
  readonly windowScores: Float64Array;
  /** mean squared error of each feature over all windows and time steps */
  readonly featureErrors: Float64Array;
}

export function scoreWindowsDetailed(genome: ConvAutoencoderGenome, weights: ModelWeights, windows: WindowBatch): DetailedScores {
  checkWindows(genome, windows);
  return scoreWithModel(scoringModel(genome, weights, windows.features, windows.count), windows);
}

/** Scores in inference mode with a compiled model, its batch at a time (the last batch padded with zeros). */
export function scoreWithModel(model: Model, windows: WindowBatch): DetailedScores {
  const stride = windows.window * windows.features;
  const batch = model.input.shape[0]!;
  if (batch * stride !== model.input.size) {
    throw new ModelevoError('SHAPE_MISMATCH', `windows of ${windows.window} × ${windows.features} do not fit a model input of [${model.input.shape.join(', ')}]`, {
      details: { expected: model.input.shape, actual: [batch, windows.window, windows.features] },
    });
  }
  const input = model.view(model.input);
  const scores = new Float64Array(windows.count);
  const featureErrors = new Float64Array(windows.features);
  for (let start = 0; start < windows.count; start += batch) {
    const n = Math.min(batch, windows.count - start);
    const x = windows.data.subarray(start * stride, (start + n) * stride);
    input.set(x);
    // padding rows are independent of the real ones in inference mode (BatchNorm uses running statistics)
    input.fill(0, n * stride);
    model.forward(false);
    const out = model.view(model.output);
    for (let w = 0; w < n; w++) {
      let sum = 0;
      for (let k = 0; k < stride; k++) {
        const d = out[w * stride + k]! - x[w * stride + k]!;
        sum += d * d;
        featureErrors[k % windows.features]! += d * d;
      }
      scores[start + w] = sum / stride;
    }
  }
  for (let f = 0; f < windows.features; f++) featureErrors[f]! /= windows.count * windows.window;
  return { windowScores: scores, featureErrors };
}
