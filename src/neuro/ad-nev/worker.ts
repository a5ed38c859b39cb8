/**
 * Worker-thread entry of the engine pool: runs the training engine (src/nn) on this thread, jobs executed
 * one at a time in arrival order.
 */
import { parentPort } from 'node:worker_threads';
import { executeJob, type EngineJob } from './jobs.js';
import { invariant } from '../../core/errors.js';

interface JobMessage {
  readonly id: number;
  readonly job: EngineJob;
}

const port = parentPort;
invariant(port, () => 'worker.ts must run inside a worker thread');
// the pool sends a worker its next job only after the previous result, so jobs never interleave
port.on('message', (message: JobMessage) => {
  void executeJob(message.job).then((result) => port.postMessage({ id: message.id, result }));
});
port.postMessage({ ready: true });
