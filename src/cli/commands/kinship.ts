/**
 * `modelevo kinship <model>... --base <base>`: model kinship matrices (kinship.md §1–§3; Hu et al.,
 * arXiv:2410.12613). Prints an aligned table and a heat map per metric, or `--json`.
 */
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { addSchemaOptions, flag } from '../schema-options.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { openCheckpoint } from '../../io/open.js';
import type { KinshipResult } from '../../kinship/compute.js';
import { computeKinshipWithKernels } from '../../kinship/compute-pool.js';
import type { KinshipMatrix } from '../../kinship/matrix.js';
import {
  DEFAULT_ALL_METRICS,
  KINSHIP_METRICS,
  KINSHIP_METRIC_NAMES,
  getKinshipMetric,
  type KinshipMetricName,
} from '../../kinship/registry.js';

/** The command's options, one declaration per flag (the models are the positional arguments). */
export const KinshipCommandOptionsSchema = z.object({
  base: flag(z.string().min(1, 'the base model reference is required'), 'the common base model', '<base>'),
  metric: flag(
    z.array(z.string()).default(['pcc']),
    `${KINSHIP_METRIC_NAMES.join('|')}|all (comma-separated or repeated; all = ${DEFAULT_ALL_METRICS.join(', ')})`,
    '<names>',
  ),
  split: flag(z.boolean().default(false), 'numel-weighted mean of per-tensor metrics (reference --split-calculation) instead of the full vector'),
  include: flag(z.string().optional(), 'only tensors whose name matches', '<regex>'),
  exclude: flag(z.string().optional(), 'skip tensors whose name matches', '<regex>'),
  skipMissing: flag(z.boolean().default(false), 'skip base tensors missing from a model (with a warning) instead of failing'),
  truncateAll: flag(z.boolean().default(false), 'truncate every tensor to the vocabulary rows, as the reference code does'),
  json: flag(z.boolean().default(false), 'print {"models": [...], "metrics": {...}} only'),
  kernels: flag(z.enum(['wasm', 'reference']).default('wasm'), 'wasm (SIMD kernel pool) or reference (plain TypeScript)', '<kind>'),
  threads: flag(z.coerce.number().int().min(1).default(2), 'compute threads, the main thread included', '<n>'),
});
export type KinshipCommandOptions = z.input<typeof KinshipCommandOptionsSchema>;

export interface KinshipOutput {
  write(text: string): void;
  /** colours only on a terminal */
  readonly isTTY: boolean;
}

/** `--metric pcc,cs --metric ed` and `all` → distinct registry names in the order given */
export function parseMetricList(values: readonly string[]): KinshipMetricName[] {
  const names: KinshipMetricName[] = [];
  for (const value of values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== '')) {
    const expanded = value === 'all' ? DEFAULT_ALL_METRICS : [value];
    for (const name of expanded) {
      getKinshipMetric(name);
      if (!names.includes(name as KinshipMetricName)) names.push(name as KinshipMetricName);
    }
  }
  return names.length > 0 ? names : ['pcc'];
}

/** Computes and prints; returns the result for callers that want the numbers. */
export async function runKinship(models: readonly string[], rawOptions: KinshipCommandOptions, out: KinshipOutput): Promise<KinshipResult> {
  const options = parseWithSchema(KinshipCommandOptionsSchema, rawOptions, 'modelevo kinship options');
  if (models.length < 1) {
    throw new ConfigError([{ path: ['models'], message: 'expected at least 1 model besides the base, got 0' }], {
      hint: 'usage: modelevo kinship <model>... --base <base>',
    });
  }
  const metrics = parseMetricList(options.metric);
  const opened: Checkpoint[] = [];
  try {
    const base = openCheckpoint(options.base);
    opened.push(base);
    for (const ref of models) opened.push(openCheckpoint(ref));
    const result = await computeKinshipWithKernels(base, opened.slice(1), {
      kernels: options.kernels,
      threads: options.threads,
      metrics,
      mode: options.split ? 'split' : 'full',
      include: options.include,
      exclude: options.exclude,
      onMissing: options.skipMissing ? 'skip' : 'error',
      truncateAll: options.truncateAll,
      labels: models,
      onProgress: process.stderr.isTTY ? reportProgress : undefined,
    });
    if (options.json) out.write(`${kinshipJson(result, metrics)}\n`);
    else out.write(renderKinshipReport(result, metrics, out.isTTY));
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    return result;
  } finally {
    for (const checkpoint of opened) checkpoint.close();
  }
}

function reportProgress(done: number, total: number, tensor: string): void {
  const line = done < total ? `kinship: tensor ${done + 1}/${total} ${tensor}` : '';
  process.stderr.write(`\r\u001b[2K${line}`);
}

/** Exactly `{"models": [...], "metrics": {<name>: [[...]]}}`; NaN entries become null. */
export function kinshipJson(result: KinshipResult, metrics: readonly KinshipMetricName[]): string {
  const matrices: Record<string, KinshipMatrix> = {};
  for (const name of metrics) matrices[name] = result.matrices[name]!;
  return JSON.stringify({ models: result.labels, metrics: matrices });
}

function formatValue(value: number, metric: KinshipMetricName): string {
  if (Number.isNaN(value)) return 'NaN';
  return metric === 'ed' ? value.toPrecision(5) : value.toFixed(4);
}

const SHADES = [' ', '░', '▒', '▓', '█'];
/** 256-colour background ramp from pale to deep blue; the diagonal and NaN stay uncoloured */
const COLOURS = [255, 153, 111, 69, 27, 21];

/** Kinship in [0, 1] for shading: similarities clamp negatives to 0; distances are scaled by the largest. */
function intensity(value: number, metric: KinshipMetricName, maxDistance: number): number | undefined {
  if (Number.isNaN(value)) return undefined;
  if (KINSHIP_METRICS[metric].sense === 'distance') return maxDistance > 0 ? 1 - value / maxDistance : 1;
  return Math.min(1, Math.max(0, value));
}

function renderHeatMap(matrix: KinshipMatrix, metric: KinshipMetricName, colour: boolean): string[] {
  let maxDistance = 0;
  for (const row of matrix) for (const v of row) if (Number.isFinite(v)) maxDistance = Math.max(maxDistance, v);
  const lines = matrix.map((row, i) => {
    const cells = row.map((value) => {
      const level = intensity(value, metric, maxDistance);
      if (level === undefined) return colour ? '\u001b[0m ? ' : ' ? ';
      if (colour) return `\u001b[48;5;${COLOURS[Math.round(level * (COLOURS.length - 1))]}m   \u001b[0m`;
      const shade = SHADES[Math.round(level * (SHADES.length - 1))]!;
      return shade.repeat(3);
    });
    return `${String(i + 1).padStart(4)} ${cells.join('')}`;
  });
  const scale =
    KINSHIP_METRICS[metric].sense === 'distance'
      ? `darker = closer (0 … ${maxDistance.toPrecision(4)})`
      : 'darker = more kin (≤ 0 … 1)';
  return [...lines, `     ${scale}`];
}

/** Legend, then per metric an aligned table (columns numbered as the legend) and a heat map. */
export function renderKinshipReport(result: KinshipResult, metrics: readonly KinshipMetricName[], colour: boolean): string {
  const n = result.labels.length;
  const lines: string[] = ['models:'];
  result.labels.forEach((label, i) => lines.push(`  [${i + 1}] ${label}`));
  const skipped = result.skippedTensors.length;
  lines.push(
    `${result.mode === 'split' ? 'split (numel-weighted per-tensor mean)' : 'full-vector'} kinship over ${result.tensorsCompared} tensors, ${result.elementsCompared.toLocaleString('en-US')} elements per model${skipped ? `, ${skipped} skipped` : ''}`,
  );
  for (const metric of metrics) {
    const matrix = result.matrices[metric]!;
    const cells = matrix.map((row) => row.map((v) => formatValue(v, metric)));
    const width = Math.max(6, ...cells.flat().map((c) => c.length));
    lines.push('', `${metric}: ${getKinshipMetric(metric).title}`);
    lines.push(`${''.padStart(4)} ${Array.from({ length: n }, (_, j) => `[${j + 1}]`.padStart(width)).join(' ')}`);
    cells.forEach((row, i) => lines.push(`${`[${i + 1}]`.padStart(4)} ${row.map((c) => c.padStart(width)).join(' ')}`));
    lines.push('');
    lines.push(...renderHeatMap(matrix, metric, colour));
  }
  const reasons = Object.entries(result.nanReasons);
  if (reasons.length > 0) {
    lines.push('', 'NaN entries:');
    for (const [where, reason] of reasons) lines.push(`  ${where.replace(/\[(\d+)\]/g, (_, k: string) => `[${Number(k) + 1}]`)}: ${reason}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerKinshipCommand(program: Command): void {
  const command = program
    .command('kinship')
    .description('Model kinship (similarity of task vectors θ − θ_base) between fine-tunes of one base')
    .argument('<model...>', 'model folders, .safetensors files or <base>+<adapter> references')
    .addHelpText('after', examplesHelp([
      'modelevo kinship test/fixtures/tiny-llama/expert-* --base test/fixtures/tiny-llama/base',
      'modelevo kinship m1 m2 m3 --base base --metric all --json',
    ]));
  addSchemaOptions(command, KinshipCommandOptionsSchema)
    .action(async (models: string[], flags: Record<string, unknown>) => {
      await runKinship(models, flags as KinshipCommandOptions, {
        write: (text) => process.stdout.write(text),
        isTTY: process.stdout.isTTY === true,
      });
    });
}
