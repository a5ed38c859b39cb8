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

// @ts-ignore: decorator
@inline
function agreeing(d: v128, positive: v128): v128 {
  const zero = f32x4.splat(0);
  return v128.bitselect(f32x4.gt(d, zero), f32x4.lt(d, zero), positive);
}

/** The two-model case with both trimmed deltas kept in registers (the generic loop recomputes them). */
function tiesMixTwo(
  out: usize, base: usize, x0: usize, x1: usize, t0: f32, t1: f32, w0: f32, w1: f32,
  n: i32, lambda: f32, consensus: bool, normalize: bool, weightSum: f32,
): i32 {
  const zero = f32x4.splat(0);
  const w0v = f32x4.splat(w0);
  const w1v = f32x4.splat(w1);
  const lambdaV = f32x4.splat(lambda);
  const tiny = f32x4.splat(1e-8);
  const one = f32x4.splat(1);
  const weightSumV = f32x4.splat(weightSum);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const b = v128.load(base + o);
    const d0 = trimmedWeightedDelta(v128.load(x0 + o), b, t0, w0);
    const d1 = trimmedWeightedDelta(v128.load(x1 + o), b, t1, w1);
    let mixed = f32x4.add(f32x4.add(zero, d0), d1);
    let divisor = weightSumV;
    if (consensus) {
      const positive = f32x4.ge(mixed, zero);
      const agree0 = agreeing(d0, positive);
      const agree1 = agreeing(d1, positive);
      mixed = f32x4.add(f32x4.add(zero, v128.and(d0, agree0)), v128.and(d1, agree1));
      divisor = f32x4.add(f32x4.add(zero, v128.and(w0v, agree0)), v128.and(w1v, agree1));
      divisor = v128.bitselect(one, divisor, f32x4.lt(f32x4.abs(divisor), tiny));
    }
    if (normalize) mixed = f32x4.div(mixed, divisor);
    v128.store(out + o, f32x4.add(b, f32x4.mul(lambdaV, mixed)));
  }
  return i;
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
  if (count == 2) {
    const x0 = pointerAt(inputs, 0), x1 = pointerAt(inputs, 1);
    const t0 = floatAt(thresholds, 0), t1 = floatAt(thresholds, 1);
    const w0 = floatAt(weights, 0), w1 = floatAt(weights, 1);
    i = tiesMixTwo(out, base, x0, x1, t0, t1, w0, w1, n, lambda, consensus, normalize, weightSum);
  }
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
