/**
 * Fixture runs for the dashboard's browser tests, made by the real commands at a tiny budget: an Evolver
 * run of the tiny-llama experts with kinship recorded and a cheap module fitness that reports per-domain
 * losses, an `st train` and an `st coms2t` run of a 3-sensor network, an `st synevo` run on synthetic sources, an `anomaly evolve` run and a `continual run` (GPM, two seeds
 * of split-fmnist on a tiny Fashion-MNIST look-alike). Also the config of a slow run for the live test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli, type CliResult } from '../support/cli.js';
import { writeTinyFashionMnist } from '../support/tiny-fashion-mnist.js';

const TINY = resolve('test/fixtures/tiny-llama');
const MODELS = ['expert-literature', 'expert-code', 'expert-math'].map((m) => join(TINY, m));

/** distance of the final norm to a target per "domain"; the mean is the fitness (minimised); `DELAY_MS` slows it */
const FITNESS = `
export async function evaluate({ checkpoint }) {
  const delay = Number(process.env.DELAY_MS ?? 0);
  if (delay) await new Promise((r) => setTimeout(r, delay));
  const v = checkpoint.readFloat32('model.norm.weight');
  const targets = { literature: 1.02, code: 1.05, math: 0.97 };
  const out = {};
  let total = 0;
  for (const [name, target] of Object.entries(targets)) {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += (v[i] - target) ** 2;
    out['loss_' + name] = Math.sqrt(s / v.length);
    total += out['loss_' + name];
  }
  return { score: total / 3, ...out };
}
`;

export function writeEvolveConfig(dir: string, name: string, strategy: string, budget: number, recordKinship: boolean): string {
  writeFileSync(join(dir, 'fitness.mjs'), FITNESS);
  const yml = join(dir, `${name}.yml`);
  writeFileSync(
    yml,
    [`name: ${name}`, 'seed: 1', `budget: ${budget}`, `base_model: ${join(TINY, 'base')}`, 'models:', ...MODELS.map((m) => `  - ${m}`), `strategy: ${strategy}`, `record_kinship: ${recordKinship}`, `fitness: {module: {path: ${join(dir, 'fitness.mjs')}, objective: min}}`].join('\n'),
  );
  return yml;
}

export const EVOLVER = '{name: evolver, mode: merger, merger: linear, generations: 3, F: 0.5, CR: 0.5}';
export const CMA = '{name: cma-es, genome: {merge_method: task_arithmetic}, population: 3}';

async function cli(argv: string[]): Promise<CliResult> {
  const result = await runCli(argv);
  if (result.code !== 0) throw new Error(`modelevo ${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

export async function makeEvolveRun(dir: string, runDir: string): Promise<void> {
  await cli(['evolve', writeEvolveConfig(dir, 'ui-evolver', EVOLVER, 9, true), '--run-dir', runDir, '--json']);
}

/** A 3-sensor line network reading a sine of period 8 steps (as in the `st train` CLI test). */
export async function makeStRun(dir: string, runDir: string): Promise<void> {
  const rows = ['s1,s2,s3'];
  for (let t = 0; t < 80; t++) rows.push([0, 1, 2].map((n) => (50 + 10 * n + 8 * Math.sin((2 * Math.PI * (t + n)) / 8)).toFixed(4)).join(','));
  writeFileSync(join(dir, 'speed.csv'), rows.join('\n'));
  writeFileSync(join(dir, 'adj.csv'), '1,0.5,0\n0.5,1,0.5\n0,0.5,1\n');
  await cli(['st', 'train', '--data', dir, '--epochs', '3', '--batch-size', '8', '--residual-channels', '4', '--skip-channels', '8', '--end-channels', '8', '--run-dir', runDir, '--json']);
}

/** `st coms2t` at a tiny size on a 3-sensor network of two days (96 steps a day), as in its CLI test. */
export async function makeComs2tRun(dir: string, runDir: string): Promise<void> {
  const data = join(dir, 'coms2t');
  mkdirSync(data, { recursive: true });
  const rows = ['s1,s2,s3'];
  for (let t = 0; t < 192; t++) rows.push([0, 1, 2].map((n) => (55 + 3 * n + 8 * Math.sin((2 * Math.PI * t) / 96 + n) + ((t + n) % 3)).toFixed(3)).join(','));
  writeFileSync(join(data, 'speed.csv'), rows.join('\n'));
  writeFileSync(join(data, 'adj.csv'), '1,0.5,0\n0.5,1,0.5\n0,0.5,1\n');
  const tiny = ['--residual-channels', '4', '--skip-channels', '8', '--end-channels', '8', '--epochs', '2', '--stage1-epochs', '1', '--prompt-epochs', '1', '--max-steps-per-epoch', '2', '--batch-size', '8', '--lr', '0.01', '--steps-per-day', '96'];
  await cli(['st', 'coms2t', '--data', data, ...tiny, '--run-dir', runDir, '--json']);
}

/** `st synevo` on three synthetic sources of 4 nodes and one day, one cycle, at a tiny size. */
export async function makeSynevoRun(runDir: string): Promise<void> {
  const tiny = ['--residual-channels', '4', '--skip-channels', '8', '--end-channels', '8', '--steps-per-group', '2', '--scoring-steps', '2', '--few-shot-steps', '1', '--batch-size', '8'];
  await cli(['st', 'synevo', '--synthetic', 'sources:3', '--synthetic-nodes', '4', '--synthetic-days', '1', '--cycles', '1', ...tiny, '--run-dir', runDir, '--json']);
}

function plantCsv(rows: number, anomalies: [number, number] | undefined, phase: number): string {
  const lines = ['timestamp,temp,pressure,flow' + (anomalies ? ',label' : '')];
  for (let t = 0; t < rows; t++) {
    const bump = anomalies && t >= anomalies[0] && t <= anomalies[1] ? 3 : 0;
    const values = [Math.sin(0.2 * t + phase) + bump, Math.cos(0.13 * t + phase), Math.sin(0.05 * t) * 0.5];
    lines.push(`2024-01-01T00:${String(t).padStart(4, '0')},${values.map((v) => v.toFixed(5)).join(',')}${anomalies ? `,${bump ? 1 : 0}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** `anomaly evolve --budget tiny` on a 3-feature plant CSV with one labelled anomaly in its test part. */
export async function makeAnomalyRun(dir: string, runDir: string): Promise<void> {
  writeFileSync(join(dir, 'plant.csv'), plantCsv(300, undefined, 0));
  writeFileSync(join(dir, 'plant-test.csv'), plantCsv(160, [100, 118], 1));
  await cli(['anomaly', 'evolve', '--dataset', join(dir, 'plant.csv'), '--test', join(dir, 'plant-test.csv'), '--budget', 'tiny', '--workers', '1', '--run-dir', runDir]);
}

/**
 * `continual run` (GPM, split-fmnist, two seeds) on 40 training / 20 test images per task, without --json so
 * it prints its 'watch it live' line; returns what the command wrote.
 */
export async function makeContinualRun(dir: string, runDir: string): Promise<CliResult> {
  const data = join(dir, 'fmnist');
  mkdirSync(data, { recursive: true });
  // a faint band under noise: the tasks are not all learned perfectly, so the matrix and ACC/BWT say something
  writeTinyFashionMnist(data, { band: 100, noise: 160 });
  return cli(['continual', 'run', '--method', 'gpm', '--benchmark', 'split-fmnist', '--seeds', '2', '--train-per-task', '40', '--test-per-task', '20', '--data-dir', data, '--run-dir', runDir]);
}

/** Bundles the page (the tests serve what `npm run build:ui` makes). */
export function buildPage(): void {
  const built = spawnSync(process.execPath, ['scripts/build-ui.mjs'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build-ui failed: ${built.stderr}`);
}
