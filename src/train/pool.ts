/**
 * Population-parallel engine pool (engines.md §2, §8; ad-nev.md §1.5): `worker_threads`, one tfjs-wasm
 * backend per worker, one candidate's job per worker at a time. Jobs carry their own seeds and results come
 * back in job order, so a batch gives identical results on 1 or N workers. `workers: 0` runs jobs inline on
 * the calling thread (the reference path).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { useBackend, type EngineBackend } from './tf.js';
import { executeJob, type EngineJob, type EngineJobResult } from './jobs.js';

export interface EnginePoolOptions {
  /** worker threads; 0 = inline; default min(2, cores) */
  readonly workers?: number;
  readonly backend?: EngineBackend;
}

interface Slot {
  readonly worker: Worker;
  busy: boolean;
}

/**
 * The worker script beside this module, with the same extension: `.js` when compiled; `.ts` under tsx, where
 * Node 20 does not apply `--import tsx` hooks to a worker's entry module, so a one-line bootstrap registers
 * tsx's loader first (resolved from here, not from the cwd). execArgv is explicit so flags such as `--test`
 * of the parent never leak into workers.
 */
function spawnWorker(backend: EngineBackend): Worker {
  const here = import.meta.url;
  const execArgv: string[] = [];
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData: { backend }, execArgv });
  const script = new URL('./worker.ts', here).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(script)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: { backend }, execArgv });
}

export class EnginePool {
  readonly workers: number;
  readonly backend: EngineBackend;
  private readonly slots: Slot[];

  private constructor(workers: number, backend: EngineBackend, slots: Slot[]) {
    this.workers = workers;
    this.backend = backend;
    this.slots = slots;
  }

  static async create(options: EnginePoolOptions = {}): Promise<EnginePool> {
    const workers = options.workers ?? Math.min(2, availableParallelism());
    const backend = options.backend ?? 'wasm';
    if (workers === 0) {
      await useBackend(backend);
      return new EnginePool(0, backend, []);
    }
    const slots = await Promise.all(
      Array.from({ length: workers }, () => {
        const worker = spawnWorker(backend);
        return new Promise<Slot>((resolve, reject) => {
          worker.once('error', reject);
          worker.once('message', () => {
            worker.off('error', reject);
            resolve({ worker, busy: false });
          });
        });
      }),
    );
    return new EnginePool(workers, backend, slots);
  }

  /** Executes every job; results in job order. A crashed worker fails its job, never the batch. */
  async run(jobs: readonly EngineJob[]): Promise<EngineJobResult[]> {
    const results: EngineJobResult[] = new Array(jobs.length);
    if (this.slots.length === 0) {
      for (const [i, job] of jobs.entries()) results[i] = await executeJob(job);
      return results;
    }
    let next = 0;
    const drive = async (slot: Slot): Promise<void> => {
      while (next < jobs.length) {
        const id = next++;
        results[id] = await this.send(slot, id, jobs[id]!);
      }
    };
    await Promise.all(this.slots.map(drive));
    return results;
  }

  private send(slot: Slot, id: number, job: EngineJob): Promise<EngineJobResult> {
    slot.busy = true;
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
