/**
 * Worker entry for src/core/worker-start.test.ts: answers with what it was given. Type annotations and a
 * `.js` specifier that only exists as `.ts` make it loadable only when tsx's loader is active in the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelevoError } from '../../src/core/errors.js';

const reply: { workerData: unknown; execArgv: string[]; errorName: string; url: string } = {
  workerData,
  execArgv: process.execArgv,
  errorName: new ModelevoError('INTERNAL', 'probe').name,
  url: import.meta.url,
};
parentPort?.postMessage(reply);
