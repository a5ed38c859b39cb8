import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandFitness, parseScoreLine } from './command.js';
import { moduleFitness } from './module.js';
import type { Checkpoint } from '../../io/checkpoint.js';

const fakeCheckpoint = { source: 'fake' } as unknown as Checkpoint;
const node = JSON.stringify(process.execPath);

test('the last JSON line with a numeric score wins; other numbers become metrics', () => {
  assert.deepEqual(parseScoreLine('log\n{"score": 1}\nmore\n{"score": 2.5, "acc": 0.7, "name": "x"}\n'), { score: 2.5, metrics: { acc: 0.7 } });
  assert.equal(parseScoreLine('{"score": "high"}\nnothing'), undefined);
});

test('a command receives the model folder, quoted, and its score is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), "modelevo fit'ness-"));
  try {
    const source = commandFitness({
      command: `${node} -e "console.log('noise'); console.log(JSON.stringify({score: process.argv[1].length, dir: 1}))" {model}`,
      objective: 'max',
      timeoutSeconds: 20,
    });
    const result = await source.evaluate({ checkpoint: fakeCheckpoint, dir });
    assert.equal(result.score, dir.length);
    assert.deepEqual(result.metrics, { dir: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exit codes, missing score lines and timeouts are failed evaluations, not throws', async () => {
  const run = (command: string, timeoutSeconds = 20) => commandFitness({ command, objective: 'max', timeoutSeconds }).evaluate({ checkpoint: fakeCheckpoint, dir: '/tmp' });
  const exit = await run(`${node} -e "console.error('bad model'); process.exit(3)" {model}`);
  assert.ok(Number.isNaN(exit.score));
  assert.match(exit.failure!, /code 3: bad model/);
  const noScore = await run(`echo hello {model}`);
  assert.match(noScore.failure!, /no JSON line/);
  const started = Date.now();
  const slow = await run(`sleep 30; echo '{"score": 1}' {model}`, 0.5);
  assert.match(slow.failure!, /timed out after 0.5 s/);
  assert.ok(Date.now() - started < 10_000);
  assert.throws(() => commandFitness({ command: 'score.sh', objective: 'max', timeoutSeconds: 1 }), /\{model\} placeholder/);
});

test('a JS module exporting evaluate scores in-memory candidates; bad results are failures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-fitmod-'));
  try {
    const good = join(dir, 'good.mjs');
    writeFileSync(good, 'export async function evaluate(c) { return { score: c.checkpoint.source.length, loss: 2 }; }\n');
    const bad = join(dir, 'bad.mjs');
    writeFileSync(bad, 'export function evaluate() { throw new Error("boom"); }\n');
    const none = join(dir, 'none.mjs');
    writeFileSync(none, 'export const x = 1;\n');
    assert.deepEqual(await (await moduleFitness(good, 'max')).evaluate({ checkpoint: fakeCheckpoint }), { score: 4, metrics: { loss: 2 } });
    assert.match((await (await moduleFitness(bad, 'max')).evaluate({ checkpoint: fakeCheckpoint })).failure!, /threw: boom/);
    await assert.rejects(moduleFitness(none, 'max'), /does not export a function named evaluate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
