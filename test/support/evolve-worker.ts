/**
 * `modelevo worker` as its own process for the #20 integration tests, without loading the whole CLI (every
 * command's imports would cost seconds per worker): the same `runWorkerCommand` the CLI calls.
 *
 * usage: node --import tsx test/support/evolve-worker.ts <url> <queueName> <name> <lockDurationMs> <stalledIntervalMs>
 * Logs (stderr) "worker <name> on …" when ready and "job <id> … attempt <n>" when a job starts.
 */
import { runWorkerCommand } from '../../src/cli/commands/worker.js';

const [queue, queueName, name, lockDuration, stalledInterval] = process.argv.slice(2);
await runWorkerCommand({ queue: queue!, queueName: queueName!, name: name!, lockDuration: lockDuration!, stalledInterval: stalledInterval! });
