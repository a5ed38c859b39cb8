/** `modelevo queue status --queue redis://… [--json]`: live workers and jobs per run of a distributed run's queue (#20). */
import type { Command } from 'commander';
import { z } from 'zod';
import { queueStatus, JOB_STATES, type QueueStatus } from '../../queue/status.js';
import { redactQueueUrl } from '../../queue/redis-url.js';
import { examplesHelp } from '../options.js';
import { addSchemaOptions, flag, hiddenFlag, parseCommandOptions } from '../schema-options.js';

const QueueStatusOptionsSchema = z.object({
  queue: flag(z.string(), 'redis://[user:password@]host:port[/db] (the password is never printed)', '<url>'),
  json: flag(z.boolean().default(false), 'print one JSON object on stdout'),
  queueName: hiddenFlag(z.string().optional(), 'the BullMQ queue (tests isolate themselves)', '<name>'),
});

export function formatQueueStatus(url: string, status: QueueStatus): string {
  const lines = [`queue ${redactQueueUrl(url)}`, `workers (${status.workers.length}):`];
  for (const w of status.workers) {
    lines.push(`  ${w.name}  host ${w.host} pid ${w.pid}  last heartbeat ${w.lastHeartbeat}  ${w.active.length ? `on ${w.active.join(', ')}` : 'idle'}  ${w.finished} done`);
  }
  const runIds = Object.keys(status.runs).sort();
  lines.push(`runs (${runIds.length}):`);
  for (const runId of runIds) lines.push(`  ${runId}  ${JOB_STATES.map((state) => `${state} ${status.runs[runId]![state]}`).join('  ')}`);
  return `${lines.join('\n')}\n`;
}

export function registerQueueCommand(program: Command): void {
  const queue = program
    .command('queue')
    .description('inspect the Redis queue of distributed evolution runs')
    .addHelpText('after', examplesHelp(['modelevo queue status --queue redis://10.0.0.5:6379/0']));
  const status = queue
    .command('status')
    .description('workers seen (name, host, last heartbeat, job) and jobs per run by state')
    .addHelpText('after', examplesHelp(['modelevo queue status --queue redis://10.0.0.5:6379/0', 'modelevo queue status --queue redis://127.0.0.1:6379 --json']));
  addSchemaOptions(status, QueueStatusOptionsSchema).action(async (raw: unknown) => {
      const options = parseCommandOptions(QueueStatusOptionsSchema, raw, 'modelevo queue status options');
      const found = await queueStatus({ url: options.queue, ...(options.queueName ? { queueName: options.queueName } : {}) });
      process.stdout.write(options.json ? `${JSON.stringify(found)}\n` : formatQueueStatus(options.queue, found));
    });
}
