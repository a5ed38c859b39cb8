/**
 * Reference elementwise kernels, reductions, losses and optimiser updates: the specification of the engine's
 * non-GEMM kernels. Formulas: GELU in its tanh form (Hendrycks & Gimpel 2016, arXiv:1606.08415; PyTorch
 * `approximate='tanh'`); Adam (Kingma & Ba 2015, arXiv:1412.6980, Alg. 1); AdamW (Loshchilov & Hutter 2019,
 * arXiv:1711.05101, Alg. 2); SGD momentum and Nesterov as in PyTorch's torch.optim.SGD.
 */
import type { Activation, AdamHyper, ArenaArray, SgdHyper } from '../kernel-types.js';

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

export function activate(x: number, act: Activation): number {
  switch (act) {
    case 'identity':
      return x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'gelu':
      return 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_A * x * x * x)));
  }
}

/** act′ from the pre-activation x (GELU) or the output y (the others, which are cheaper from y) */
export function activationDerivative(x: number, y: number, act: Activation): number {
  switch (act) {
    case 'identity':
      return 1;
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'sigmoid':
      return y * (1 - y);
    case 'tanh':
      return 1 - y * y;
    case 'gelu': {
      const t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x);
    }
  }
}

export function biasActivation(d: ArenaArray, y: number, bias: number, rows: number, cols: number, act: Activation, pre: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const at = r * cols + c;
      const z = d[y + at]! + (bias >= 0 ? d[bias + c]! : 0);
      if (pre >= 0) d[pre + at] = z;
      d[y + at] = activate(z, act);
    }
  }
}

export function activation(d: ArenaArray, x: number, y: number, n: number, act: Activation): void {
  for (let i = 0; i < n; i++) d[y + i] = activate(d[x + i]!, act);
}

export function activationBackward(d: ArenaArray, dy: number, x: number, y: number, dx: number, n: number, act: Activation): void {
  for (let i = 0; i < n; i++) d[dx + i] = d[dy + i]! * activationDerivative(x >= 0 ? d[x + i]! : 0, y >= 0 ? d[y + i]! : 0, act);
}

export function columnSums(d: ArenaArray, x: number, rows: number, cols: number, out: number): void {
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += d[x + r * cols + c]!;
    d[out + c] = sum;
  }
}

export function multiply(d: ArenaArray, x: number, m: number, y: number, n: number): void {
  for (let i = 0; i < n; i++) d[y + i] = d[x + i]! * d[m + i]!;
}

/** A counter-based hash (a murmur3 finaliser over seed, counter and index): masks need no generator state. */
export function uniformAt(seed: number, counter: number, index: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(counter + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(index, 0x27d4eb2f)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 4294967296;
}

export function dropoutMask(d: ArenaArray, mask: number, n: number, keep: number, seed: number, counter: number): void {
  const scale = 1 / keep;
  for (let i = 0; i < n; i++) d[mask + i] = uniformAt(seed, counter, i) < keep ? scale : 0;
}

export function sumSquares(d: ArenaArray, x: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += d[x + i]! * d[x + i]!;
  return sum;
}

export function softmaxCrossEntropy(d: ArenaArray, logits: number, labels: number, rows: number, cols: number, dLogits: number): number {
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const row = logits + r * cols;
    const label = d[labels + r]!;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, d[row + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(d[row + c]! - max);
    loss += Math.log(sum) + max - d[row + label]!;
    for (let c = 0; c < cols; c++) d[dLogits + r * cols + c] = (Math.exp(d[row + c]! - max) / sum - (c === label ? 1 : 0)) / rows;
  }
  return loss / rows;
}

export function meanSquaredError(d: ArenaArray, pred: number, target: number, n: number, dPred: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = d[pred + i]! - d[target + i]!;
    sum += e * e;
    d[dPred + i] = (2 * e) / n;
  }
  return sum / n;
}

export function maskedMeanAbsoluteError(d: ArenaArray, pred: number, target: number, n: number, nullValue: number, dPred: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (d[target + i] !== nullValue) count++;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = d[pred + i]! - d[target + i]!;
    const kept = d[target + i] !== nullValue && count > 0;
    sum += kept ? Math.abs(e) : 0;
    d[dPred + i] = kept ? Math.sign(e) / count : 0;
  }
  return count > 0 ? sum / count : 0;
}

export function sgdStep(d: ArenaArray, p: number, g: number, velocity: number, n: number, h: SgdHyper): void {
  for (let i = 0; i < n; i++) {
    let grad = d[g + i]! * h.gradScale + h.weightDecay * d[p + i]!;
    if (h.momentum !== 0) {
      const v = h.momentum * d[velocity + i]! + grad;
      d[velocity + i] = v;
      grad = h.nesterov ? grad + h.momentum * v : v;
    }
    d[p + i] = d[p + i]! - h.lr * grad;
  }
}

export function adamStep(d: ArenaArray, p: number, g: number, m: number, v: number, n: number, h: AdamHyper): void {
  const c1 = 1 - h.beta1 ** h.step;
  const c2 = 1 - h.beta2 ** h.step;
  for (let i = 0; i < n; i++) {
    let w = d[p + i]!;
    let grad = d[g + i]! * h.gradScale;
    if (h.decoupled) w -= h.lr * h.weightDecay * w;
    else grad += h.weightDecay * w;
    const mi = h.beta1 * d[m + i]! + (1 - h.beta1) * grad;
    const vi = h.beta2 * d[v + i]! + (1 - h.beta2) * grad * grad;
    d[m + i] = mi;
    d[v + i] = vi;
    d[p + i] = w - (h.lr * (mi / c1)) / (Math.sqrt(vi / c2) + h.eps);
  }
}

export function rowSoftmax(d: ArenaArray, x: number, y: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, d[x + r * cols + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(d[x + r * cols + c]! - max);
    for (let c = 0; c < cols; c++) d[y + r * cols + c] = Math.exp(d[x + r * cols + c]! - max) / sum;
  }
}

export function rowSoftmaxBackward(d: ArenaArray, y: number, dy: number, dx: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += d[dy + r * cols + c]! * d[y + r * cols + c]!;
    for (let c = 0; c < cols; c++) d[dx + r * cols + c] = d[y + r * cols + c]! * (d[dy + r * cols + c]! - dot);
  }
}
