/**
 * SynEVO task-independent personality extractor (synevo.md §2.3, Eq. 12–13): a linear map E = g(X) = X·W_g
 * applied to a sample's z-scored input window X ∈ R^{N×12} (W_g ∈ R^{12×k}, so E ∈ R^{N×k}), trained with the
 * contrastive loss R = ŷ·D + (1 − ŷ)·max(0, m − D), D(A, B) = mean((A − B)²), ŷ = 1 for a same-domain pair.
 * Plain TypeScript with the closed-form gradient (the map is tiny): for Δ = X_i − X_j,
 * D = mean((Δ·W)²) and ∂D/∂W = (2 / (N·k))·Δᵀ(Δ·W). Adam on W over seeded random pairs, half of them
 * same-domain. The margin m is not given by the paper (UNVERIFIED): default 1.0 on standardised inputs.
 */
import { createRng } from '../../core/rng.js';

export interface ExtractorOptions {
  readonly dim: number;
  readonly margin: number;
  readonly iterations: number;
  readonly pairsPerIteration: number;
  readonly learningRate: number;
  readonly seed: number | string;
}

export const DEFAULT_EXTRACTOR: ExtractorOptions = { dim: 8, margin: 1.0, iterations: 150, pairsPerIteration: 16, learningRate: 0.01, seed: 0 };

export interface PersonalityExtractor {
  /** W_g [steps × dim], row-major */
  readonly weight: Float64Array;
  readonly steps: number;
  readonly dim: number;
  readonly margin: number;
  /** mean contrastive loss per iteration */
  readonly losses: readonly number[];
}

/** A sample's window: `nodes × steps` z-scored values, node-major. */
export interface ExtractorSample {
  readonly features: Float64Array;
  readonly domain: string;
}

/** E = X·W for X [nodes × steps]. */
export function embed(weight: Float64Array, features: Float64Array, steps: number, dim: number): Float64Array {
  const nodes = features.length / steps;
  const out = new Float64Array(nodes * dim);
  for (let n = 0; n < nodes; n++) {
    for (let t = 0; t < steps; t++) {
      const x = features[n * steps + t]!;
      if (x === 0) continue;
      for (let j = 0; j < dim; j++) out[n * dim + j]! += x * weight[t * dim + j]!;
    }
  }
  return out;
}

/** Eq. (13): R = ŷ·D + (1 − ŷ)·max(0, m − D). */
export function contrastiveLoss(distance: number, sameDomain: boolean, margin: number): number {
  return sameDomain ? distance : Math.max(0, margin - distance);
}

/** Loss of one pair and its gradient with respect to W (accumulated into `gradient` when given). */
export function pairLoss(weight: Float64Array, a: Float64Array, b: Float64Array, sameDomain: boolean, steps: number, dim: number, margin: number, gradient?: Float64Array): number {
  const delta = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) delta[i] = a[i]! - b[i]!;
  const projected = embed(weight, delta, steps, dim);
  let distance = 0;
  for (const v of projected) distance += v * v;
  distance /= projected.length;
  const loss = contrastiveLoss(distance, sameDomain, margin);
  // ∂R/∂D is 1 (same), −1 inside the margin (different), 0 outside it
  const slope = sameDomain ? 1 : distance < margin ? -1 : 0;
  if (gradient && slope !== 0) {
    const nodes = a.length / steps;
    const scale = (2 * slope) / projected.length;
    for (let n = 0; n < nodes; n++) {
      for (let t = 0; t < steps; t++) {
        const d = delta[n * steps + t]!;
        if (d === 0) continue;
        for (let j = 0; j < dim; j++) gradient[t * dim + j]! += scale * d * projected[n * dim + j]!;
      }
    }
  }
  return loss;
}

/** Trains W_g contrastively on samples from at least one domain (pairs drawn with a seeded stream). */
export function trainExtractor(samples: readonly ExtractorSample[], steps: number, options: ExtractorOptions = DEFAULT_EXTRACTOR): PersonalityExtractor {
  const { dim, margin } = options;
  const rng = createRng('synevo-extractor', options.seed);
  const weight = new Float64Array(steps * dim).map(() => rng.normal() / Math.sqrt(steps));
  const byDomain = new Map<string, number[]>();
  samples.forEach((s, i) => byDomain.set(s.domain, [...(byDomain.get(s.domain) ?? []), i]));
  const domains = [...byDomain.keys()];
  const moment1 = new Float64Array(weight.length);
  const moment2 = new Float64Array(weight.length);
  const losses: number[] = [];
  const pick = (list: readonly number[]): number => list[rng.int(list.length)]!;
  for (let it = 1; it <= options.iterations; it++) {
    const gradient = new Float64Array(weight.length);
    let loss = 0;
    for (let p = 0; p < options.pairsPerIteration; p++) {
      const same = domains.length < 2 || p % 2 === 0;
      const first = domains[rng.int(domains.length)]!;
      let second = first;
      if (!same) while (second === first) second = domains[rng.int(domains.length)]!;
      const a = samples[pick(byDomain.get(first)!)]!;
      const b = samples[pick(byDomain.get(second)!)]!;
      loss += pairLoss(weight, a.features, b.features, same, steps, dim, margin, gradient);
    }
    losses.push(loss / options.pairsPerIteration);
    // Adam (β1 0.9, β2 0.999)
    for (let i = 0; i < weight.length; i++) {
      const g = gradient[i]! / options.pairsPerIteration;
      moment1[i] = 0.9 * moment1[i]! + 0.1 * g;
      moment2[i] = 0.999 * moment2[i]! + 0.001 * g * g;
      const m = moment1[i]! / (1 - 0.9 ** it);
      const v = moment2[i]! / (1 - 0.999 ** it);
      weight[i]! -= (options.learningRate * m) / (Math.sqrt(v) + 1e-8);
    }
  }
  return { weight, steps, dim, margin, losses };
}

/** A domain's representation: the mean of E over its samples (the paper does not say; synevo.md §2.4). */
export function domainRepresentation(extractor: PersonalityExtractor, samples: readonly Float64Array[]): Float64Array {
  const mean = new Float64Array(samples[0]!.length);
  for (const s of samples) for (let i = 0; i < s.length; i++) mean[i]! += s[i]! / samples.length;
  // E is linear, so the mean of E equals E of the mean window
  return embed(extractor.weight, mean, extractor.steps, extractor.dim);
}
