/**
 * Causal language-model evaluation protocol (test/fixtures/README.md, "Evaluation protocol"; the protocol of
 * reference-losses.json): tokenize the text with no special tokens, skip `offset` windows, take the next
 * `windows` non-overlapping windows of `window` tokens, and report the mean next-token cross-entropy over all
 * windows × (window − 1) predictions, with perplexity = exp(loss).
 */
import { ModelevoError } from '../core/errors.js';
import type { LlamaModel } from './llama-model.js';
import type { LmTokenizer } from './tokenizer.js';

export interface LmEvalOptions {
  /** tokens per window (default 256) */
  readonly window?: number;
  /** windows scored (default 32) */
  readonly windows?: number;
  /** windows skipped at the start of the text (default 0) */
  readonly offset?: number;
}

export interface LmEvalResult {
  /** mean next-token cross-entropy, nats */
  readonly loss: number;
  readonly perplexity: number;
  /** predictions counted: windows × (window − 1) */
  readonly tokens: number;
}

export const DEFAULT_LM_EVAL = { window: 256, windows: 32, offset: 0 } as const;

function positiveInteger(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new ModelevoError('VALUE_INVALID', `${name} must be an integer ≥ ${minimum}, got ${value}`, {
      hint: `pass --${name} with a whole number ≥ ${minimum}`,
      details: { [name]: value },
    });
  }
  return value;
}

/**
 * Cuts the windows out of a token sequence. `label` names the text in errors. Throws VALUE_INVALID for an empty
 * text, a window longer than the model's positions, or too few tokens.
 */
export function evaluationWindows(
  ids: readonly number[],
  options: LmEvalOptions,
  context: { label: string; maxPositions: number },
): Int32Array[] {
  const window = positiveInteger('window', options.window ?? DEFAULT_LM_EVAL.window, 2);
  const windows = positiveInteger('windows', options.windows ?? DEFAULT_LM_EVAL.windows, 1);
  const offset = positiveInteger('offset', options.offset ?? DEFAULT_LM_EVAL.offset, 0);
  if (window > context.maxPositions) {
    throw new ModelevoError('VALUE_INVALID', `window ${window} exceeds the model's max_position_embeddings ${context.maxPositions}`, {
      hint: `pass --window ${context.maxPositions} or less`,
      details: { window, maxPositions: context.maxPositions },
    });
  }
  if (ids.length === 0) {
    throw new ModelevoError('VALUE_INVALID', `text '${context.label}' is empty (0 tokens)`, {
      hint: 'pass a text file with content',
      details: { text: context.label },
    });
  }
  const needed = (offset + windows) * window;
  if (ids.length < needed) {
    const available = Math.floor(ids.length / window) - offset;
    throw new ModelevoError(
      'VALUE_INVALID',
      `text '${context.label}' has ${ids.length} tokens but ${offset} + ${windows} windows of ${window} need ${needed}`,
      {
        hint: available >= 1 ? `pass --windows ${available} or less (or a smaller --window / --offset)` : 'use a longer text or a smaller --window',
        details: { text: context.label, tokens: ids.length, needed },
      },
    );
  }
  return Array.from({ length: windows }, (_, w) => Int32Array.from(ids.slice((offset + w) * window, (offset + w + 1) * window)));
}

/** Mean of every per-position loss, accumulated in float64. */
export function summariseLosses(perWindow: readonly Float32Array[]): LmEvalResult {
  let sum = 0;
  let tokens = 0;
  for (const losses of perWindow) {
    for (const value of losses) sum += value;
    tokens += losses.length;
  }
  const loss = sum / tokens;
  return { loss, perplexity: Math.exp(loss), tokens };
}

/** Evaluates one text. `onWindowDone` reports progress per window. */
export async function evaluateText(
  model: LlamaModel,
  tokenizer: LmTokenizer,
  text: string,
  options: LmEvalOptions & { label?: string; onWindowDone?: (done: number, total: number) => void } = {},
): Promise<LmEvalResult> {
  const label = options.label ?? 'text';
  const windows = evaluationWindows(tokenizer.encode(text), options, { label, maxPositions: model.config.maxPositions });
  return summariseLosses(await model.windowLosses(windows, options.onWindowDone));
}

/** Evaluates several named texts with one model, in the order given. */
export async function evaluateTexts(
  model: LlamaModel,
  tokenizer: LmTokenizer,
  texts: ReadonlyMap<string, string>,
  options: LmEvalOptions & { onWindowDone?: (text: string, done: number, total: number) => void } = {},
): Promise<Map<string, LmEvalResult>> {
  const results = new Map<string, LmEvalResult>();
  // tokenize and cut every text first so a bad text fails before minutes of model time
  const prepared = [...texts].map(([label, text]) => ({
    label,
    windows: evaluationWindows(tokenizer.encode(text), options, { label, maxPositions: model.config.maxPositions }),
  }));
  for (const { label, windows } of prepared) {
    const perWindow = await model.windowLosses(windows, (done, total) => options.onWindowDone?.(label, done, total));
    results.set(label, summariseLosses(perWindow));
  }
  return results;
}
