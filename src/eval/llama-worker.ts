/**
 * Worker-thread entry for the fast Llama forward (llama-tf.ts): each worker owns one tfjs wasm backend, holds
 * one model's weights and answers one window at a time. Started by llama-model.ts; the messages below are the
 * whole protocol.
 */
import { parentPort } from 'node:worker_threads';
import { ModelevoError, type ErrorCode } from '../core/errors.js';
import { TfLlama, initTfWasmBackend } from './llama-tf.js';
import type { LlamaWeights } from './llama-weights.js';

export type WorkerRequestBody =
  | { readonly kind: 'load'; readonly weights: LlamaWeights }
  | { readonly kind: 'losses' | 'logits'; readonly ids: Int32Array };

export type WorkerRequest = WorkerRequestBody & { readonly id: number };

export type WorkerResponse =
  | { readonly kind: 'done'; readonly id: number; readonly values?: Float32Array }
  | { readonly kind: 'failed'; readonly id: number; readonly code: ErrorCode; readonly message: string; readonly hint?: string };

let model: TfLlama | undefined;

function handle(request: WorkerRequest): Float32Array | undefined {
  if (request.kind === 'load') {
    model?.dispose();
    model = new TfLlama(request.weights);
    return undefined;
  }
  if (!model) throw new ModelevoError('INTERNAL', 'llama worker got a window before any weights');
  return request.kind === 'losses' ? model.nextTokenLosses(request.ids) : model.logits(request.ids);
}

if (parentPort) {
  const port = parentPort;
  const ready = initTfWasmBackend();
  port.on('message', (request: WorkerRequest) => {
    ready
      .then(() => {
        const values = handle(request);
        const response: WorkerResponse = { kind: 'done', id: request.id, values };
        port.postMessage(response, values ? [values.buffer as ArrayBuffer] : []);
      })
      .catch((error: unknown) => {
        const response: WorkerResponse = {
          kind: 'failed',
          id: request.id,
          code: error instanceof ModelevoError ? error.code : 'INTERNAL',
          message: error instanceof Error ? error.message : String(error),
          hint: error instanceof ModelevoError ? error.hint : undefined,
        };
        port.postMessage(response);
      });
  });
}
