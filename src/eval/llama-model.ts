/**
 * The evaluator's model handle: a LlamaForCausalLM loaded from any `Checkpoint` (HF folder, `base+adapter`
 * view, or an in-memory merge candidate that never touches disk), run by the tfjs-wasm forward of
 * llama-tf.ts either on this thread or on N worker threads with one wasm backend each (engines.md §2: two
 * independent wasm instances roughly double throughput on two cores; wasm's own threads are not used).
 */
import type { Worker } from 'node:worker_threads';
import { ModelevoError } from '../core/errors.js';
import { startWorker } from '../core/worker-start.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { LlamaConfig } from './llama-config.js';
import { TfLlama, initTfWasmBackend } from './llama-tf.js';
import { loadLlamaWeights, type LlamaWeights } from './llama-weights.js';
import type { WorkerRequestBody, WorkerResponse } from './llama-worker.js';

export interface LlamaModelOptions {
  /** worker threads; 0 or 1 runs on the calling thread (default 1) */
  readonly threads?: number;
}

interface Pending {
  resolve(values: Float32Array | undefined): void;
  reject(error: Error): void;
}

class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: Worker) {
    worker.on('message', (response: WorkerResponse) => {
      const pending = this.pending.get(response.id);
      if (!pending) return;
      this.pending.delete(response.id);
      if (response.kind === 'done') pending.resolve(response.values);
      else pending.reject(new ModelevoError(response.code, response.message, { hint: response.hint }));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      if (this.pending.size > 0) this.failAll(new ModelevoError('INTERNAL', `llama worker exited with code ${code}`));
    });
  }

  request(message: WorkerRequestBody): Promise<Float32Array | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

export class LlamaModel {
  private constructor(
    private currentConfig: LlamaConfig,
    readonly source: string,
    private local: TfLlama | undefined,
    private readonly workers: readonly WorkerHandle[],
  ) {}

  get config(): LlamaConfig {
    return this.currentConfig;
  }

  /** Reads and checks every weight of `checkpoint` (config from `checkpoint.config` unless given). */
  static async fromCheckpoint(checkpoint: Checkpoint, options: LlamaModelOptions & { config?: LlamaConfig } = {}): Promise<LlamaModel> {
    return LlamaModel.fromWeights(loadLlamaWeights(checkpoint, options.config), checkpoint.source, options);
  }

  static async fromWeights(weights: LlamaWeights, source: string, options: LlamaModelOptions = {}): Promise<LlamaModel> {
    const threads = Math.floor(options.threads ?? 1);
    if (!Number.isFinite(threads) || threads < 0) {
      throw new ModelevoError('VALUE_INVALID', `threads must be a whole number ≥ 0, got ${options.threads}`, {
        hint: 'pass --threads 1 to run on the main thread, or 2 for two worker threads',
      });
    }
    if (threads <= 1) {
      await initTfWasmBackend();
      return new LlamaModel(weights.config, source, new TfLlama(weights), []);
    }
    const workers = Array.from({ length: threads }, () => new WorkerHandle(startWorker(import.meta.url, './llama-worker')));
    const model = new LlamaModel(weights.config, source, undefined, workers);
    try {
      await Promise.all(workers.map((w) => w.request({ kind: 'load', weights })));
    } catch (error) {
      await model.close();
      throw error;
    }
    return model;
  }

  /** Swaps in another model of any Llama shape, keeping the threads (evolution evaluates many candidates). */
  async replaceWeights(weights: LlamaWeights): Promise<void> {
    if (this.local) {
      this.local.dispose();
      this.local = new TfLlama(weights);
    } else {
      await Promise.all(this.workers.map((w) => w.request({ kind: 'load', weights })));
    }
    this.currentConfig = weights.config;
  }

  /** Logits `[length, vocab]` of one sequence. */
  async logits(ids: Int32Array): Promise<Float32Array> {
    if (this.local) return this.local.logits(ids);
    return (await this.workers[0]!.request({ kind: 'logits', ids }))!;
  }

  /**
   * Next-token cross-entropy (nats, float32) at each of the `length − 1` positions of every window, in input
   * order. Windows are handed to whichever thread is free; `onWindowDone` reports progress.
   */
  async windowLosses(windows: readonly Int32Array[], onWindowDone?: (done: number, total: number) => void): Promise<Float32Array[]> {
    const results: Float32Array[] = new Array(windows.length);
    let done = 0;
    if (this.local) {
      for (let i = 0; i < windows.length; i++) {
        results[i] = this.local.nextTokenLosses(windows[i]!);
        onWindowDone?.(++done, windows.length);
        // let progress output and other callbacks run between windows
        await new Promise((resolve) => setImmediate(resolve));
      }
      return results;
    }
    let next = 0;
    const drain = async (worker: WorkerHandle): Promise<void> => {
      while (next < windows.length) {
        const index = next++;
        results[index] = (await worker.request({ kind: 'losses', ids: windows[index]! }))!;
        onWindowDone?.(++done, windows.length);
      }
    };
    await Promise.all(this.workers.map(drain));
    return results;
  }

  async close(): Promise<void> {
    this.local?.dispose();
    this.local = undefined;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
