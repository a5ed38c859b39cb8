/** `modelevo queue status` (#20) against a real redis-server: live workers, jobs per run by state, redacted URL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { queueEvaluator, type CandidateJob } from '../../src/queue/evaluator.js';
import { startQueueWorker } from '../../src/queue/worker.js';
import { Command } from 'commander';
import { registerQueueCommand } from '../../src/cli/commands/queue.js';
import { withRedisServer } from '../support/redis-server.js';

const jobOf = (recipe: { x: number; throws?: boolean }): CandidateJob => ({ key: `x=${recipe.x}`, candidate: { recipe }, fitness: {}, models: { refs: ['m'] }, cwd: '/' });
/**
 * `modelevo queue status …` through its commander registration (the full CLI's imports would cost seconds),
 * stdout captured.
 */
async function queueCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = new Command('modelevo').exitOverride();
  registerQueueCommand(program);
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    out.push(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { code: 0, stdout: out.join(''), stderr: '' };
  } catch (error) {
    return { code: 1, stdout: out.join(''), stderr: String(error) };
  } finally {
    process.stdout.write = write;
  }
}
const ctx = (n: number) => Array.from({ length: n }, (_, index) => ({ step: 0, index }));

test('queue status lists the live worker and each run\'s jobs by state; text and --json agree; no password shown', async () => {
  await withRedisServer(
    async (server) => {
      const queueName = `t-${randomUUID()}`;
      const worker = await startQueueWorker({
        url: server.url,
        queueName,
        name: 'gpu0',
        heartbeatMs: 200,
        onLog: () => undefined,
        evaluate: async (job) => {
          const recipe = job.candidate.recipe as { x: number; throws?: boolean };
          if (recipe.throws) throw new Error('broken');
          return { fitness: recipe.x };
        },
      });
      const runX = await queueEvaluator({ url: server.url, runId: 'run-x', maxInFlight: 2, attempts: 1, jobOf, queueName });
      const runY = await queueEvaluator({ url: server.url, runId: 'run-y', maxInFlight: 2, jobOf, queueName });
      try {
        await Promise.all(runX.evaluateBatch([{ x: 1 }, { x: 2, throws: true }], ctx(2)));
        await new Promise((resolve) => setTimeout(resolve, 450)); // a heartbeat (every 200 ms) after both jobs
        const live = await queueCli(['queue', 'status', '--queue', server.url, '--queue-name', queueName, '--json']);
        assert.equal(live.code, 0, live.stderr);
        const status = JSON.parse(live.stdout) as { workers: { name: string; active: string[]; finished: number }[]; runs: Record<string, Record<string, number>> };
        assert.deepEqual(status.workers.map((w) => [w.name, w.active, w.finished]), [['gpu0', [], 2]]);
        assert.deepEqual(status.runs, { 'run-x': { waiting: 0, delayed: 0, active: 0, completed: 1, failed: 1 } });

        await worker.stop();
        const pendingY = runY.evaluateBatch([{ x: 3 }], ctx(1));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const text = await queueCli(['queue', 'status', '--queue', server.url, '--queue-name', queueName]);
        assert.equal(text.code, 0, text.stderr);
        assert.ok(!text.stdout.includes('pw-secret') && text.stdout.includes('redis://:***@127.0.0.1'), text.stdout);
        assert.match(text.stdout, /workers \(0\):/);
        assert.match(text.stdout, /run-x {2}waiting 0 {2}delayed 0 {2}active 0 {2}completed 1 {2}failed 1/);
        assert.match(text.stdout, /run-y {2}waiting 1 {2}delayed 0 {2}active 0 {2}completed 0 {2}failed 0/);
        const rejected = assert.rejects(pendingY[0]!, /closed while jobs were still running/);
        await runY.close();
        await rejected;
      } finally {
        await runX.close();
        await runY.close();
        await worker.stop();
      }
    },
    { password: 'pw-secret' },
  );
});
