/** `modelevo queue status --queue redis://… [--json]`: live workers and jobs per run of a distributed run's queue (#20). */
import { Option, type Command } from 'commander';
import { queueStatus, JOB_STATES, type QueueStatus } from '../../queue/status.js';
import { redactQueueUrl } from '../../queue/redis-url.js';
import { examplesHelp } from '../options.js';

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
  queue
    .command('status')
    .description('workers seen (name, host, last heartbeat, job) and jobs per run by state')
    .requiredOption('--queue <url>', 'redis://[user:password@]host:port[/db] (the password is never printed)')
    .option('--json', 'print one JSON object on stdout')
    .addOption(new Option('--queue-name <name>', 'the BullMQ queue (tests isolate themselves)').hideHelp())
    .addHelpText('after', examplesHelp(['modelevo queue status --queue redis://10.0.0.5:6379/0', 'modelevo queue status --queue redis://127.0.0.1:6379 --json']))
    .action(async (options: { queue: string; json?: boolean; queueName?: string }) => {
      const status = await queueStatus({ url: options.queue, ...(options.queueName ? { queueName: options.queueName } : {}) });
      process.stdout.write(options.json ? `${JSON.stringify(status)}\n` : formatQueueStatus(options.queue, status));
    });
}
