/**
 * Spatiotemporal runs in the run store (issue #7 "runs stored like all runs"): one helper that the `st` verbs
 * (train, synevo, coms2t) share. A run directory holds run.sqlite (manifest with the verb's config, one
 * individual per recorded epoch or stage, an event log) and artifacts/ (model weights as safetensors, the
 * results JSON). Opening a directory:
 * - empty or missing → a new run;
 * - a finished run → refused (the results are already there; `modelevo runs show <dir>` prints them);
 * - an interrupted run → refused unless `resume`, and then only with the same kind and config; the caller
 *   continues from `lastEpoch()` with the weights saved by `recordEpoch`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { join, resolve } from 'node:path';
import { openRun } from '../runs/open-run.js';
import type { RunStore } from '../runs/store.js';
import { SafetensorsFile } from '../io/safetensors/reader.js';
import { writeSafetensors } from '../io/safetensors/writer.js';
import type { GwnWeights } from './gwn-config.js';

export const ST_MODEL_KIND = 'modelevo-graph-wavenet';

export interface StRunOptions {
  /** run kind, e.g. 'st-train', 'st-synevo', 'st-coms2t' */
  readonly kind: string;
  readonly seed: number;
  /** everything that determines the run's numbers (compared on resume) */
  readonly config: Record<string, unknown>;
  readonly resume?: boolean;
}

/** One recorded epoch (or stage): its number, validation score (lower is better) and any other metrics. */
export interface StEpochRecord {
  readonly epoch: number;
  readonly valMae: number;
  readonly seconds: number;
  readonly metrics?: Record<string, number>;
  /** groups records of several models in one run (e.g. SynEVO's models; default 0) */
  readonly index?: number;
  /** a label for `runs show` (default `epoch-<n>`) */
  readonly key?: string;
}

export class StRun {
  private constructor(readonly store: RunStore, readonly resumed: boolean) {}

  /** Creates, refuses or resumes the run in `dir` (see the file comment). */
  static open(dir: string, options: StRunOptions): StRun {
    // the recorded fitness is a validation MAE: `modelevo runs` reads the objective from the config
    const config = { ...(options.config as Record<string, unknown>), fitness: { val_mae: { objective: 'min' } } };
    const { store, resumed } = openRun(dir, { id: `${options.kind}-${new Date().toISOString()}`, kind: options.kind, seed: options.seed, config, resume: options.resume ? 'if-present' : false });
    if (resumed) {
      store.setStatus('running');
      store.event('resumed', {});
    }
    return new StRun(store, resumed);
  }

  get artifactsDir(): string {
    return this.store.artifactsDir;
  }

  /** Records one epoch (as an individual: fitness = validation MAE, minimised) and, if given, its weights as the resume point. */
  recordEpoch(record: StEpochRecord, weights?: { config?: unknown; weights: GwnWeights }): void {
    if (weights) this.saveWeights('last-epoch', weights.config, weights.weights, { epoch: String(record.epoch) });
    this.store.recordIndividual({
      step: record.epoch,
      index: record.index ?? 0,
      key: record.key ?? `epoch-${record.epoch}`,
      genome: { epoch: record.epoch },
      fitness: record.valMae,
      metrics: { valMae: record.valMae, ...record.metrics },
      seconds: record.seconds,
    });
  }

  /** Recorded epochs of model `index`, in order. */
  epochs(index = 0): StEpochRecord[] {
    return this.store
      .individuals()
      .filter((r) => r.index === index)
      .map((r) => ({ epoch: r.step, valMae: r.fitness, seconds: r.seconds, metrics: r.metrics, index: r.index, key: r.key }));
  }

  /** The last epoch whose weights were saved (the resume point), or undefined. */
  lastEpoch(): { epoch: number; weights: GwnWeights } | undefined {
    const saved = this.loadWeights('last-epoch');
    return saved ? { epoch: Number(saved.metadata.epoch), weights: saved.weights } : undefined;
  }

  /** Writes artifacts/<name>.safetensors (F32, atomic) with the model config in the metadata; returns the path. */
  saveWeights(name: string, config: unknown | undefined, weights: GwnWeights, metadata: Record<string, string> = {}): string {
    const path = join(this.artifactsDir, `${name}.safetensors`);
    const tensors = Object.entries(weights).map(([tensor, w]) => ({
      name: tensor,
      dtype: 'F32' as const,
      shape: [...w.shape],
      data: new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength),
    }));
    writeSafetensors(path, tensors, { ...metadata, modelevo_kind: ST_MODEL_KIND, ...(config === undefined ? {} : { config: JSON.stringify(config) }) });
    return path;
  }

  loadWeights(name: string): { weights: GwnWeights; metadata: Record<string, string> } | undefined {
    const path = join(this.artifactsDir, `${name}.safetensors`);
    if (!existsSync(path)) return undefined;
    const file = SafetensorsFile.open(path);
    try {
      const weights: GwnWeights = {};
      for (const tensor of file.names()) weights[tensor] = { shape: file.info(tensor).shape, data: file.readFloat32(tensor) };
      return { weights, metadata: { ...file.metadata } };
    } finally {
      file.close();
    }
  }

  /** Writes artifacts/results.json atomically, marks the run finished and closes the store. */
  finish(results: unknown): void {
    writeJsonAtomic(join(this.artifactsDir, 'results.json'), results);
    this.store.event('finished', { results: 'artifacts/results.json' });
    this.store.setStatus('finished');
    this.store.close();
  }

  /** Marks the run failed (it stays resumable) and closes the store. */
  fail(error: unknown): void {
    this.store.event('failed', { message: error instanceof Error ? error.message : String(error) });
    this.store.setStatus('failed');
    this.store.close();
  }

  /** The stored results of a finished run in `dir`. */
  static results(dir: string): unknown {
    return JSON.parse(readFileSync(join(resolve(dir), 'artifacts', 'results.json'), 'utf8'));
  }
}
