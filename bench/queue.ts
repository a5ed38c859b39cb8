/**
 * bench:queue — distributed evaluation throughput (#20 acceptance; skeleton). Starts its own redis-server
 * (test/support/redis-server.ts), then for 1, 2 and 4 local worker processes (test/support/queue-worker.ts,
 * whose evaluation sleeps `--sleep-ms`, 500 by default, like a GPU-bound fitness) evaluates
 * `--jobs-per-worker` × workers candidates through the queue evaluator and reports candidates/s and the
 * speed-up over 1 worker (targets ≥ 1.9× at 2, ≥ 3.6× at 4). Then the per-job overhead of the queue: one
 * worker, no-op evaluation, one job in flight at a time, milliseconds from enqueue to result.
 *
 *   npm run bench:queue [-- --workers 1,2,4 --jobs-per-worker 8 --sleep-ms 500 --overhead-jobs 100]
 *
 * Worker start-up (tsx, ~1-5 s) is outside the timed part: every worker reports ready first. The header prints
 * the load average: record only numbers taken on an idle machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { queueEvaluator, type CandidateJob } from '../src/queue/evaluator.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { argValue } from './support/child-run.js';

const workerCounts = (argValue('--workers') ?? '1,2,4').split(',').map(Number);
const jobsPerWorker = Number(argValue('--jobs-per-worker') ?? 8);
const sleepMs = Number(argValue('--sleep-ms') ?? 500);
const overheadJobs = Number(argValue('--overhead-jobs') ?? 100);

/** #20 acceptance: speed-up over one worker */
const TARGETS: Record<number, number> = { 2: 1.9, 4: 3.6 };

interface Recipe {
  x: number;
  sleepMs: number;
}
const jobOf = (recipe: Recipe): CandidateJob => ({ key: `x=${recipe.x}`, candidate: { recipe }, fitness: {}, models: { refs: ['none'] }, cwd: '/' });
const contexts = (n: number) => Array.from({ length: n }, (_, index) => ({ step: 0, index }));

function startWorker(url: string, queueName: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/queue-worker.ts', url, queueName, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready ')) resolve(child);
    });
  });
}

async function timedBatch(url: string, queueName: string, recipes: readonly Recipe[], maxInFlight: number): Promise<number> {
  const evaluator = await queueEvaluator<Recipe>({ url, runId: `bench-${randomUUID()}`, maxInFlight, jobOf, queueName, pollIntervalMs: 1000 });
  try {
    const t0 = performance.now();
    const outcomes = await Promise.all(evaluator.evaluateBatch(recipes, contexts(recipes.length)));
    const seconds = (performance.now() - t0) / 1000;
    const wrong = outcomes.filter((o, i) => o.fitness !== recipes[i]!.x ** 2);
    if (wrong.length) throw new Error(`${wrong.length} wrong results`);
    return seconds;
  } finally {
    await evaluator.close();
  }
}

const server = await startRedisServer();
const children: ChildProcess[] = [];
try {
  console.log(`bench:queue ${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · load ${loadavg()[0]!.toFixed(2)} · evaluation sleeps ${sleepMs} ms`);
  let single: number | undefined;
  for (const count of workerCounts) {
    const queueName = `bench-${randomUUID()}`;
    const started = await Promise.all(Array.from({ length: count }, (_, i) => startWorker(server.url, queueName, `w${i}`)));
    children.push(...started);
    const jobs = count * jobsPerWorker;
    const seconds = await timedBatch(server.url, queueName, Array.from({ length: jobs }, (_, x) => ({ x, sleepMs })), 2 * count);
    const rate = jobs / seconds;
    single ??= rate;
    const target = TARGETS[count];
    const verdict = target === undefined || count === 1 ? '' : ` · target ≥ ${target}×: ${rate / single >= target ? 'met' : 'NOT met'}`;
    console.log(`${count} worker${count === 1 ? ' ' : 's'}: ${jobs} candidates in ${seconds.toFixed(2)} s → ${rate.toFixed(2)} candidates/s (${(rate / single).toFixed(2)}× 1 worker)${verdict}`);
    for (const child of started) child.kill('SIGTERM');
  }
  const queueName = `bench-${randomUUID()}`;
  children.push(await startWorker(server.url, queueName, 'overhead'));
  const seconds = await timedBatch(server.url, queueName, Array.from({ length: overheadJobs }, (_, x) => ({ x, sleepMs: 0 })), 1);
  console.log(`queue overhead: ${((1000 * seconds) / overheadJobs).toFixed(1)} ms per job (enqueue → result, no-op evaluation, one in flight, ${overheadJobs} jobs)`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await server.stop();
}
