/**
 * `modelevo extract-lora --model FT --base B --rank r <out-dir>`: a PEFT LoRA adapter approximating a
 * fine-tune's difference from its base by truncated SVD (merge-methods.md §4.3, src/lora/extract.ts).
 * Progress goes to stderr; `--json` prints `{"output", "modules", "rank", "skipped": [...]}` on stdout.
 */
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { openCheckpoint } from '../../io/open.js';
import { writeAdapterFolder } from '../../lora/adapter-folder.js';
import { extractLora, type LoraExtraction } from '../../lora/extract.js';

export interface ExtractLoraCommandOptions {
  readonly model: string;
  readonly base: string;
  readonly rank: string;
  readonly svEpsilon?: string;
  readonly includeEmbeddings?: boolean;
  readonly saveSkipped?: boolean;
  readonly distributeScale?: boolean;
  readonly svd?: string;
  readonly seed?: string;
  readonly overwrite?: boolean;
  readonly json?: boolean;
}

const SVD_MODES = ['auto', 'exact', 'randomized'] as const;

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

export function runExtractLora(outDir: string, options: ExtractLoraCommandOptions): { output: string; extraction: LoraExtraction } {
  const maxRank = parseNumber(options.rank, '--rank', 16, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const svEpsilon = parseNumber(options.svEpsilon, '--sv-epsilon', 0, (n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0');
  const seed = parseNumber(options.seed, '--seed', 0, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
  const svd = options.svd ?? 'auto';
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
      includeEmbeddings: options.includeEmbeddings === true,
      saveSkipped: options.saveSkipped === true,
      distributeScale: options.distributeScale !== false,
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
    const output = writeAdapterFolder(outDir, extraction.adapter, { overwrite: options.overwrite === true });
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
  program
    .command('extract-lora')
    .description('extract a PEFT LoRA adapter from a fine-tune and its base by truncated SVD (Eckart–Young)')
    .argument('<out-dir>', 'adapter folder to write (adapter_config.json + adapter_model.safetensors, atomically)')
    .requiredOption('--model <ref>', 'the fine-tuned model (folder, .safetensors file or base+adapter reference)')
    .requiredOption('--base <ref>', 'the base model it was fine-tuned from')
    .requiredOption('--rank <r>', 'maximum rank per module')
    .option('--sv-epsilon <eps>', 'only singular values above this count towards the rank', '0')
    .option('--include-embeddings', 'decompose embedding tables too (lora_embedding_A/B)')
    .option('--save-skipped', 'save tensors that cannot be decomposed (norms, biases) in full as modules_to_save')
    .option('--no-distribute-scale', 'A = Σ_k V_kᵀ, B = U_k instead of splitting √Σ_k between them')
    .option('--svd <mode>', `${SVD_MODES.join('|')}: auto uses the exact SVD up to 2^20 entries, randomized above`, 'auto')
    .option('--seed <n>', 'seed of the randomized SVD', '0')
    .option('--overwrite', 'replace a non-empty output folder once the adapter is written')
    .option('--json', 'print {"output", "modules", "rank", "skipped": [...]} on stdout')
    .addHelpText('after', examplesHelp([
      'modelevo extract-lora out/lora-code --model test/fixtures/tiny-llama/expert-code --base test/fixtures/tiny-llama/base --rank 8',
    ]))
    .action((outDir: string, options: ExtractLoraCommandOptions) => {
      runExtractLora(outDir, options);
    });
}
