/**
 * `modelevo eval <model> --text name=path ...`: next-token loss and perplexity of a Llama model on text files,
 * with the built-in evaluator (src/eval; protocol in test/fixtures/README.md). Prints an aligned table, or
 * `--json` `{"texts": {"<name>": {"loss", "perplexity", "tokens"}}}`; progress goes to stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, resolve } from 'node:path';
import { examplesHelp } from '../options.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, ModelevoError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { addSchemaOptions, flag } from '../schema-options.js';
import { openCheckpoint, parseModelReference } from '../../io/open.js';
import { LlamaModel } from '../../eval/llama-model.js';
import { DEFAULT_LM_EVAL, evaluateTexts, type LmEvalResult } from '../../eval/lm-eval.js';
import { LmTokenizer, tokenizerFolderFor } from '../../eval/tokenizer.js';

/** The command's options, one declaration per flag (the model is the positional argument). */
export const EvalCommandOptionsSchema = z.object({
  text: flag(z.array(z.string()).min(1, 'at least one --text name=path is required'), 'a text to score (repeatable); a bare path is named after its file', '<name=path>'),
  window: flag(z.coerce.number().int().min(2).default(DEFAULT_LM_EVAL.window), 'tokens per window (≤ max_position_embeddings)', '<tokens>'),
  windows: flag(z.coerce.number().int().min(1).default(DEFAULT_LM_EVAL.windows), 'non-overlapping windows scored per text', '<count>'),
  offset: flag(z.coerce.number().int().min(0).default(DEFAULT_LM_EVAL.offset), 'windows skipped at the start of each text', '<count>'),
  threads: flag(z.coerce.number().int().min(0).optional(), 'worker threads with one wasm backend each (0/1 = main thread; default 2 on ≥ 2 cores)', '<n>'),
  json: flag(z.boolean().default(false), 'print {"texts": {"<name>": {"loss", "perplexity", "tokens"}}} only'),
});
export type EvalCommandOptions = z.input<typeof EvalCommandOptionsSchema>;

export interface EvalOutput {
  write(text: string): void;
  /** called after each window; omitted → no progress */
  progress?(text: string, done: number, total: number, seconds: number): void;
}

/** `name=path` (or a bare path, named after its file) → [name, path]; names must be distinct. */
export function parseTextArguments(values: readonly string[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const value of values) {
    const split = value.indexOf('=');
    const name = split > 0 ? value.slice(0, split) : basename(value, extname(value));
    const path = split > 0 ? value.slice(split + 1) : value;
    if (texts.has(name)) {
      throw new ConfigError([{ path: ['text', name], message: `text name '${name}' given twice` }], {
        hint: 'name each text once: --text literature=lit.txt --text code=code.txt',
      });
    }
    if (!existsSync(path)) {
      throw new ModelevoError('IO_FAILED', `text file '${path}' for '${name}' does not exist`, {
        hint: 'pass --text <name>=<path to a UTF-8 text file>',
        details: { name, path },
      });
    }
    texts.set(name, path);
  }
  return texts;
}

/** Default threads: two wasm workers when the machine has two or more cores. */
function defaultThreads(): number {
  return availableParallelism() >= 2 ? 2 : 1;
}

export async function runEval(modelRef: string, rawOptions: EvalCommandOptions, out: EvalOutput): Promise<Map<string, LmEvalResult>> {
  const options = parseWithSchema(EvalCommandOptionsSchema, rawOptions, 'modelevo eval options');
  const texts = new Map([...parseTextArguments(options.text)].map(([name, path]) => [name, readFileSync(path, 'utf8')]));
  const tokenizer = LmTokenizer.fromFolder(tokenizerFolderFor(resolve(parseModelReference(modelRef).base)));
  const checkpoint = openCheckpoint(modelRef);
  let model: LlamaModel;
  try {
    model = await LlamaModel.fromCheckpoint(checkpoint, { threads: options.threads ?? defaultThreads() });
  } finally {
    checkpoint.close();
  }
  try {
    const started = Date.now();
    const results = await evaluateTexts(model, tokenizer, texts, {
      window: options.window,
      windows: options.windows,
      offset: options.offset,
      onWindowDone: out.progress ? (name, done, total) => out.progress!(name, done, total, (Date.now() - started) / 1000) : undefined,
    });
    out.write(options.json ? `${evalJson(results)}\n` : evalTable(modelRef, results));
    return results;
  } finally {
    await model.close();
  }
}

export function evalJson(results: ReadonlyMap<string, LmEvalResult>): string {
  return JSON.stringify({ texts: Object.fromEntries(results) });
}

export function evalTable(modelRef: string, results: ReadonlyMap<string, LmEvalResult>): string {
  const rows = [...results].map(([name, r]) => [name, r.loss.toFixed(4), r.perplexity.toFixed(3), String(r.tokens)]);
  const header = ['text', 'loss (nats)', 'perplexity', 'tokens'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return `${modelRef}\n${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function registerEvalCommand(program: Command): void {
  const command = program
    .command('eval')
    .description('Next-token loss and perplexity of a Llama model on text files (built-in evaluator)')
    .argument('<model>', 'model folder, .safetensors file inside a model folder, or <base>+<adapter>')
    .addHelpText('after', examplesHelp([
      'modelevo eval test/fixtures/tiny-llama/expert-code --text code=test/fixtures/text/code.val.txt',
      'modelevo eval out/merged --text test/fixtures/text/math.val.txt --windows 8 --json',
    ]));
  addSchemaOptions(command, EvalCommandOptionsSchema)
    .action(async (model: string, flags: Record<string, unknown>) => {
      const isTTY = process.stderr.isTTY === true;
      await runEval(model, flags as EvalCommandOptions, {
        write: (text) => process.stdout.write(text),
        // a live line on a terminal, one line per finished text otherwise
        progress: (name, done, total, seconds) => {
          const line = `eval ${name}: window ${done}/${total} (${seconds.toFixed(1)} s)`;
          if (isTTY) process.stderr.write(`\r\u001b[2K${line}`);
          else if (done === total) process.stderr.write(`${line}\n`);
        },
      });
      if (isTTY) process.stderr.write('\r\u001b[2K');
    });
}
