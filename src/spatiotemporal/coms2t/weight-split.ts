/**
 * ComS2T's weight disentanglement (coms2t.md §3.2): from the last (up to 10) Stage-0 epoch checkpoints, split the
 * eligible tensors into a stable "neocortex" (frozen in Stage 1b) and a dynamic "hippocampus" (trained).
 *
 * - `tensor-ratio` (the ComS2T code, default): score = mean over the tensor's elements of the element-wise
 *   standard deviation across checkpoints (unbiased, as torch.std; the 1/(n−1) vs 1/n choice scales every score
 *   alike and cannot change the ranking). The ⌊ratio/100 · eligible⌋ highest-scoring tensors are dynamic
 *   (rounded down, so ratio 50 of 25 tensors marks 12); ties are broken by name, ascending. Option
 *   `idleTensors`: the code ranks its 12 prompt tensors with the backbone (train.py line 385 skips only names
 *   with var/mean/bn/nodevec); Stage 0 never updates them, so they score 0, rank last and only enlarge the pool:
 *   ⌊ratio/100 · (eligible + idle)⌋ tensors (at most all eligible) are then dynamic.
 * - `element-variance` (CMuST's rule): an element is stable if the population variance of its value across the
 *   checkpoints is below δ (default 1e-6); a tensor can then be partly stable (an element mask, which Stage 1b
 *   applies element by element: stage-one.ts keeps the stable elements at their starting values).
 * BatchNorm tensors (scale, shift, running statistics), the node embeddings and prompt tensors are not eligible:
 * they always stay trainable (the code skips them).
 */
import { ModelevoError } from '../../core/errors.js';
import type { GwnWeights } from '../gwn-config.js';
import { isPromptTensor } from './prompt-encoder.js';

export const MAX_SPLIT_CHECKPOINTS = 10;

export type SplitMethod = 'tensor-ratio' | 'element-variance';

export interface WeightSplitOptions {
  readonly method: SplitMethod;
  /** percentage of eligible tensors that are dynamic (tensor-ratio) */
  readonly ratio: number;
  /** variance threshold δ (element-variance) */
  readonly delta: number;
  /** tensor-ratio: never-updated tensors counted in the pool (the code's 12 prompt tensors; absent: 0) */
  readonly idleTensors?: number;
}

export const DEFAULT_WEIGHT_SPLIT: WeightSplitOptions = { method: 'tensor-ratio', ratio: 50, delta: 1e-6 };

export interface WeightSplit {
  readonly method: SplitMethod;
  /** eligible tensor names, sorted */
  readonly eligible: readonly string[];
  /** eligible tensors with at least one dynamic element */
  readonly dynamic: readonly string[];
  /** eligible tensors with no dynamic element (frozen whole) */
  readonly stable: readonly string[];
  /** per-tensor score (tensor-ratio: mean element std; element-variance: fraction of dynamic elements) */
  readonly scores: Readonly<Record<string, number>>;
  /** element masks (1 = dynamic) for partly stable tensors (element-variance only) */
  readonly elementMasks: Readonly<Record<string, Uint8Array>>;
}

/** BatchNorm, node embeddings and prompt tensors are never split. */
export function isSplitEligible(name: string): boolean {
  return !name.includes('.bn.') && !name.startsWith('node_emb') && !isPromptTensor(name);
}

/** The last ≤10 checkpoints in epoch order. */
export function lastCheckpoints<T>(checkpoints: readonly T[], limit = MAX_SPLIT_CHECKPOINTS): T[] {
  return checkpoints.slice(Math.max(0, checkpoints.length - limit));
}

export function splitWeights(checkpoints: readonly GwnWeights[], options: WeightSplitOptions = DEFAULT_WEIGHT_SPLIT): WeightSplit {
  if (checkpoints.length < 2) {
    throw new ModelevoError('VALUE_INVALID', `weight split: expected at least 2 epoch checkpoints, found ${checkpoints.length}`, {
      hint: 'train Stage 0 for at least 2 epochs (the split measures how weights move between epochs)',
      details: { checkpoints: checkpoints.length },
    });
  }
  if (!(options.ratio >= 0 && options.ratio <= 100)) {
    throw new ModelevoError('CONFIG_INVALID', `weight split: expected a ratio in [0, 100], found ${options.ratio}`, { hint: 'e.g. --ratio 50', details: { ratio: options.ratio } });
  }
  const used = lastCheckpoints(checkpoints);
  const eligible = Object.keys(used[0]!).filter(isSplitEligible).sort();
  const scores: Record<string, number> = {};
  const elementMasks: Record<string, Uint8Array> = {};
  const dynamic: string[] = [];
  const stable: string[] = [];
  for (const name of eligible) {
    const series = used.map((weights, i) => {
      const tensor = weights[name];
      if (!tensor) throw new ModelevoError('TENSOR_NOT_FOUND', `weight split: checkpoint ${i} lacks tensor '${name}'`, { hint: 'pass checkpoints of one model', details: { name, checkpoint: i } });
      return tensor.data;
    });
    const size = series[0]!.length;
    let stdSum = 0;
    const mask = new Uint8Array(size);
    let dynamicCount = 0;
    for (let e = 0; e < size; e++) {
      let mean = 0;
      for (const data of series) mean += data[e]!;
      mean /= series.length;
      let squares = 0;
      for (const data of series) squares += (data[e]! - mean) ** 2;
      stdSum += Math.sqrt(squares / (series.length - 1));
      if (squares / series.length >= options.delta) {
        mask[e] = 1;
        dynamicCount++;
      }
    }
    if (options.method === 'tensor-ratio') scores[name] = size > 0 ? stdSum / size : 0;
    else {
      scores[name] = size > 0 ? dynamicCount / size : 0;
      if (dynamicCount === 0) stable.push(name);
      else {
        dynamic.push(name);
        if (dynamicCount < size) elementMasks[name] = mask;
      }
    }
  }
  if (options.method === 'tensor-ratio') {
    const ranked = [...eligible].sort((a, b) => scores[b]! - scores[a]! || (a < b ? -1 : a > b ? 1 : 0));
    const count = Math.min(eligible.length, Math.floor((options.ratio / 100) * (eligible.length + (options.idleTensors ?? 0))));
    const chosen = new Set(ranked.slice(0, count));
    for (const name of eligible) (chosen.has(name) ? dynamic : stable).push(name);
  }
  return { method: options.method, eligible, dynamic, stable, scores, elementMasks };
}
