// Elementwise kernels, reductions and fused optimiser updates of the training engine (src/nn), f32x4 SIMD
// with scalar tails. The TypeScript reference (src/nn/kernels/reference/elementwise.ts) is the specification;
// activation codes match ACTIVATION_CODES there: 0 identity, 1 relu, 2 sigmoid, 3 tanh, 4 gelu (tanh form).

const IDENTITY: i32 = 0;
const RELU: i32 = 1;
const SIGMOID: i32 = 2;
const TANH: i32 = 3;
const GELU: i32 = 4;
const GELU_C: f32 = 0.7978845608028654; // √(2/π)
const GELU_A: f32 = 0.044715;

// @ts-ignore: decorator
@inline
function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

function activate(z: f32, act: i32): f32 {
  if (act == RELU) return z > 0 ? z : 0;
  if (act == SIGMOID) return 1 / (1 + Mathf.exp(-z));
  if (act == TANH) return Mathf.tanh(z);
  if (act == GELU) return 0.5 * z * (1 + Mathf.tanh(GELU_C * (z + GELU_A * z * z * z)));
  return z;
}

function derivative(x: f32, y: f32, act: i32): f32 {
  if (act == RELU) return y > 0 ? 1 : 0;
  if (act == SIGMOID) return y * (1 - y);
  if (act == TANH) return 1 - y * y;
  if (act == GELU) {
    const t = Mathf.tanh(GELU_C * (x + GELU_A * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x);
  }
  return 1;
}

/** y[r, c] = act(y[r, c] + bias[c]) in place; bias = -1 (as usize: all ones) means none; pre ≠ -1 keeps z */
export function nnBiasActivation(y: usize, bias: isize, rows: i32, cols: i32, act: i32, pre: isize): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = at(y, r * cols);
    let c = 0;
    if (pre < 0 && (act == IDENTITY || act == RELU)) {
      for (; c + 4 <= cols; c += 4) {
        let z = v128.load(at(row, c));
        if (bias >= 0) z = f32x4.add(z, v128.load(at(<usize>bias, c)));
        if (act == RELU) z = f32x4.max(z, zero);
        v128.store(at(row, c), z);
      }
    }
    for (; c < cols; c++) {
      const z = load<f32>(at(row, c)) + (bias >= 0 ? load<f32>(at(<usize>bias, c)) : 0);
      if (pre >= 0) store<f32>(at(<usize>pre, r * cols + c), z);
      store<f32>(at(row, c), activate(z, act));
    }
  }
}

export function nnActivation(x: usize, y: usize, n: i32, act: i32): void {
  let i = 0;
  if (act == IDENTITY || act == RELU) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), act == RELU ? f32x4.max(v, zero) : v);
    }
  }
  for (; i < n; i++) store<f32>(at(y, i), activate(load<f32>(at(x, i)), act));
}

/** dx = dy ⊙ act′(x, y); x or y may be -1 when the activation does not read it */
export function nnActivationBackward(dy: usize, x: isize, y: isize, dx: usize, n: i32, act: i32): void {
  let i = 0;
  if (act == RELU) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const keep = f32x4.gt(v128.load(at(<usize>y, i)), zero);
      v128.store(at(dx, i), v128.and(v128.load(at(dy, i)), keep));
    }
  } else if (act == IDENTITY) {
    if (dx != dy) memory.copy(dx, dy, <usize>n << 2);
    return;
  }
  for (; i < n; i++) {
    const xi: f32 = x >= 0 ? load<f32>(at(<usize>x, i)) : 0;
    const yi: f32 = y >= 0 ? load<f32>(at(<usize>y, i)) : 0;
    store<f32>(at(dx, i), load<f32>(at(dy, i)) * derivative(xi, yi, act));
  }
}

/** out[c] = Σ_r x[r, c] */
export function nnColumnSums(x: usize, rows: i32, cols: i32, out: usize): void {
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    let acc = f32x4.splat(0);
    for (let r = 0; r < rows; r++) acc = f32x4.add(acc, v128.load(at(x, r * cols + c)));
    v128.store(at(out, c), acc);
  }
  for (; c < cols; c++) {
    let acc: f32 = 0;
    for (let r = 0; r < rows; r++) acc += load<f32>(at(x, r * cols + c));
    store<f32>(at(out, c), acc);
  }
}

export function nnMultiply(x: usize, m: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.mul(v128.load(at(x, i)), v128.load(at(m, i))));
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(x, i)) * load<f32>(at(m, i)));
}

/** Σ x², accumulated in float64 lanes (the gradient norm must not lose small gradients to large ones) */
export function nnSumSquares(x: usize, n: i32): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  const both = f64x2.add(lo, hi);
  let sum = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(at(x, i));
    sum += v * v;
  }
  return sum;
}

/** SGD with momentum / Nesterov and L2 decay, gradients scaled by gradScale (torch.optim.SGD) */
export function nnSgdStep(p: usize, g: usize, velocity: usize, n: i32, lr: f32, momentum: f32, nesterov: i32, weightDecay: f32, gradScale: f32): void {
  const vlr = f32x4.splat(lr);
  const vmu = f32x4.splat(momentum);
  const vwd = f32x4.splat(weightDecay);
  const vscale = f32x4.splat(gradScale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = v128.load(at(p, i));
    let grad = f32x4.add(f32x4.mul(v128.load(at(g, i)), vscale), f32x4.mul(vwd, w));
    if (momentum != 0) {
      const v = f32x4.add(f32x4.mul(vmu, v128.load(at(velocity, i))), grad);
      v128.store(at(velocity, i), v);
      grad = nesterov != 0 ? f32x4.add(grad, f32x4.mul(vmu, v)) : v;
    }
    v128.store(at(p, i), f32x4.sub(w, f32x4.mul(vlr, grad)));
  }
  for (; i < n; i++) {
    const w = load<f32>(at(p, i));
    let grad = load<f32>(at(g, i)) * gradScale + weightDecay * w;
    if (momentum != 0) {
      const v = momentum * load<f32>(at(velocity, i)) + grad;
      store<f32>(at(velocity, i), v);
      grad = nesterov != 0 ? grad + momentum * v : v;
    }
    store<f32>(at(p, i), w - lr * grad);
  }
}

/**
 * Adam / AdamW in one pass; c1 = 1 − β₁ᵗ and c2 = 1 − β₂ᵗ are the bias corrections of step t.
 * p ← p − lr·(m/c1) / (√(v/c2) + ε), with decoupled decay p ← p − lr·λ·p first (AdamW) or g ← g + λp (Adam).
 */
export function nnAdamStep(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, decoupled: i32, gradScale: f32, c1: f32, c2: f32): void {
  const vb1 = f32x4.splat(beta1);
  const vb2 = f32x4.splat(beta2);
  const v1b1 = f32x4.splat(1 - beta1);
  const v1b2 = f32x4.splat(1 - beta2);
  const vstep = f32x4.splat(lr / c1);
  const vc2 = f32x4.splat(1 / c2);
  const veps = f32x4.splat(eps);
  const vscale = f32x4.splat(gradScale);
  const vdecay = f32x4.splat(decoupled != 0 ? 1 - lr * weightDecay : 1);
  const vl2 = f32x4.splat(decoupled != 0 ? 0 : weightDecay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = v128.load(at(p, i));
    const grad = f32x4.add(f32x4.mul(v128.load(at(g, i)), vscale), f32x4.mul(vl2, w));
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(at(m, i))), f32x4.mul(v1b1, grad));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(at(v, i))), f32x4.mul(v1b2, f32x4.mul(grad, grad)));
    v128.store(at(m, i), mi);
    v128.store(at(v, i), vi);
    const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vi, vc2)), veps);
    v128.store(at(p, i), f32x4.sub(f32x4.mul(vdecay, w), f32x4.div(f32x4.mul(vstep, mi), denom)));
  }
  const decay: f32 = decoupled != 0 ? 1 - lr * weightDecay : 1;
  const l2: f32 = decoupled != 0 ? 0 : weightDecay;
  for (; i < n; i++) {
    const w = load<f32>(at(p, i));
    const grad = load<f32>(at(g, i)) * gradScale + l2 * w;
    const mi = beta1 * load<f32>(at(m, i)) + (1 - beta1) * grad;
    const vi = beta2 * load<f32>(at(v, i)) + (1 - beta2) * grad * grad;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    store<f32>(at(p, i), decay * w - ((lr / c1) * mi) / (Mathf.sqrt(vi / c2) + eps));
  }
}
