/**
 * `modelevo extract-lora --model FT --base B --rank r <out-dir>`: a PEFT LoRA adapter approximating a
 * fine-tune's difference from its base by truncated SVD (merge-methods.md §4.3, src/lora/extract.ts).
 * Progress goes to stderr; `--json` prints `{"output", "modules", "rank", "skipped": [...]}` on stdout.
 */
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { addSchemaOptions, flag, negatedFlag, parseCommandOptions } from '../schema-options.js';
import { ConfigError } from '../../core/errors.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { openCheckpoint } from '../../io/open.js';
import { writeAdapterFolder } from '../../lora/adapter-folder.js';
import { extractLora, type LoraExtraction } from '../../lora/extract.js';

const SVD_MODES = ['auto', 'exact', 'randomized'] as const;

/** One declaration per flag; numbers and the SVD mode stay text, checked below with messages naming the flag. */
export const ExtractLoraOptionsSchema = z.object({
  model: flag(z.string(), 'the fine-tuned model (folder, .safetensors file or base+adapter reference)', '<ref>'),
  base: flag(z.string(), 'the base model it was fine-tuned from', '<ref>'),
  rank: flag(z.string(), 'maximum rank per module', '<r>'),
  svEpsilon: flag(z.string().default('0'), 'only singular values above this count towards the rank', '<eps>'),
  includeEmbeddings: flag(z.boolean().default(false), 'decompose embedding tables too (lora_embedding_A/B)'),
  saveSkipped: flag(z.boolean().default(false), 'save tensors that cannot be decomposed (norms, biases) in full as modules_to_save'),
  distributeScale: negatedFlag(z.boolean().default(true), 'A = Σ_k V_kᵀ, B = U_k instead of splitting √Σ_k between them'),
  svd: flag(z.string().default('auto'), `${SVD_MODES.join('|')}: auto uses the exact SVD up to 2^20 entries, randomized above`, '<mode>'),
  seed: flag(z.string().default('0'), 'seed of the randomized SVD', '<n>'),
  overwrite: flag(z.boolean().default(false), 'replace a non-empty output folder once the adapter is written'),
  json: flag(z.boolean().default(false), 'print {"output", "modules", "rank", "skipped": [...]} on stdout'),
});
export type ExtractLoraCommandOptions = z.input<typeof ExtractLoraOptionsSchema>;

function parseNumber(text: string | undefined, flag: string, fallback: number, check: (n: number) => boolean, expected: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !check(value)) {
    throw new ConfigError([{ path: [flag], message: `expected ${expected}; got '${text}'` }], { hint: `e.g. ${flag} ${fallback || 1}` });
  }
  return value;
}

/** The JSON printed with --json. */
export function extractLoraJson(output: string, extraction: LoraExtraction): { output: string; modules: number; rank: number; skipped: string[] } {
  return { output, modules: extraction.modules.length, rank: extraction.rank, skipped: extraction.skipped.map((s) => s.name) };
}

export function runExtractLora(outDir: string, raw: ExtractLoraCommandOptions): { output: string; extraction: LoraExtraction } {
  const options = parseCommandOptions(ExtractLoraOptionsSchema, raw, 'modelevo extract-lora options');
  const maxRank = parseNumber(options.rank, '--rank', 16, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const svEpsilon = parseNumber(options.svEpsilon, '--sv-epsilon', 0, (n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0');
  const seed = parseNumber(options.seed, '--seed', 0, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
  const svd = options.svd;
  if (!(SVD_MODES as readonly string[]).includes(svd)) {
    throw new ConfigError([{ path: ['--svd'], message: `expected one of ${SVD_MODES.join(', ')}; got '${svd}'` }]);
  }
  const opened: Checkpoint[] = [];
  try {
    const base = openCheckpoint(options.base);
    opened.push(base);
    const model = openCheckpoint(options.model);
    opened.push(model);
    let lastStep = -1;
    const extraction = extractLora(model, base, {
      maxRank,
      svEpsilon,
      includeEmbeddings: options.includeEmbeddings,
      saveSkipped: options.saveSkipped,
      distributeScale: options.distributeScale,
      svd: svd as (typeof SVD_MODES)[number],
      seed,
      onProgress: (done, total, name) => {
        if (process.stderr.isTTY) {
          process.stderr.write(`\r\u001b[2K${done < total ? `extract-lora: ${done + 1}/${total} ${name}` : ''}`);
          return;
        }
        const step = total === 0 ? 10 : Math.floor((10 * done) / total);
        if (step > lastStep) {
          lastStep = step;
          process.stderr.write(`extract-lora: ${done}/${total} tensors (${step * 10}%)\n`);
        }
      },
    });
    const output = writeAdapterFolder(outDir, extraction.adapter, { overwrite: options.overwrite });
    if (options.json) process.stdout.write(`${JSON.stringify(extractLoraJson(output, extraction))}\n`);
    else {
      const ranks = extraction.modules.map((m) => m.rank);
      process.stdout.write(
        `extracted ${extraction.modules.length} modules (rank ${Math.min(...ranks)}–${extraction.rank}) into ${output}\n` +
          `skipped ${extraction.skipped.length} tensors${extraction.skipped.some((s) => s.saved) ? ` (${extraction.skipped.filter((s) => s.saved).length} saved in full)` : ''}\n`,
      );
      for (const s of extraction.skipped) process.stderr.write(`skipped ${s.name}: ${s.reason}${s.saved ? ' (saved in full)' : ''}\n`);
    }
    return { output, extraction };
  } finally {
    for (const checkpoint of opened) checkpoint.close();
  }
}

export function registerExtractLoraCommand(program: Command): void {
  const command = program
    .command('extract-lora')
    .description('extract a PEFT LoRA adapter from a fine-tune and its base by truncated SVD (Eckart–Young)')
    .argument('<out-dir>', 'adapter folder to write (adapter_config.json + adapter_model.safetensors, atomically)');
  addSchemaOptions(command, ExtractLoraOptionsSchema)
    .addHelpText('after', examplesHelp([
      'modelevo extract-lora out/lora-code --model test/fixtures/tiny-llama/expert-code --base test/fixtures/tiny-llama/base --rank 8',
    ]))
    .action((outDir: string, options: ExtractLoraCommandOptions) => {
      runExtractLora(outDir, options);
    });
}
