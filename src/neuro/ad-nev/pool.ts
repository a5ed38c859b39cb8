/**
 * Population-parallel engine pool (engines.md §2, §8; ad-nev.md §1.5; issue #22): `worker_threads`, each
 * running the training engine (src/nn, its own WASM instance per compiled model), one candidate's model per
 * worker at a time. Jobs wait in one shared queue and a worker
 * takes the next job the moment it is free (no lock-step batches), also across concurrent `run` calls. Jobs
 * carry their own seeds and results come back in job order, so a batch gives identical results on 1 or N
 * workers. `workers: 0` runs jobs inline on the calling thread, one at a time (the reference path).
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { startWorker } from '../../core/worker-start.js';
import { executeJob, type EngineJob, type EngineJobResult } from './jobs.js';

export interface EnginePoolOptions {
  /** worker threads; 0 = inline; default min(2, cores) */
  readonly workers?: number;
}

interface Slot {
  readonly worker: Worker;
  busy: boolean;
  jobs: number;
  busySeconds: number;
}

interface Queued {
  readonly job: EngineJob;
  readonly resolve: (result: EngineJobResult) => void;
}

/** Per worker: jobs run and seconds busy since the pool was created (utilisation = busy / wall). */
export interface PoolStats {
  readonly wallSeconds: number;
  readonly jobs: readonly number[];
  readonly busySeconds: readonly number[];
}

/** The worker script beside this module; execArgv is empty so flags such as `--test` of the parent never leak into workers. */
function spawnWorker(): Worker {
  return startWorker(import.meta.url, './worker', { execArgv: [] });
}

export class EnginePool {
  readonly workers: number;
  private readonly slots: Slot[];
  private readonly queue: Queued[] = [];
  private readonly created = performance.now();
  private nextId = 0;
  /** inline mode: the tail of the chain that runs jobs one at a time on the calling thread */
  private inlineTail: Promise<unknown> = Promise.resolve();

  private constructor(workers: number, slots: Slot[]) {
    this.workers = workers;
    this.slots = slots;
  }

  static async create(options: EnginePoolOptions = {}): Promise<EnginePool> {
    const workers = options.workers ?? Math.min(2, availableParallelism());
    if (workers === 0) return new EnginePool(0, []);
    const slots = await Promise.all(
      Array.from({ length: workers }, () => {
        const worker = spawnWorker();
        return new Promise<Slot>((resolve, reject) => {
          worker.once('error', reject);
          worker.once('message', () => {
            worker.off('error', reject);
            resolve({ worker, busy: false, jobs: 0, busySeconds: 0 });
          });
        });
      }),
    );
    return new EnginePool(workers, slots);
  }

  /** Executes every job; results in job order. A crashed worker fails its job, never the batch. */
  run(jobs: readonly EngineJob[]): Promise<EngineJobResult[]> {
    if (this.slots.length === 0) {
      const results = jobs.map((job) => {
        const result = this.inlineTail.then(() => executeJob(job));
        this.inlineTail = result;
        return result;
      });
      return Promise.all(results);
    }
    return Promise.all(jobs.map((job) => new Promise<EngineJobResult>((resolve) => {
      this.queue.push({ job, resolve });
      this.dispatch();
    })));
  }

  /** Jobs run and busy seconds per worker so far. */
  stats(): PoolStats {
    return { wallSeconds: (performance.now() - this.created) / 1000, jobs: this.slots.map((s) => s.jobs), busySeconds: this.slots.map((s) => s.busySeconds) };
  }

  /** hands queued jobs to every free worker */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      void this.send(slot, this.nextId++, next.job).then((result) => {
        next.resolve(result);
        this.dispatch();
      });
    }
  }

  private send(slot: Slot, id: number, job: EngineJob): Promise<EngineJobResult> {
    slot.busy = true;
    const started = performance.now();
    return new Promise((resolve) => {
      const onMessage = (message: { id: number; result: EngineJobResult }): void => {
        if (message.id !== id) return;
        cleanup();
        resolve(message.result);
      };
      const onError = (error: Error): void => {
        cleanup();
        resolve({ ok: false, error: `worker failed: ${error.message}`, seconds: 0 });
      };
      const cleanup = (): void => {
        slot.busy = false;
        slot.jobs++;
        slot.busySeconds += (performance.now() - started) / 1000;
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
      };
      slot.worker.on('message', onMessage);
      slot.worker.on('error', onError);
      slot.worker.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}
