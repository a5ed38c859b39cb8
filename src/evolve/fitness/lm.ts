/**
 * Built-in language-model fitness: the mean next-token loss of a candidate over named texts, on the
 * **development** windows only. Windows [0, TEST_WINDOWS) of every text are the test split (the fixture
 * protocol's 32 windows) and this module refuses any configuration that reaches into them, so no strategy
 * can select on test data. The test split is read by `evaluateTestSplit`, used only for reporting.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../../core/errors.js';
import type { Checkpoint } from '../../io/checkpoint.js';
import { loadLlamaWeights } from '../../eval/llama-weights.js';
import { LlamaModel } from '../../eval/llama-model.js';
import { evaluationWindows, summariseLosses, type LmEvalResult } from '../../eval/lm-eval.js';
import { LmTokenizer } from '../../eval/tokenizer.js';
import type { FitnessSource } from './fitness.js';
import { TEST_WINDOWS, checkDevelopmentWindows } from './splits.js';

export { TEST_WINDOWS } from './splits.js';

export interface LmFitnessOptions {
  /** text name → file path */
  readonly texts: Readonly<Record<string, string>>;
  readonly window: number;
  readonly windows: number;
  /** first development window; must be ≥ TEST_WINDOWS */
  readonly offset: number;
  /** folder with tokenizer.json (the donor model's) */
  readonly tokenizerFolder: string;
  /** evaluator worker threads (default 2) */
  readonly threads?: number;
}

/** Cut once, reused for every candidate: name → windows of token ids. */
function prepareWindows(options: { texts: Readonly<Record<string, string>>; window: number; windows: number; offset: number }, tokenizer: LmTokenizer, maxPositions: number) {
  return Object.entries(options.texts).map(([name, path]) => ({
    name,
    windows: evaluationWindows(tokenizer.encode(readFileSync(path, 'utf8')), options, { label: name, maxPositions }),
  }));
}

/** A reusable evaluator: one model handle whose weights are swapped per candidate. */
export class TextEvaluator {
  private model: LlamaModel | undefined;
  constructor(private readonly threads: number) {}

  async losses(checkpoint: Checkpoint, texts: readonly { name: string; windows: Int32Array[] }[]): Promise<Map<string, LmEvalResult>> {
    const weights = loadLlamaWeights(checkpoint);
    if (!this.model) this.model = await LlamaModel.fromWeights(weights, checkpoint.source, { threads: this.threads });
    else await this.model.replaceWeights(weights);
    const out = new Map<string, LmEvalResult>();
    for (const text of texts) out.set(text.name, summariseLosses(await this.model.windowLosses(text.windows)));
    return out;
  }

  async close(): Promise<void> {
    await this.model?.close();
    this.model = undefined;
  }
}

export async function lmFitness(options: LmFitnessOptions): Promise<FitnessSource> {
  checkDevelopmentWindows(options.offset);
  const tokenizer = LmTokenizer.fromFolder(options.tokenizerFolder);
  let prepared: { name: string; windows: Int32Array[] }[] | undefined;
  const evaluator = new TextEvaluator(options.threads ?? 2);
  return {
    name: 'builtin-lm',
    objective: 'min',
    needsFolder: false,
    windows: { first: options.offset, count: options.windows },
    async preflight(model) {
      for (const [name, path] of Object.entries(options.texts)) {
        if (!existsSync(path) || !statSync(path).isFile()) {
          throw new ConfigError([{ path: ['fitness', 'builtin', 'texts', name], message: `text file ${path} does not exist` }], {
            hint: 'fix the path (relative paths resolve against the current directory)',
          });
        }
      }
      // cutting the windows checks them against the model's positions and each text's length (typed errors)
      prepared = prepareWindows(options, tokenizer, Number(model.config?.max_position_embeddings ?? options.window));
    },
    async evaluate({ checkpoint }) {
      const maxPositions = Number(checkpoint.config?.max_position_embeddings ?? options.window);
      prepared ??= prepareWindows(options, tokenizer, maxPositions);
      const results = await evaluator.losses(checkpoint, prepared);
      const metrics: Record<string, number> = {};
      let sum = 0;
      for (const [name, r] of results) {
        metrics[`loss_${name}`] = r.loss;
        sum += r.loss;
      }
      return { score: sum / results.size, metrics };
    },
    close: () => evaluator.close(),
  };
}

/** Test-split losses (windows [0, TEST_WINDOWS)), for reports after selection only. */
export async function evaluateTestSplit(
  evaluator: TextEvaluator,
  checkpoint: Checkpoint,
  texts: Readonly<Record<string, string>>,
  tokenizer: LmTokenizer,
  window = 256,
): Promise<Map<string, LmEvalResult>> {
  const maxPositions = Number(checkpoint.config?.max_position_embeddings ?? window);
  return evaluator.losses(checkpoint, prepareWindows({ texts, window, windows: TEST_WINDOWS, offset: 0 }, tokenizer, maxPositions));
}
