// Fused TIES-style mix (Yadav et al., NeurIPS 2023, arXiv 2306.01708), merge-methods.md §3.6 steps 3–7, for n
// models X_j with base B, per-model magnitude thresholds t_j (the trim of step 2: δ_j kept where |δ_j| ≥ t_j,
// computed beforehand by a radix select) and weights w_j:
//   δ_j = X_j − B,  D_j = w_j·δ_j if |δ_j| ≥ t_j else 0                                  (steps 2–3)
//   σ = +1 where Σ_j D_j ≥ 0 else −1;  M_j = [sign(D_j) = σ], zeros never match          (step 4, consensus)
//   Δ = Σ M_j D_j, div = Σ M_j w_j   (without consensus: Δ = Σ D_j, div = Σ w_j)          (step 5)
//   div = 1 where |div| < 1e-8;  Δ ← Δ/div if normalize                                   (steps 5–6)
//   out = B + λ·Δ                                                                          (step 7)
// All arithmetic is float32 with sums taken in model order, matching the scalar reference operation for
// operation. NaN deltas fail the |δ| ≥ t test and are dropped.

export const TIES_CONSENSUS: i32 = 1;
export const TIES_NORMALIZE: i32 = 2;

// @ts-ignore: decorator
@inline
function pointerAt(table: usize, j: i32): usize {
  return <usize>load<u32>(table + (<usize>j << 2));
}

// @ts-ignore: decorator
@inline
function floatAt(table: usize, j: i32): f32 {
  return load<f32>(table + (<usize>j << 2));
}

// @ts-ignore: decorator
@inline
function trimmedWeightedDelta(x: v128, b: v128, threshold: f32, weight: f32): v128 {
  const delta = f32x4.sub(x, b);
  const kept = f32x4.ge(f32x4.abs(delta), f32x4.splat(threshold));
  return v128.and(f32x4.mul(f32x4.splat(weight), delta), kept);
}

// @ts-ignore: decorator
@inline
function trimmedWeightedDeltaScalar(x: f32, b: f32, threshold: f32, weight: f32): f32 {
  const delta = x - b;
  return abs(delta) >= threshold ? weight * delta : 0;
}

export function tiesMix(
  out: usize, base: usize, inputs: usize, thresholds: usize, weights: usize,
  count: i32, n: i32, lambda: f32, flags: i32,
): void {
  const consensus = (flags & TIES_CONSENSUS) != 0;
  const normalize = (flags & TIES_NORMALIZE) != 0;
  const tiny: f32 = 1e-8;
  let weightSum: f32 = 0;
  for (let j = 0; j < count; j++) weightSum += floatAt(weights, j);
  if (abs(weightSum) < tiny) weightSum = 1;
  const lambdaV = f32x4.splat(lambda);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const b = v128.load(base + o);
    let sum = zero;
    for (let j = 0; j < count; j++) {
      sum = f32x4.add(sum, trimmedWeightedDelta(v128.load(pointerAt(inputs, j) + o), b, floatAt(thresholds, j), floatAt(weights, j)));
    }
    let mixed = sum;
    let divisor = f32x4.splat(weightSum);
    if (consensus) {
      const positive = f32x4.ge(sum, zero);
      mixed = zero;
      divisor = zero;
      for (let j = 0; j < count; j++) {
        const weight = floatAt(weights, j);
        const d = trimmedWeightedDelta(v128.load(pointerAt(inputs, j) + o), b, floatAt(thresholds, j), weight);
        const agrees = v128.bitselect(f32x4.gt(d, zero), f32x4.lt(d, zero), positive);
        mixed = f32x4.add(mixed, v128.and(d, agrees));
        divisor = f32x4.add(divisor, v128.and(f32x4.splat(weight), agrees));
      }
      divisor = v128.bitselect(f32x4.splat(1), divisor, f32x4.lt(f32x4.abs(divisor), f32x4.splat(tiny)));
    }
    if (normalize) mixed = f32x4.div(mixed, divisor);
    v128.store(out + o, f32x4.add(b, f32x4.mul(lambdaV, mixed)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const b = load<f32>(base + o);
    let sum: f32 = 0;
    for (let j = 0; j < count; j++) {
      sum += trimmedWeightedDeltaScalar(load<f32>(pointerAt(inputs, j) + o), b, floatAt(thresholds, j), floatAt(weights, j));
    }
    let mixed = sum;
    let divisor = weightSum;
    if (consensus) {
      const positive = sum >= 0;
      mixed = 0;
      divisor = 0;
      for (let j = 0; j < count; j++) {
        const weight = floatAt(weights, j);
        const d = trimmedWeightedDeltaScalar(load<f32>(pointerAt(inputs, j) + o), b, floatAt(thresholds, j), weight);
        if (positive ? d > 0 : d < 0) {
          mixed += d;
          divisor += weight;
        }
      }
      if (abs(divisor) < tiny) divisor = 1;
    }
    if (normalize) mixed = mixed / divisor;
    store<f32>(out + o, b + lambda * mixed);
  }
}
