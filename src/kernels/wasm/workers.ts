/**
 * A fixed set of kernel worker threads (src/kernels/worker.ts) sharing one WebAssembly.Memory. Each call to
 * `run` hands one job to each of the first jobs.length workers and resolves when all have finished.
 * Workers start through core/worker-start.ts (source under tsx or compiled dist/).
 */
import type { Worker } from 'node:worker_threads';
import { ModelevoError } from '../../core/errors.js';
import { startWorker } from '../../core/worker-start.js';
import type { FileKernelName } from './file-kernels.js';
import type { KernelFunctionName } from './loader.js';
import type { WorkerInit, WorkerJob, WorkerReply } from '../worker.js';

export interface KernelJob {
  readonly kernel: KernelFunctionName | FileKernelName;
  readonly args: readonly number[];
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

function spawnKernelWorker(init: WorkerInit): Worker {
  return startWorker(import.meta.url, '../worker', { workerData: init, execArgv: process.execArgv });
}

export class KernelWorkers {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private readonly workers: readonly Worker[]) {
    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => this.settle(reply));
      worker.on('error', (error) => this.failAll(error));
      worker.on('exit', (code) => {
        if (!this.closed) this.failAll(new ModelevoError('INTERNAL', `kernel worker: expected it to keep running, it exited with code ${code}`, { hint: 'rerun with --kernels reference (plain TypeScript) and report the crash with --debug', details: { code } }));
      });
      worker.unref();
    }
  }

  static async start(count: number, init: WorkerInit): Promise<KernelWorkers> {
    const workers = Array.from({ length: count }, () => spawnKernelWorker(init));
    try {
      await Promise.all(workers.map((worker) => waitReady(worker)));
    } catch (cause) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw new ModelevoError('KERNEL_UNAVAILABLE', `kernel worker failed to start: ${String(cause)}`, {
        hint: "use workers: 0 (calling thread only) or kernels: 'reference'",
        cause,
      });
    }
    return new KernelWorkers(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs jobs[i] on worker i, all at once; rejects with the first failure. */
  async run(jobs: readonly KernelJob[]): Promise<void> {
    if (this.closed) throw new ModelevoError('INTERNAL', 'kernel workers used after close()');
    if (jobs.length > this.workers.length) {
      throw new ModelevoError('INTERNAL', `${jobs.length} jobs for ${this.workers.length} kernel workers`);
    }
    const active = this.workers.slice(0, jobs.length);
    // Referenced only while busy: an idle pool never keeps the process alive.
    for (const worker of active) worker.ref();
    try {
      await Promise.all(
        jobs.map(
          (job, index) =>
            new Promise<void>((resolve, reject) => {
              const id = this.nextId++;
              this.pending.set(id, { resolve, reject });
              const message: WorkerJob = { id, kernel: job.kernel, args: job.args };
              active[index]!.postMessage(message);
            }),
        ),
      );
    } finally {
      for (const worker of active) worker.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private settle(reply: WorkerReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve();
    else pending.reject(new ModelevoError('INTERNAL', `kernel worker failed: ${reply.error}`));
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

function waitReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (message !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new ModelevoError('INTERNAL', `kernel worker: expected it to start, it exited with code ${code} before it was ready`, { hint: 'rerun with --kernels reference (plain TypeScript) and report the crash with --debug', details: { code } })));
  });
}
