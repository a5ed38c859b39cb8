/**
 * `modelevo worker --queue redis://…`: one evaluation worker of a distributed run (#20). It takes candidate
 * jobs from the queue, merges and scores each with the same code as a local run (evolve/candidate-evaluation),
 * and returns fitness, metrics and seconds. Model and fitness paths in a job are paths on storage every worker
 * shares. SIGTERM or SIGINT stops it cleanly: it takes no new job and finishes the ones it holds.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { candidateEvaluator } from '../../evolve/candidate-evaluation.js';
import { DEFAULT_TIMING, type QueueTiming } from '../../queue/protocol.js';
import { startQueueWorker } from '../../queue/worker.js';
import { examplesHelp, parseIntegerFlag } from '../options.js';
import { addSchemaOptions, flag, hiddenFlag, parseCommandOptions } from '../schema-options.js';

const WorkerOptionsSchema = z.object({
  queue: flag(z.string(), 'redis://[user:password@]host:port[/db] (the password is never printed)', '<url>'),
  concurrency: flag(z.string().optional(), 'jobs evaluated at once (default 1; one per GPU is usual)', '<n>'),
  name: flag(z.string().optional(), 'worker name shown by `queue status` (default <host>-<pid>)', '<id>'),
  maxJobs: flag(z.string().optional(), 'stop after taking k jobs', '<k>'),
  lockDuration: flag(z.string().optional(), `how long a job's lock lasts without renewal, ms (default ${DEFAULT_TIMING.lockDurationMs})`, '<ms>'),
  stalledInterval: flag(z.string().optional(), `how often locks of active jobs are checked, ms (default ${DEFAULT_TIMING.stalledIntervalMs})`, '<ms>'),
  queueName: hiddenFlag(z.string().optional(), 'the BullMQ queue (tests isolate themselves)', '<name>'),
});

export interface WorkerCommandOptions {
  readonly queue: string;
  readonly concurrency?: string;
  readonly name?: string;
  readonly maxJobs?: string;
  readonly lockDuration?: string;
  readonly stalledInterval?: string;
  /** the BullMQ queue's name; tests isolate themselves with their own */
  readonly queueName?: string;
}

export async function runWorkerCommand(options: WorkerCommandOptions): Promise<{ jobs: number }> {
  const timing: QueueTiming = {
    ...DEFAULT_TIMING,
    ...(options.lockDuration === undefined ? {} : { lockDurationMs: parseIntegerFlag(options.lockDuration, '--lock-duration', 100) }),
    ...(options.stalledInterval === undefined ? {} : { stalledIntervalMs: parseIntegerFlag(options.stalledInterval, '--stalled-interval', 100) }),
  };
  const evaluator = candidateEvaluator();
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  try {
    const worker = await startQueueWorker({
      url: options.queue,
      ...(options.concurrency === undefined ? {} : { concurrency: parseIntegerFlag(options.concurrency, '--concurrency', 1) }),
      ...(options.maxJobs === undefined ? {} : { maxJobs: parseIntegerFlag(options.maxJobs, '--max-jobs', 1) }),
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.queueName === undefined ? {} : { queueName: options.queueName }),
      timing,
      onLog: log,
      evaluate: (job) => evaluator.evaluate({ recipe: job.candidate.recipe, fitness: job.fitness, models: job.models, cwd: job.cwd }),
    });
    const onSignal = (): void => void worker.stop();
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const { jobs } = await worker.stopped;
      log(`worker ${worker.name} stopped after ${jobs} job${jobs === 1 ? '' : 's'}`);
      return { jobs };
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  } finally {
    await evaluator.close();
  }
}

export function registerWorkerCommand(program: Command): void {
  const worker = program
    .command('worker')
    .description('evaluate candidates of distributed evolution runs from a Redis queue (BullMQ)')
    .addHelpText(
      'after',
      examplesHelp([
        'modelevo worker --queue redis://10.0.0.5:6379/0',
        'modelevo worker --queue redis://:$REDIS_PASSWORD@10.0.0.5:6379 --name gpu0 --concurrency 1',
        'modelevo worker --queue redis://127.0.0.1:6379 --max-jobs 10   # take 10 jobs, then exit',
      ]),
    );
  addSchemaOptions(worker, WorkerOptionsSchema).action(async (raw: unknown) => {
    await runWorkerCommand(parseCommandOptions(WorkerOptionsSchema, raw, 'modelevo worker options'));
  });
}
