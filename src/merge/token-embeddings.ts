/**
 * mergekit's `tokenizer:` block applied to the embedding tensors (`embed_tokens`, `lm_head`) before the merge
 * method runs (mergekit `tokenizer/embed.py`, PermutedEmbeddings), for inputs that share one vocabulary:
 * - `tokens: {<tok>: {source, force}}`: with `force: true` every input's row for <tok> is replaced by the
 *   source's row — a model reference (that model's row of <tok>), `{kind: model_token, model, token |
 *   token_id}` (that model's row of another token), or `{kind: zero}`. Without `force` a token every input
 *   has keeps each input's own row, as in mergekit.
 * - `pad_to_multiple_of: n`: the vocabulary is padded to a multiple of n rows; new rows are the mean of the
 *   vocabulary's rows (the output config's vocab_size follows). `null` means no padding.
 * Inputs are wrapped as Checkpoint views, so planning sees the padded shapes and every kernel sees the rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Checkpoint, TensorInfo } from '../io/checkpoint.js';
import type { MergeConfig } from './config.js';

export type RowSource = { readonly kind: 'zero' } | { readonly kind: 'row'; readonly modelKey: string; readonly row: number };

export interface TokenEmbeddingPlan {
  readonly tensorNames: readonly string[];
  /** rows of the output vocabulary before padding */
  readonly vocabSize: number;
  /** rows after padding */
  readonly rows: number;
  /** forced rows: token id → where its row comes from */
  readonly forced: ReadonlyMap<number, RowSource>;
}

/** token → id of a tokenizer.json (model vocabulary plus added tokens). */
export function readVocabulary(folder: string): Map<string, number> {
  const path = join(folder, 'tokenizer.json');
  if (!existsSync(path)) {
    throw new ConfigError([{ path: ['tokenizer'], message: `no tokenizer.json in '${folder}' to look tokens up in` }], { hint: 'the tokenizer source must be a model folder with tokenizer.json' });
  }
  const json = JSON.parse(readFileSync(path, 'utf8')) as { model?: { vocab?: Record<string, number> | [string, number][] }; added_tokens?: { id: number; content: string }[] };
  const vocab = new Map<string, number>();
  const modelVocab = json.model?.vocab;
  if (Array.isArray(modelVocab)) modelVocab.forEach(([token], id) => vocab.set(token, id)); // unigram: [piece, score] by id
  else for (const [token, id] of Object.entries(modelVocab ?? {})) vocab.set(token, id);
  for (const added of json.added_tokens ?? []) vocab.set(added.content, added.id);
  return vocab;
}

/**
 * The embedding plan for a config's `tokenizer:` block, or undefined when it asks for nothing beyond copying.
 * `vocabularyOf(ref)` reads a referenced model's vocabulary; `keyOf` normalises references.
 */
export function planTokenEmbeddings(
  config: MergeConfig,
  tensorNames: readonly string[],
  outputVocab: Map<string, number>,
  vocabularyOf: (ref: string) => Map<string, number>,
  keyOf: (ref: string) => string,
): TokenEmbeddingPlan | undefined {
  const block = config.tokenizer;
  if (block === undefined || (block.tokens === undefined && (block.pad_to_multiple_of ?? undefined) === undefined)) return undefined;
  const vocabSize = Math.max(...outputVocab.values()) + 1;
  const multiple = block.pad_to_multiple_of ?? undefined;
  const rows = multiple === undefined || vocabSize % multiple === 0 ? vocabSize : Math.ceil(vocabSize / multiple) * multiple;
  const forced = new Map<number, RowSource>();
  for (const [token, setting] of Object.entries(block.tokens ?? {})) {
    const path = ['tokenizer', 'tokens', token];
    const id = outputVocab.get(token);
    if (id === undefined) throw new ConfigError([{ path, message: `token '${token}' is not in the output vocabulary` }], { hint: 'use the token exactly as tokenizer.json spells it' });
    if (!setting.force) continue; // every input has the token: its own row stays (mergekit)
    const source = setting.source;
    if (source === undefined || source === null) throw new ConfigError([{ path: [...path, 'source'], message: 'force: true needs a source' }]);
    if (typeof source === 'string') forced.set(id, { kind: 'row', modelKey: keyOf(source), row: id });
    else if (source.kind === 'zero') forced.set(id, { kind: 'zero' });
    else {
      let row = source.token_id ?? undefined;
      if (row === undefined) {
        row = vocabularyOf(source.model).get(source.token!);
        if (row === undefined) throw new ConfigError([{ path: [...path, 'source', 'token'], message: `token '${source.token}' is not in the vocabulary of '${source.model}'` }]);
      }
      forced.set(id, { kind: 'row', modelKey: keyOf(source.model), row });
    }
  }
  return { tensorNames, vocabSize, rows, forced };
}

/** A model seen through the embedding plan: embedding tensors re-rowed (float32), everything else as stored. */
export class TokenEmbeddingView implements Checkpoint {
  constructor(
    private readonly inner: Checkpoint,
    private readonly plan: TokenEmbeddingPlan,
    private readonly rawModel: (key: string) => Checkpoint,
  ) {}

  get source(): string {
    return this.inner.source;
  }
  get config(): Record<string, unknown> | undefined {
    return this.inner.config;
  }
  names(): string[] {
    return this.inner.names();
  }
  has(name: string): boolean {
    return this.inner.has(name);
  }
  private applies(name: string): boolean {
    return this.plan.tensorNames.includes(name) && this.inner.has(name) && this.inner.info(name).shape.length === 2;
  }
  info(name: string): TensorInfo {
    const info = this.inner.info(name);
    if (!this.applies(name)) return info;
    const shape = [this.plan.rows, info.shape[1]!];
    return { name, dtype: 'F32', shape, byteLength: shape[0]! * shape[1]! * 4 };
  }
  readBytes(name: string): Uint8Array {
    if (!this.applies(name)) return this.inner.readBytes(name);
    const values = this.readFloat32(name);
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  readFloat32(name: string): Float32Array {
    const values = this.inner.readFloat32(name);
    if (!this.applies(name)) return values;
    const cols = this.inner.info(name).shape[1]!;
    const storedRows = values.length / cols;
    const { vocabSize, rows, forced } = this.plan;
    if (storedRows < vocabSize) {
      throw new ConfigError([{ path: ['tokenizer'], message: `'${this.inner.source}' ${name} has ${storedRows} rows, fewer than the ${vocabSize} tokens of the output vocabulary` }], {
        hint: 'vocabulary alignment across different tokenizers is not supported; merge models that share one tokenizer',
      });
    }
    const out = new Float32Array(rows * cols);
    out.set(values.subarray(0, vocabSize * cols));
    for (const [id, source] of forced) {
      if (source.kind === 'zero') out.fill(0, id * cols, (id + 1) * cols);
      else {
        const donor = this.rawModel(source.modelKey).readFloat32(name);
        if ((source.row + 1) * cols > donor.length) throw new ConfigError([{ path: ['tokenizer', 'tokens'], message: `token id ${source.row} is out of range for ${name}` }]);
        out.set(donor.subarray(source.row * cols, (source.row + 1) * cols), id * cols);
      }
    }
    if (rows > vocabSize) {
      // padding rows: the mean embedding of the vocabulary (mergekit, after Hewitt's vocabulary-expansion note)
      const mean = new Float64Array(cols);
      for (let r = 0; r < vocabSize; r++) for (let c = 0; c < cols; c++) mean[c]! += out[r * cols + c]!;
      for (let r = vocabSize; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = mean[c]! / vocabSize;
    }
    return out;
  }
  close(): void {
    this.inner.close();
  }
}
