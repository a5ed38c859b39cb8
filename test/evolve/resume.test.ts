import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunStore } from '../../src/runs/store.js';

const FIXTURES = resolve('test/fixtures/tiny-llama');

/** A deterministic module fitness that also sleeps, so the parent can kill the run mid-way. */
const FITNESS_MODULE = `
export async function evaluate({ checkpoint }) {
  await new Promise((r) => setTimeout(r, 150));
  const v = checkpoint.readFloat32('model.norm.weight');
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - 1.05) ** 2;
  return { score: -Math.sqrt(s) };
}
`;

function config(dir: string): string {
  const path = join(dir, 'evolve.yml');
  writeFileSync(
    path,
    [
      'seed: 4',
      'budget: 100',
      `base_model: ${FIXTURES}/base`,
      'models:',
      ...['literature', 'code', 'math'].map((d) => `  - ${FIXTURES}/expert-${d}`),
      'strategy: {name: evolver, mode: merger, merger: linear, generations: 3, mutation: interpolate}',
      `fitness: {module: {path: ${join(dir, 'fitness.mjs')}, objective: max}}`,
    ].join('\n'),
  );
  writeFileSync(join(dir, 'fitness.mjs'), FITNESS_MODULE);
  return path;
}

function records(runDir: string) {
  const store = RunStore.open(runDir);
  const rows = store.individuals().map((r) => [r.step, r.index, r.key, r.fitness, JSON.stringify(r.recipe ?? null)]);
  store.close();
  return rows;
}

function count(runDir: string): number {
  try {
    const store = RunStore.open(runDir);
    const n = store.individuals().length;
    store.close();
    return n;
  } catch {
    return 0;
  }
}

test('modelevo evolve killed with SIGKILL mid-run and resumed equals an uninterrupted run, evaluation for evaluation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelevo-resume-'));
  try {
    const yml = config(dir);
    const reference = spawnSync(process.execPath, ['bin/modelevo.js', 'evolve', yml, '--run-dir', join(dir, 'reference'), '--json'], { encoding: 'utf8' });
    assert.equal(reference.status, 0, reference.stderr);
    const expected = records(join(dir, 'reference'));
    assert.equal(expected.length, 1 + 3 * 3);

    const crashed = join(dir, 'crashed');
    const child = spawn(process.execPath, ['bin/modelevo.js', 'evolve', yml, '--run-dir', crashed, '--json'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    for (let i = 0; i < 600 && count(crashed) < 5; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const before = count(crashed);
    assert.ok(before >= 5 && before < expected.length, `killed after ${before} evaluations`);

    const resumed = spawnSync(process.execPath, ['bin/modelevo.js', 'evolve', yml, '--run-dir', crashed, '--resume', '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout.trim().split('\n').pop()!) as { evaluatedThisSession: number; evaluations: number };
    assert.deepEqual(records(crashed), expected);
    assert.equal(summary.evaluations, expected.length);
    assert.equal(summary.evaluatedThisSession, expected.length - before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
