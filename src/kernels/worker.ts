/**
 * Kernel worker thread (pool.ts): instantiates the kernel module on the pool's shared memory and runs one
 * exported kernel per message over the byte addresses it is given. It owns no memory and keeps no state,
 * so any worker can take any index range.
 */
import { invariant } from '../core/errors.js';
import { parentPort, workerData } from 'node:worker_threads';
import { isFileKernel, runFileKernel, type FileKernelName } from './wasm/file-kernels.js';
import { instantiateKernels, KERNEL_FUNCTION_NAMES, type KernelFunctionName } from './wasm/loader.js';

export interface WorkerInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
}

export interface WorkerJob {
  readonly id: number;
  readonly kernel: KernelFunctionName | FileKernelName;
  readonly args: readonly number[];
}

export type WorkerReply = { readonly id: number; readonly ok: true } | { readonly id: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port) {
  const init = workerData as WorkerInit;
  const kernels = instantiateKernels(init.module, init.memory);
  port.on('message', (job: WorkerJob) => {
    try {
      if (isFileKernel(job.kernel)) runFileKernel(kernels, init.memory, job.kernel, job.args);
      else if (KERNEL_FUNCTION_NAMES.includes(job.kernel)) (kernels[job.kernel] as (...args: readonly number[]) => void)(...job.args);
      else invariant(false, () => `unknown kernel '${String(job.kernel)}'`);
      port.postMessage({ id: job.id, ok: true } satisfies WorkerReply);
    } catch (error) {
      port.postMessage({ id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    }
  });
  port.postMessage('ready');
}
