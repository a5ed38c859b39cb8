/**
 * What fit() writes into a checkpoint's metadata besides the model: the loop's position (epoch, batch within
 * it, optimiser steps) and its early-stopping state, and reading them back for an exact resume.
 */
import { ModelevoError } from '../core/errors.js';
import { SafetensorsFile } from '../io/safetensors/reader.js';

/** the best parameters (parameters and persistent state, flat) are saved under this tensor name */
export const BEST_TENSOR = 'fit.best';

/** The loop's position and early-stopping state, as saved in (and read back from) a checkpoint's metadata. */
export interface LoopState {
  epoch: number;
  batchInEpoch: number;
  steps: number;
  best: { metric: number; step: number; epoch: number } | undefined;
  sinceBest: number;
  metrics: number[];
}

export function stateMetadata(s: LoopState, count: number, batch: number): Record<string, string> {
  return {
    'fit.epoch': String(s.epoch),
    'fit.batch_in_epoch': String(s.batchInEpoch),
    'fit.steps': String(s.steps),
    'fit.count': String(count),
    'fit.batch': String(batch),
    'fit.since_best': String(s.sinceBest),
    'fit.best': JSON.stringify(s.best ?? null),
    // JSON has no NaN: a failed evaluation is stored as null and read back as NaN
    'fit.metrics': JSON.stringify(s.metrics.map((m) => (Number.isFinite(m) ? m : null))),
  };
}

export function readState(path: string, count: number, batch: number): { state: LoopState; best: Float32Array | undefined } {
  const file = SafetensorsFile.open(path);
  try {
    const meta = file.metadata ?? {};
    const number = (key: string): number => {
      const value = Number(meta[key]);
      if (meta[key] === undefined || !Number.isInteger(value)) throw new ModelevoError('CHECKPOINT_INVALID', `${path} has no integer "${key}" in its metadata: not written by fit()`, { hint: 'resume only from a checkpoint that fit() or fitLoop() wrote' });
      return value;
    };
    if (number('fit.count') !== count || number('fit.batch') !== batch) {
      throw new ModelevoError('CHECKPOINT_INVALID', `${path} was written for ${meta['fit.count']} examples in batches of ${meta['fit.batch']}, this run has ${count} in batches of ${batch}`, {
        hint: 'resume with the same data and batch size',
        details: { expected: { count, batch }, actual: { count: meta['fit.count'], batch: meta['fit.batch'] } },
      });
    }
    const state: LoopState = {
      epoch: number('fit.epoch'),
      batchInEpoch: number('fit.batch_in_epoch'),
      steps: number('fit.steps'),
      sinceBest: number('fit.since_best'),
      best: (JSON.parse(meta['fit.best'] ?? 'null') as LoopState['best'] | null) ?? undefined,
      metrics: (JSON.parse(meta['fit.metrics'] ?? '[]') as (number | null)[]).map((m) => m ?? NaN),
    };
    return { state, best: file.has(BEST_TENSOR) ? file.readFloat32(BEST_TENSOR) : undefined };
  } finally {
    file.close();
  }
}
