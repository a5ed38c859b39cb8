/**
 * The task-vector mix of consensus.ts in float32 arithmetic (merge-methods.md §0: element-wise arithmetic runs
 * in float32): the bit-exact model of the kernels' float32 mix (assembly/task-vector-mix-f32.ts), which the
 * wasm fast path uses by default for one to four models (`arithmetic: 'float32'`, issue #16). Every product,
 * sum, quotient and the final addition rounds to float32, in this order per element:
 *   d_i = fl(fl(w_i)·δ_i); total = d_0 + d_1 + … (from +0 without consensus);
 *   with consensus: elected sign from total ≥ 0, mix = Σ agreeing d_i, divisor = Σ agreeing fl(w_i), |divisor| <
 *   fl(1e-8) → 1; without: mix = total, divisor = fl(plain divisor);
 *   out = fl(B + fl(fl(λ)·(normalize ? fl(mix/divisor) : mix))).
 * `float32MixBound` states how far this is from the float64 mix of consensus.ts.
 */
import { float32Weights } from '../kernels/reference/vector.js';
import { combineTaskVectors, type CombineOptions } from './consensus.js';

/** Most models the float32 mix takes (the fused kernel's four lanes of models); more mix in float64. */
export const FLOAT32_MIX_MODELS = 4;

const DIVISOR_FLOOR = Math.fround(1e-8);
const f = Math.fround;

/**
 * Whether the float32 mix applies: 1..4 models, and every weight, λ and the plain divisor 0 or a normal float32
 * (so rounding them to float32 loses nothing to the range). Otherwise the mix runs in float64.
 */
export function float32MixApplies(weights: readonly number[], lambda: number, plainDivisor: number): boolean {
  return weights.length >= 1 && weights.length <= FLOAT32_MIX_MODELS && float32Weights([...weights, lambda, plainDivisor]);
}

/** The divisor without consensus: Σ w_i, or 1 when it is this close to zero (consensus.ts, §3.6 step 5). */
export function plainDivisorOf(weights: readonly number[]): number {
  let sum = 0;
  for (const w of weights) sum += w;
  return Math.abs(sum) < 1e-8 ? 1 : sum;
}

/** combineTaskVectors in float32 arithmetic (see the header), bit for bit the kernels' float32 mix. */
export function combineTaskVectorsFloat32(options: CombineOptions): Float32Array {
  const { base, deltas, consensus, normalize } = options;
  const weights = options.weights.map(f);
  const lambda = f(options.lambda);
  const plain = f(plainDivisorOf(options.weights));
  const n = base.length;
  const out = new Float32Array(n);
  const d = new Float64Array(deltas.length);
  for (let j = 0; j < n; j++) {
    let total = consensus ? Number.NaN : 0;
    for (let i = 0; i < deltas.length; i++) {
      d[i] = f(weights[i]! * deltas[i]![j]!);
      total = Number.isNaN(total) ? d[i]! : f(total + d[i]!);
    }
    let mixed = total;
    let divisor = plain;
    if (consensus) {
      const positive = total >= 0;
      mixed = 0;
      divisor = 0;
      for (let i = 0; i < deltas.length; i++) {
        if (positive ? d[i]! > 0 : d[i]! < 0) {
          mixed = f(mixed + d[i]!);
          divisor = f(divisor + weights[i]!);
        }
      }
      if (Math.abs(divisor) < DIVISOR_FLOOR) divisor = 1;
    }
    out[j] = f(base[j]! + f(lambda * (normalize ? f(mixed / divisor) : mixed)));
  }
  return out;
}

/**
 * The float32 mix where it applies, else (or where a float32 result is not finite: an overflow the float64 mix
 * may not have) the float64 mix of consensus.ts — the fast path's rule for a whole tensor.
 */
export function combineTaskVectorsAs(arithmetic: 'float32' | 'float64', options: CombineOptions): Float32Array {
  if (arithmetic === 'float32' && float32MixApplies(options.weights, options.lambda, plainDivisorOf(options.weights))) {
    const out = combineTaskVectorsFloat32(options);
    if (out.every((v) => v - v === 0)) return out;
  }
  return combineTaskVectors(options);
}

/**
 * A bound on |float32 mix − float64 mix| (both as float32 outputs) for one element whose elected sign is the same
 * in both — always without consensus; with it, whenever |Σ w_i·δ_i| > (m + 1)·2⁻²⁴·Σ|w_i·δ_i| (the float32 total's
 * error), else the elected sign, and with it the kept set, may differ. With m models, S = Σ|w_i·δ_i| and W = Σ|w_i|
 * over the mixed (agreeing, or all) models, q the float64 mix (normalize: mix/divisor, D = |divisor|, else D = 1, W
 * = 0), B the base value: every rounding is ≤ u = 2⁻²⁴ relative — two per term (weight, product), one per
 * addition, one for the quotient, three for λ·q and B + λ·q, one for the float64 result's own rounding — so the
 * first-order error is ≤ u·(|λ|·((m + 1)·(S + W·|q|)/D + 2|q|) + 2(|B| + |λ·q|)); the bound doubles it (second-
 * order terms) and adds 2⁻¹⁴⁹·(2m + 8) for roundings in float32's subnormal range.
 */
export function float32MixBound(terms: { absTermSum: number; absWeightSum: number; divisor: number; quotient: number; base: number; lambda: number; models: number }): number {
  const { absTermSum, absWeightSum, divisor, quotient, base, lambda, models } = terms;
  const u = 2 ** -24;
  const q = Math.abs(quotient);
  const mix = ((models + 1) * (absTermSum + absWeightSum * q)) / Math.abs(divisor) + 2 * q;
  return 2 * u * (Math.abs(lambda) * mix + 2 * (Math.abs(base) + Math.abs(lambda * quotient))) + 2 ** -149 * (2 * models + 8);
}
