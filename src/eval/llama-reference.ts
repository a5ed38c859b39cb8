/**
 * Reference forward pass of LlamaForCausalLM (Touvron et al., "LLaMA", arXiv:2302.13971; as implemented by
 * Hugging Face transformers' `modeling_llama`): RMSNorm (Zhang & Sennrich, arXiv:1910.07467), rotary position
 * embeddings in the rotate-half layout (Su et al., arXiv:2104.09864), grouped-query attention (Ainslie et al.,
 * arXiv:2305.13245) with a causal mask, SwiGLU MLP (Shazeer, arXiv:2002.05202).
 *
 * Plain TypeScript with float64 accumulation, one sequence at a time: slow on purpose. It is the specification
 * the fast path (llama-model.ts) is tested against (style.md §1.8).
 */
import { invariant } from '../core/errors.js';
import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';

/**
 * RoPE angles for positions 0..length-1, `[length, headDim/2]`. Inverse frequencies and angles are rounded to
 * float32 as transformers computes them, so both paths see the reference model's exact rotation.
 */
export function ropeTables(config: LlamaConfig, length: number): { cos: Float64Array; sin: Float64Array } {
  const half = config.headDim / 2;
  const cos = new Float64Array(length * half);
  const sin = new Float64Array(length * half);
  for (let i = 0; i < half; i++) {
    const inverseFrequency = Math.fround(1 / Math.fround(config.ropeTheta ** Math.fround((2 * i) / config.headDim)));
    for (let position = 0; position < length; position++) {
      const angle = Math.fround(position * inverseFrequency);
      cos[position * half + i] = Math.fround(Math.cos(angle));
      sin[position * half + i] = Math.fround(Math.sin(angle));
    }
  }
  return { cos, sin };
}

/** `out[t, o] = Σ_i x[t, i] · w[o, i]` for a `[out, in]` weight. */
function linear(x: Float64Array, rows: number, weight: Float32Array, inFeatures: number, outFeatures: number): Float64Array {
  const out = new Float64Array(rows * outFeatures);
  for (let t = 0; t < rows; t++) {
    const xOffset = t * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const wOffset = o * inFeatures;
      let sum = 0;
      for (let i = 0; i < inFeatures; i++) sum += x[xOffset + i]! * weight[wOffset + i]!;
      out[t * outFeatures + o] = sum;
    }
  }
  return out;
}

function rmsNorm(x: Float64Array, rows: number, width: number, weight: Float32Array, eps: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let t = 0; t < rows; t++) {
    let sumOfSquares = 0;
    for (let i = 0; i < width; i++) sumOfSquares += x[t * width + i]! ** 2;
    const scale = 1 / Math.sqrt(sumOfSquares / width + eps);
    for (let i = 0; i < width; i++) out[t * width + i] = x[t * width + i]! * scale * weight[i]!;
  }
  return out;
}

/** Rotates each head's halves in place: (a, b) → (a·cos − b·sin, b·cos + a·sin). */
function applyRope(x: Float64Array, rows: number, heads: number, headDim: number, cos: Float64Array, sin: Float64Array): void {
  const half = headDim / 2;
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const a = x[base + i]!;
        const b = x[base + half + i]!;
        const c = cos[t * half + i]!;
        const s = sin[t * half + i]!;
        x[base + i] = a * c - b * s;
        x[base + half + i] = b * c + a * s;
      }
    }
  }
}

/** Causal grouped-query attention; query head h reads key/value head ⌊h / (heads / kvHeads)⌋. */
function causalAttention(q: Float64Array, k: Float64Array, v: Float64Array, length: number, config: LlamaConfig): Float64Array {
  const { numHeads, numKvHeads, headDim } = config;
  const group = numHeads / numKvHeads;
  const out = new Float64Array(length * numHeads * headDim);
  const scores = new Float64Array(length);
  const scale = 1 / Math.sqrt(headDim);
  for (let h = 0; h < numHeads; h++) {
    const kvHead = Math.floor(h / group);
    for (let i = 0; i < length; i++) {
      const qBase = (i * numHeads + h) * headDim;
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        const kBase = (j * numKvHeads + kvHead) * headDim;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[qBase + d]! * k[kBase + d]!;
        scores[j] = dot * scale;
        if (scores[j]! > max) max = scores[j]!;
      }
      let total = 0;
      for (let j = 0; j <= i; j++) {
        scores[j] = Math.exp(scores[j]! - max);
        total += scores[j]!;
      }
      for (let j = 0; j <= i; j++) {
        const weight = scores[j]! / total;
        const vBase = (j * numKvHeads + kvHead) * headDim;
        for (let d = 0; d < headDim; d++) out[qBase + d] = out[qBase + d]! + weight * v[vBase + d]!;
      }
    }
  }
  return out;
}

/** Logits `[tokens.length, vocab]` for one sequence starting at position 0. */
export function referenceLogits(weights: LlamaWeights, tokens: ArrayLike<number>): Float64Array {
  const config = weights.config;
  const { hiddenSize: d, numHeads, numKvHeads, headDim, intermediateSize: m, vocabSize, rmsNormEps: eps } = config;
  const length = tokens.length;
  invariant(length <= config.maxPositions, () => `sequence of ${length} exceeds ${config.maxPositions} positions`);
  const { cos, sin } = ropeTables(config, length);
  let x = new Float64Array(length * d);
  for (let t = 0; t < length; t++) {
    const id = tokens[t]!;
    invariant(Number.isInteger(id) && id >= 0 && id < vocabSize, () => `token id ${id} outside [0, ${vocabSize})`);
    for (let i = 0; i < d; i++) x[t * d + i] = weights.embed[id * d + i]!;
  }
  for (const layer of weights.layers) {
    const h = rmsNorm(x, length, d, layer.inputNorm, eps);
    const q = linear(h, length, layer.q, d, numHeads * headDim);
    const k = linear(h, length, layer.k, d, numKvHeads * headDim);
    const v = linear(h, length, layer.v, d, numKvHeads * headDim);
    applyRope(q, length, numHeads, headDim, cos, sin);
    applyRope(k, length, numKvHeads, headDim, cos, sin);
    const attended = linear(causalAttention(q, k, v, length, config), length, layer.o, numHeads * headDim, d);
    x = x.map((value, i) => value + attended[i]!);
    const h2 = rmsNorm(x, length, d, layer.postNorm, eps);
    const gate = linear(h2, length, layer.gate, d, m);
    const up = linear(h2, length, layer.up, d, m);
    const activated = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
    const mlp = linear(activated, length, layer.down, m, d);
    x = x.map((value, i) => value + mlp[i]!);
  }
  return linear(rmsNorm(x, length, d, weights.finalNorm, eps), length, weights.lmHead, d, vocabSize);
}

/** Next-token cross-entropy of `logits` `[T, vocab]` against `tokens`: the T−1 per-position losses in nats. */
export function referenceNextTokenLosses(logits: Float64Array, tokens: ArrayLike<number>, vocabSize: number): Float64Array {
  const losses = new Float64Array(Math.max(0, tokens.length - 1));
  for (let t = 0; t + 1 < tokens.length; t++) {
    let max = -Infinity;
    for (let c = 0; c < vocabSize; c++) max = Math.max(max, logits[t * vocabSize + c]!);
    let total = 0;
    for (let c = 0; c < vocabSize; c++) total += Math.exp(logits[t * vocabSize + c]! - max);
    losses[t] = max + Math.log(total) - logits[t * vocabSize + tokens[t + 1]!]!;
  }
  return losses;
}
