/**
 * Text → token ids for the built-in evaluator, through `@huggingface/tokenizers` (a pure-TS port of Hugging
 * Face tokenizers) reading a model folder's `tokenizer.json` + `tokenizer_config.json` (formats.md §3). No
 * special tokens are added: the evaluation protocol (test/fixtures/README.md) scores raw text.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError } from '../core/errors.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

export class LmTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** where the tokenizer came from, for messages */
    readonly source: string,
  ) {}

  /** Parsed `tokenizer.json` and (optional) `tokenizer_config.json` objects. */
  static fromJson(tokenizerJson: object, tokenizerConfig: object = {}, source = '<memory>'): LmTokenizer {
    try {
      return new LmTokenizer(new Tokenizer(tokenizerJson, tokenizerConfig), source);
    } catch (error) {
      throw new CheckpointError(`cannot build a tokenizer: ${error instanceof Error ? error.message : String(error)}`, {
        file: source,
        cause: error,
        hint: 'tokenizer.json must be a Hugging Face fast-tokenizer file (as written by `tokenizer.save_pretrained`)',
      });
    }
  }

  /** Reads `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a model folder. */
  static fromFolder(folder: string): LmTokenizer {
    const tokenizerPath = join(folder, TOKENIZER_FILE);
    if (!existsSync(tokenizerPath)) {
      throw new CheckpointError(`no ${TOKENIZER_FILE} in the model folder`, {
        code: 'CHECKPOINT_NOT_FOUND',
        file: tokenizerPath,
        hint: `evaluation needs the model's fast tokenizer; copy ${TOKENIZER_FILE} (and ${TOKENIZER_CONFIG_FILE}) from the base model's folder`,
      });
    }
    const configPath = join(folder, TOKENIZER_CONFIG_FILE);
    const config = existsSync(configPath) ? readJson(configPath) : {};
    return LmTokenizer.fromJson(readJson(tokenizerPath), config, tokenizerPath);
  }

  /** Token ids of `text`, with no special tokens added. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids]);
  }
}

/**
 * The folder whose tokenizer a model reference uses: the folder itself, the directory of a `.safetensors`
 * file, or the base of a `base+adapter` reference (adapters share their base's tokenizer). `base` is the
 * already-split base path (io/open.ts `parseModelReference`).
 */
export function tokenizerFolderFor(basePath: string): string {
  return existsSync(basePath) && statSync(basePath).isDirectory() ? basePath : dirname(basePath);
}

function readJson(path: string): object {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as object;
  } catch (error) {
    throw new CheckpointError(`cannot read JSON: ${error instanceof Error ? error.message : String(error)}`, {
      file: path,
      cause: error,
      hint: 'the file must be valid JSON as written by transformers',
    });
  }
}
