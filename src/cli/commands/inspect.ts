/**
 * `modelevo inspect <file|folder|base+adapter|adapter folder> [--json] [--tensors]`: architecture, parameter
 * count, data bytes, dtype histogram and shards of a checkpoint; r, alpha, scale, targets and touched base
 * tensors of a PEFT LoRA adapter (formats.md §3–§4).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseWithSchema } from '../../core/schema.js';
import { addSchemaOptions, flag } from '../schema-options.js';
import { numelOf } from '../../core/dtype.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { HfCheckpoint, type ShardSummary } from '../../io/hf-folder.js';
import { LoraMergedCheckpoint } from '../../io/lora-view.js';
import { openAdapter, openCheckpoint } from '../../io/open.js';
import { isAdapterFolder, type LoraAdapter } from '../../io/peft.js';
import { formatBytes, formatCount } from '../../io/size.js';

export interface CheckpointSummary {
  source: string;
  architecture: ArchitectureSummary | undefined;
  tensors: number;
  parameters: number;
  bytes: number;
  dtypes: Record<string, number>;
  shards: ShardSummary[];
  tensor_list?: { name: string; dtype: string; shape: number[] }[];
  adapter?: AdapterSummary;
}

export interface ArchitectureSummary {
  architectures: string[];
  model_type: string | undefined;
  num_hidden_layers: number | undefined;
  hidden_size: number | undefined;
  num_attention_heads: number | undefined;
  num_key_value_heads: number | undefined;
  head_dim: number | undefined;
  intermediate_size: number | undefined;
  vocab_size: number | undefined;
  tie_word_embeddings: boolean | undefined;
  dtype: string | undefined;
}

export interface AdapterSummary {
  path: string;
  r: number;
  alpha: number;
  use_rslora: boolean;
  fan_in_fan_out: boolean;
  /** alpha/r (or alpha/√r); per-module overrides listed in `scales` */
  scale: number;
  scales: Record<string, number>;
  target_modules: string[] | string | null;
  lora_modules: number;
  modules_to_save: string[];
  /** base tensors the adapter changes (LoRA targets and full replacements) */
  touched: string[];
}

export function summarizeArchitecture(config: Record<string, unknown> | undefined): ArchitectureSummary | undefined {
  if (config === undefined) return undefined;
  const num = (key: string): number | undefined => (typeof config[key] === 'number' ? (config[key] as number) : undefined);
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  const dtype = config.dtype ?? config.torch_dtype;
  return {
    architectures,
    model_type: typeof config.model_type === 'string' ? config.model_type : undefined,
    num_hidden_layers: num('num_hidden_layers'),
    hidden_size: num('hidden_size'),
    num_attention_heads: num('num_attention_heads'),
    num_key_value_heads: num('num_key_value_heads'),
    head_dim: num('head_dim'),
    intermediate_size: num('intermediate_size'),
    vocab_size: num('vocab_size'),
    tie_word_embeddings: typeof config.tie_word_embeddings === 'boolean' ? config.tie_word_embeddings : undefined,
    dtype: typeof dtype === 'string' ? dtype : undefined,
  };
}

export function summarizeCheckpoint(checkpoint: Checkpoint, options: { tensors?: boolean } = {}): CheckpointSummary {
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  let bytes = 0;
  const list: { name: string; dtype: string; shape: number[] }[] = [];
  const names = checkpoint.names();
  for (const name of names) {
    const info = checkpoint.info(name);
    dtypes[info.dtype] = (dtypes[info.dtype] ?? 0) + 1;
    parameters += numelOf(info.shape);
    bytes += info.byteLength;
    if (options.tensors) list.push({ name, dtype: info.dtype, shape: [...info.shape] });
  }
  const summary: CheckpointSummary = {
    source: checkpoint.source,
    architecture: summarizeArchitecture(checkpoint.config),
    tensors: names.length,
    parameters,
    bytes,
    dtypes,
    shards: shardsOf(checkpoint, names.length, bytes),
  };
  if (options.tensors) summary.tensor_list = list;
  if (checkpoint instanceof LoraMergedCheckpoint) summary.adapter = summarizeAdapter(checkpoint.adapter, checkpoint.touched());
  return summary;
}

function shardsOf(checkpoint: Checkpoint, tensors: number, bytes: number): ShardSummary[] {
  if (checkpoint instanceof HfCheckpoint) return checkpoint.shards();
  if (checkpoint instanceof LoraMergedCheckpoint) return shardsOf(checkpoint.base, tensors, bytes);
  return [{ file: basename(checkpoint.source), tensors, bytes }];
}

export function summarizeAdapter(adapter: LoraAdapter, touched?: string[]): AdapterSummary {
  const { config } = adapter;
  const defaultScale = config.useRslora ? config.loraAlpha / Math.sqrt(config.r) : config.loraAlpha / config.r;
  const scales: Record<string, number> = {};
  for (const update of adapter.updates.values()) {
    if (update.scale !== defaultScale) scales[update.module] = update.scale;
  }
  return {
    path: adapter.path,
    r: config.r,
    alpha: config.loraAlpha,
    use_rslora: config.useRslora,
    fan_in_fan_out: config.fanInFanOut,
    scale: defaultScale,
    scales,
    target_modules: config.targetModules === null || typeof config.targetModules === 'string' ? config.targetModules : [...config.targetModules],
    lora_modules: adapter.updates.size,
    modules_to_save: config.modulesToSave === null ? [] : [...config.modulesToSave],
    touched: touched ?? [...adapter.updates.keys(), ...adapter.replacements.keys()],
  };
}

/** Opens whatever `ref` names: an adapter folder on its own is summarised from the adapter file. */
export function inspectReference(ref: string, options: { tensors?: boolean } = {}): CheckpointSummary {
  const path = resolve(ref);
  if (existsSync(path) && statSync(path).isDirectory() && isAdapterFolder(path)) {
    const adapter = openAdapter(path);
    try {
      const summary = summarizeCheckpoint(adapter.weights, options);
      return { ...summary, source: ref, shards: [{ ...summary.shards[0]!, file: basename(adapter.weights.source) }], adapter: summarizeAdapter(adapter) };
    } finally {
      adapter.close();
    }
  }
  const checkpoint = openCheckpoint(ref);
  try {
    return summarizeCheckpoint(checkpoint, options);
  } finally {
    checkpoint.close();
  }
}

/** Left/right aligned columns, two spaces apart, indented. */
export function formatTable(rows: readonly (readonly string[])[], rightAligned: readonly number[] = [], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => indent + row.map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i]!) : i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

const thousands = (n: number): string => n.toLocaleString('en-US');

export function formatSummary(summary: CheckpointSummary): string {
  const lines: [string, string][] = [['source', summary.source]];
  const arch = summary.architecture;
  if (arch !== undefined) {
    const parts = [
      arch.num_hidden_layers !== undefined && `${arch.num_hidden_layers} layers`,
      arch.hidden_size !== undefined && `hidden ${arch.hidden_size}`,
      arch.num_attention_heads !== undefined &&
        `${arch.num_attention_heads} heads${arch.num_key_value_heads !== undefined ? ` (${arch.num_key_value_heads} KV)` : ''}`,
      arch.head_dim !== undefined && `head_dim ${arch.head_dim}`,
      arch.intermediate_size !== undefined && `intermediate ${arch.intermediate_size}`,
      arch.vocab_size !== undefined && `vocab ${arch.vocab_size}`,
      arch.tie_word_embeddings && 'tied embeddings',
    ].filter(Boolean);
    const name = `${arch.architectures.join(', ') || 'unknown'}${arch.model_type ? ` (${arch.model_type})` : ''}`;
    lines.push(['architecture', `${name}${parts.length ? `: ${parts.join(', ')}` : ''}`]);
    if (arch.dtype) lines.push(['config dtype', arch.dtype]);
  } else if (summary.adapter === undefined) {
    lines.push(['architecture', 'unknown (no config.json)']);
  }
  lines.push(['tensors', thousands(summary.tensors)]);
  lines.push(['parameters', `${formatCount(summary.parameters)} (${thousands(summary.parameters)})`]);
  lines.push(['data', `${formatBytes(summary.bytes)} (${thousands(summary.bytes)} bytes)`]);
  lines.push(['dtypes', Object.entries(summary.dtypes).map(([d, n]) => `${d} × ${n}`).join(', ') || 'none']);
  const out = [formatTable(lines, [], '')];
  const adapter = summary.adapter;
  if (adapter !== undefined) out.push('', formatAdapter(adapter, summary.tensor_list !== undefined));
  const shardRows = summary.shards.map((s) => [s.file, thousands(s.tensors), formatBytes(s.bytes)]);
  out.push('', `shards (${summary.shards.length})`, formatTable([['file', 'tensors', 'size'], ...shardRows], [1, 2]));
  if (summary.tensor_list !== undefined) {
    const rows = summary.tensor_list.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`]);
    out.push('', `tensors (${rows.length})`, formatTable([['name', 'dtype', 'shape'], ...rows]));
  }
  return `${out.join('\n')}\n`;
}

function formatAdapter(adapter: AdapterSummary, listAll: boolean): string {
  const targets = adapter.target_modules === null ? 'none' : typeof adapter.target_modules === 'string' ? `/${adapter.target_modules}/` : adapter.target_modules.join(', ');
  const rule = adapter.use_rslora ? 'alpha/√r, rsLoRA' : 'alpha/r';
  const overrides = Object.keys(adapter.scales).length;
  const touched = listAll || adapter.touched.length <= 6 ? adapter.touched : [...adapter.touched.slice(0, 4), `… ${adapter.touched.length - 4} more (--tensors lists all)`];
  const rows: [string, string][] = [
    ['adapter', `${adapter.path} (PEFT LoRA)`],
    ['rank', `r = ${adapter.r}, lora_alpha = ${adapter.alpha}`],
    ['scale', `${adapter.scale} (${rule})${overrides ? `; ${overrides} modules override it via rank/alpha_pattern` : ''}`],
    ['targets', targets],
    ['layout', adapter.fan_in_fan_out ? 'fan_in_fan_out (weights stored [in, out])' : 'standard ([out, in])'],
    ['modules', `${adapter.lora_modules} LoRA modules${adapter.modules_to_save.length ? `, modules_to_save: ${adapter.modules_to_save.join(', ')}` : ''}`],
    ['touches', `${adapter.touched.length} base tensors`],
  ];
  return [formatTable(rows, [], ''), ...touched.map((t) => `  ${t}`)].join('\n');
}

/** The command's options, one declaration per flag (the reference is the positional argument). */
export const InspectOptionsSchema = z.object({
  json: flag(z.boolean().default(false), 'print one JSON object instead of text'),
  tensors: flag(z.boolean().default(false), 'list every tensor (name, dtype, shape)'),
});

export function registerInspectCommand(program: Command): void {
  const command = program
    .command('inspect')
    .description('describe a model folder, .safetensors file, PEFT adapter folder or <base>+<adapter> view')
    .argument('<ref>', 'model folder, .safetensors file, adapter folder, or <base folder>+<adapter folder>')
    .addHelpText('after', examplesHelp([
      'modelevo inspect test/fixtures/tiny-llama/base',
      'modelevo inspect test/fixtures/tiny-llama/base+test/fixtures/tiny-llama/lora-code --json',
    ]));
  addSchemaOptions(command, InspectOptionsSchema).action((ref: string, flags: z.input<typeof InspectOptionsSchema>) => {
    const options = parseWithSchema(InspectOptionsSchema, flags, 'modelevo inspect options');
    const summary = inspectReference(ref, { tensors: options.tensors });
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  });
}
