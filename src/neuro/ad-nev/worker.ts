/**
 * Worker-thread entry of the engine pool: one tfjs backend instance per worker (engines.md §8), jobs
 * executed one at a time in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { useBackend, type EngineBackend } from '../../train/tf.js';
import { executeJob, type EngineJob } from './jobs.js';

interface JobMessage {
  readonly id: number;
  readonly job: EngineJob;
}

const port = parentPort;
if (!port) throw new Error('worker.ts must run inside a worker thread');
const backend = (workerData as { backend: EngineBackend }).backend;
// the pool sends a worker its next job only after the previous result, so jobs never interleave
port.on('message', (message: JobMessage) => {
  void executeJob(message.job).then((result) => port.postMessage({ id: message.id, result }));
});
await useBackend(backend);
port.postMessage({ ready: true });
