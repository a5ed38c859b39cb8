/**
 * `modelevo merge <config.yml> <out-dir>`: runs a mergekit-compatible merge configuration (merge-methods.md
 * §1, §5). Model paths in the YAML resolve against the current directory, as in mergekit. The input YAML is
 * saved as `mergekit_config.yml` beside the merged weights. `--json` prints one result object on stdout and
 * silences progress.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { addSchemaOptions, flag, hiddenFlag, negatedFlag, parseCommandOptions } from '../schema-options.js';
import { formatBytes } from '../../io/size.js';
import { examplesHelp, parseIntegerFlag } from '../options.js';
import { loadMergeDocumentsFile, runMerge, runMergeDocuments, type MergeResult } from '../../merge/index.js';

/** One declaration per flag; --threads and --seed stay text, checked by parseIntegerFlag (messages name the flag). */
export const MergeCommandOptionsSchema = z.object({
  outShardSize: flag(z.string().default('5B'), 'maximum bytes per shard, decimal suffixes K/M/B', '<size>'),
  threads: flag(z.string().optional(), 'compute threads for the kernels (default min(2, cores)); linear merges count the main thread among them, task-vector merges keep it free to prepare the next tensor', '<n>'),
  seed: flag(z.string().default('0'), 'seed for random methods (DARE, DELLA)', '<n>'),
  copyTokenizer: negatedFlag(z.boolean().default(true), 'do not copy tokenizer files from the donor model (copied by default)'),
  overwrite: flag(z.boolean().default(false), 'replace a non-empty output folder once the merge has succeeded'),
  /** the old spelling of --overwrite, kept as a hidden alias */
  allowOverwrite: hiddenFlag(z.boolean().default(false), 'old spelling of --overwrite'),
  strict: flag(z.boolean().default(false), 'refuse to merge a model that does not look like a fine-tune of the base (exit 3) instead of warning'),
  json: flag(z.boolean().default(false), 'print one JSON object {output, tensors, bytes, seconds, ..., warnings}; no progress output'),
});
export type MergeCommandOptions = z.input<typeof MergeCommandOptionsSchema>;

/** The JSON the command prints with --json. */
export function mergeResultJson(result: MergeResult): Record<string, unknown> {
  return {
    output: result.output,
    tensors: result.tensors,
    bytes: result.bytes,
    seconds: Number(result.seconds.toFixed(3)),
    merge_method: result.plan.method.name,
    layout: result.plan.layout,
    num_hidden_layers: result.plan.layout === 'layers' ? result.plan.numLayers : null,
    warnings: result.warnings,
  };
}

export async function runMergeCommand(configPath: string, outDir: string, raw: MergeCommandOptions): Promise<MergeResult> {
  const options = parseCommandOptions(MergeCommandOptionsSchema, raw, 'modelevo merge options');
  const documents = loadMergeDocumentsFile(resolve(configPath));
  const seed = parseIntegerFlag(options.seed, '--seed', 0);
  const threads = options.threads === undefined ? undefined : parseIntegerFlag(options.threads, '--threads', 1);
  const quiet = options.json === true;
  // several YAML documents (mergekit-multi): intermediates go to a cache folder beside the output
  const results = await runMergeDocuments(documents, resolve(outDir), (config, target, text) =>
    runMerge(config, target, {
      cwd: process.cwd(),
      seed,
      outShardSize: options.outShardSize,
      copyTokenizer: options.copyTokenizer,
      allowOverwrite: options.overwrite === true || options.allowOverwrite === true,
      configText: text,
      threads,
      strict: options.strict === true,
      progress: quiet ? 'none' : 'auto',
      onWarning: quiet ? undefined : (message) => process.stderr.write(`warning: ${message}\n`),
    }),
  );
  const result = results[results.length - 1]!;
  if (quiet) {
    const json = mergeResultJson(result);
    if (results.length > 1) json['documents'] = documents.map((d, i) => ({ name: d.name ?? null, tensors: results[i]!.tensors, merge_method: results[i]!.plan.method.name }));
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    results.slice(0, -1).forEach((r, i) => process.stdout.write(`merged intermediate '${documents[i]!.name}' (${r.tensors} tensors, ${r.plan.method.name})\n`));
    process.stdout.write(
      `merged ${result.tensors} tensors (${formatBytes(result.bytes)}) with ${result.plan.method.name} into ${result.output} in ${result.seconds.toFixed(1)} s\n`,
    );
  }
  return result;
}

export function registerMergeCommand(program: Command): void {
  const command = program
    .command('merge')
    .description('merge models as described by a mergekit YAML config into a Hugging Face model folder')
    .argument('<config.yml>', 'mergekit merge configuration, one or several YAML documents (model paths relative to the current directory, else to the file)')
    .argument('<out-dir>', 'output folder (written atomically)');
  addSchemaOptions(command, MergeCommandOptionsSchema)
    .addHelpText('after', examplesHelp([
      'modelevo merge examples/ties.yml out/ties',
      'modelevo merge best.yml out/best --overwrite --json   # a recipe written by `modelevo evolve`',
      'modelevo merge examples/frankenmerge.yml out/franken --out-shard-size 1M',
    ]))
    .action(async (configPath: string, outDir: string, options: MergeCommandOptions) => {
      await runMergeCommand(configPath, outDir, options);
    });
}
