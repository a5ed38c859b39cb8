/**
 * Graph WaveNet inference on compiled engine models, in chunks of the model's batch (gwn-engine-session.ts):
 * forecasts on one model or on both data-parallel halves, and the masked MAE's gradients by tfjs name.
 * Inference mode treats every example on its own, so a short last chunk is padded with its first sample.
 */
import type { Model } from '../nn/model.js';
import type { DataParallelTrainer } from '../nn/data-parallel.js';
import { HORIZON_STEPS } from '../tasks/traffic/windows.js';
import type { GraphWaveNetConfig, GwnWeights } from './gwn-config.js';
import { getGwnWeights } from './gwn-engine.js';
import { engineInputs, targetsOf, type PreparedTraffic } from './gwn-data.js';

/** the largest chunk a session compiles a model for outside training (~13 MiB of arena per example at 207 nodes) */
export const INFERENCE_BATCH = 16;

/**
 * A session's inference copies (GwnEngineSession's models, ComS2T Stage 1b's prompted pairs): one per chunk
 * size from 1 to INFERENCE_BATCH, compiled on first use and kept.
 */
export class InferenceCopies<T> {
  private readonly copies = new Map<number, T>();

  constructor(private readonly compile: (batch: number) => T) {}

  /** the copy for chunks of `wanted` examples (clamped to 1..INFERENCE_BATCH) */
  for(wanted: number): T {
    const batch = Math.max(1, Math.min(wanted, INFERENCE_BATCH));
    let copy = this.copies.get(batch);
    if (copy === undefined) {
      copy = this.compile(batch);
      this.copies.set(batch, copy);
    }
    return copy;
  }

  /** keeps a copy compiled elsewhere (a session's batch-1 probe) */
  add(batch: number, copy: T): void {
    this.copies.set(batch, copy);
  }

  clear(): void {
    this.copies.clear();
  }
}

/** Forecasts of `samples` on `model` into `out` ([samples, 12, N], original units). */
export function forecastChunks(model: Model, prepared: PreparedTraffic, nodes: number, samples: readonly number[], out: Float64Array): Float64Array {
  const size = model.input.shape[0]!;
  for (let start = 0; start < samples.length; start += size) {
    const chunk = samples.slice(start, start + size);
    // a short last chunk is padded with its first sample: inference mode treats every example on its own
    while (chunk.length < size) chunk.push(chunk[0]!);
    engineInputs(prepared, chunk, model.view(model.input));
    model.forward(false);
    const rows = Math.min(size, samples.length - start);
    out.set(model.view(model.output).subarray(0, rows * HORIZON_STEPS * nodes), start * HORIZON_STEPS * nodes);
  }
  return out;
}

/** The same in chunks of the data-parallel batch `size`, both halves at once (`inputs`: the full-batch buffer). */
export function forecastChunksParallel(trainer: DataParallelTrainer, inputs: Float32Array, size: number, prepared: PreparedTraffic, nodes: number, samples: readonly number[], out: Float64Array): Float64Array {
  const perSample = HORIZON_STEPS * nodes;
  for (let start = 0; start < samples.length; start += size) {
    const chunk = samples.slice(start, start + size);
    while (chunk.length < size) chunk.push(chunk[0]!);
    engineInputs(prepared, chunk, inputs);
    const predicted = trainer.predict(inputs);
    const rows = Math.min(size, samples.length - start);
    out.set(predicted.subarray(0, rows * perSample), start * perSample);
  }
  return out;
}

/**
 * Gradients of the masked MAE on `samples` (inference-mode BN, no dropout) for the tensors `names` (tfjs). Chunks
 * are independent in inference mode, so the batch's gradient is the chunks' gradients weighted by their observed
 * targets (the loss is Σ mask·|error| / Σ mask); a short chunk is padded with missing (0) targets.
 */
export function chunkedGradients(model: Model, prepared: PreparedTraffic, config: GraphWaveNetConfig, names: readonly string[], samples: readonly number[]): Record<string, Float32Array> {
  const size = model.input.shape[0]!;
  const out: Record<string, Float32Array> = Object.fromEntries(names.map((n) => [n, new Float32Array(0)]));
  const perChunk: { observed: number; grads: GwnWeights }[] = [];
  for (let start = 0; start < samples.length; start += size) {
    const chunk = samples.slice(start, start + size);
    const targets = new Float32Array(model.target.size);
    targets.set(targetsOf(prepared, chunk));
    while (chunk.length < size) chunk.push(chunk[0]!);
    engineInputs(prepared, chunk, model.view(model.input));
    model.view(model.target).set(targets);
    model.forward(false);
    model.loss();
    model.backward();
    perChunk.push({ observed: targets.reduce((c, t) => c + (t !== 0 ? 1 : 0), 0), grads: getGwnWeights(model, config, 2, { grad: true }) });
  }
  const observed = perChunk.reduce((c, p) => c + p.observed, 0);
  for (const name of names) {
    const sum = new Float32Array(perChunk[0]!.grads[name]!.data.length);
    for (const p of perChunk) {
      if (p.observed === 0) continue;
      const g = p.grads[name]!.data;
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + (p.observed / observed) * g[i]!;
    }
    out[name] = sum;
  }
  return out;
}
