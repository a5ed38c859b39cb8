/**
 * A queue worker process for the #20 integration tests: `startQueueWorker` with a stand-in evaluation so the
 * tests exercise the queue (enqueue, retries, stalled jobs), not merging. The candidate's recipe is
 * `{ x: number, sleepMs?: number, throws?: boolean }`; fitness = x² (the tests' independent reference).
 * Prints `start <key>` when a job starts and `done <key>` when it ends, so a test can kill it mid-job.
 *
 * usage: node --import tsx test/support/queue-worker.ts <url> <queueName> <name> [concurrency]
 */
import { startQueueWorker } from '../../src/queue/worker.js';

const [url, queueName, name, concurrency] = process.argv.slice(2);
const fast = { lockDurationMs: 1500, stalledIntervalMs: 1000, maxStalledCount: 1 };

const worker = await startQueueWorker({
  url: url!,
  queueName: queueName!,
  name: name!,
  concurrency: Number(concurrency ?? 1),
  timing: fast,
  heartbeatMs: 500,
  async evaluate(job) {
    const recipe = job.candidate.recipe as { x: number; sleepMs?: number; throws?: boolean };
    process.stdout.write(`start ${job.key}\n`);
    await new Promise((resolve) => setTimeout(resolve, recipe.sleepMs ?? 0));
    if (recipe.throws) throw new Error(`candidate ${job.key} is always broken`);
    process.stdout.write(`done ${job.key}\n`);
    return { fitness: recipe.x * recipe.x, metrics: { x: recipe.x } };
  },
});
process.stdout.write(`ready ${worker.name}\n`);
process.on('SIGTERM', () => void worker.stop());
await worker.stopped;
process.stdout.write(`stopped ${worker.name}\n`);
