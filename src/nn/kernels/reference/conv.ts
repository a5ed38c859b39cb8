/**
 * Reference data-movement and normalisation kernels for the conv and norm layers: im2col / col2im for 1-D
 * convolution (batched: columns of all examples side by side so one GEMM serves the whole batch), the swap of
 * a tensor's first two axes, per-channel bias + activation and sums, batch norm and layer norm.
 * Batch norm: Ioffe & Szegedy, ICML 2015 (arXiv:1502.03167), running statistics as torch.nn.BatchNorm1d
 * (biased variance to normalise, unbiased in the running estimate). Layer norm: Ba et al. 2016 (arXiv:1607.06450).
 */
import type { Activation, ArenaArray, Conv1dGeometry, NormBuffers } from '../kernel-types.js';
import { activate } from './elementwise.js';


/** cols[(c·K + k), b·outLength + t] = x[b, c, t·stride − padding + k·dilation] (0 outside) */
export function im2col1d(d: ArenaArray, x: number, cols: number, g: Conv1dGeometry): void {
  const width = g.batch * g.outLength;
  for (let c = 0; c < g.channels; c++) {
    for (let k = 0; k < g.kernel; k++) {
      const row = cols + (c * g.kernel + k) * width;
      for (let b = 0; b < g.batch; b++) {
        const src = x + (b * g.channels + c) * g.length;
        for (let t = 0; t < g.outLength; t++) {
          const at = t * g.stride - g.padding + k * g.dilation;
          d[row + b * g.outLength + t] = at >= 0 && at < g.length ? d[src + at]! : 0;
        }
      }
    }
  }
}

/** the adjoint of im2col1d: x = 0, then x[b, c, t·stride − padding + k·dilation] += cols[...] */
export function col2im1d(d: ArenaArray, cols: number, x: number, g: Conv1dGeometry): void {
  d.fill(0, x, x + g.batch * g.channels * g.length);
  const width = g.batch * g.outLength;
  for (let c = 0; c < g.channels; c++) {
    for (let k = 0; k < g.kernel; k++) {
      const row = cols + (c * g.kernel + k) * width;
      for (let b = 0; b < g.batch; b++) {
        const dst = x + (b * g.channels + c) * g.length;
        for (let t = 0; t < g.outLength; t++) {
          const at = t * g.stride - g.padding + k * g.dilation;
          if (at >= 0 && at < g.length) d[dst + at] = d[dst + at]! + d[row + b * g.outLength + t]!;
        }
      }
    }
  }
}

/** dst[q, p, r] = src[p, q, r] for a [p, q, r] tensor */
export function swapAxes01(d: ArenaArray, src: number, dst: number, p: number, q: number, r: number): void {
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) d.copyWithin(dst + (j * p + i) * r, src + (i * q + j) * r, src + (i * q + j) * r + r);
}

/** y[o, c, i] = act(y[o, c, i] + bias[c]) over an [outer, channels, inner] tensor; `pre` ≥ 0 keeps the sum */
/** the specification of sparseDiffuse (kernels.ts) */
export function sparseDiffuse(d: ArenaArray, coo: number, nnz: number, x: number, y: number, width: number, transposed: boolean): void {
  for (let e = 0; e < nnz; e++) {
    const v = d[coo + 3 * e]!;
    const w = d[coo + 3 * e + 1]!;
    const a = d[coo + 3 * e + 2]!;
    const from = x + (transposed ? v : w) * width;
    const to = y + (transposed ? w : v) * width;
    for (let i = 0; i < width; i++) d[to + i] = d[to + i]! + a * d[from + i]!;
  }
}

export function channelBiasActivation(d: ArenaArray, y: number, bias: number, outer: number, channels: number, inner: number, act: Activation, pre: number): void {
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const b = bias >= 0 ? d[bias + c]! : 0;
      const start = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const z = d[y + start + i]! + b;
        if (pre >= 0) d[pre + start + i] = z;
        d[y + start + i] = activate(z, act);
      }
    }
  }
}

/** out[c] = Σ_{o, i} x[o, c, i] */
export function channelSums(d: ArenaArray, x: number, outer: number, channels: number, inner: number, out: number): void {
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let o = 0; o < outer; o++) {
      const start = x + (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) sum += d[start + i]!;
    }
    d[out + c] = sum;
  }
}


/**
 * Batch norm over [outer = batch, channels, inner = length]. Training: batch statistics, running estimates
 * updated with `momentum`; inference: running statistics.
 */
export function batchNormForward(
  d: ArenaArray,
  x: number,
  y: number,
  gamma: number,
  beta: number,
  runMean: number,
  runVar: number,
  s: NormBuffers,
  outer: number,
  channels: number,
  inner: number,
  eps: number,
  momentum: number,
  training: boolean,
): void {
  const count = outer * inner;
  for (let c = 0; c < channels; c++) {
    let mean: number;
    let variance: number;
    if (training) {
      let sum = 0;
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) sum += d[x + (o * channels + c) * inner + i]!;
      mean = sum / count;
      let sq = 0;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const e = d[x + (o * channels + c) * inner + i]! - mean;
          sq += e * e;
        }
      }
      variance = sq / count;
      d[runMean + c] = (1 - momentum) * d[runMean + c]! + momentum * mean;
      d[runVar + c] = (1 - momentum) * d[runVar + c]! + momentum * (count > 1 ? (sq / (count - 1)) : variance);
    } else {
      mean = d[runMean + c]!;
      variance = d[runVar + c]!;
    }
    const inv = 1 / Math.sqrt(variance + eps);
    d[s.invStd + c] = inv;
    const g = d[gamma + c]!;
    const b = d[beta + c]!;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * channels + c) * inner + i;
        const xh = (d[x + at]! - mean) * inv;
        d[s.xhat + at] = xh;
        d[y + at] = g * xh + b;
      }
    }
  }
}

/**
 * Batch norm backward. Training mode (batch statistics): dx = γ·inv·(dy − mean(dy) − x̂·mean(dy·x̂));
 * inference mode (fixed statistics): dx = γ·inv·dy. dγ = Σ dy·x̂, dβ = Σ dy (overwritten).
 */
export function batchNormBackward(
  d: ArenaArray,
  dy: number,
  dx: number,
  gamma: number,
  dGamma: number,
  dBeta: number,
  s: NormBuffers,
  outer: number,
  channels: number,
  inner: number,
  training: boolean,
): void {
  const count = outer * inner;
  for (let c = 0; c < channels; c++) {
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * channels + c) * inner + i;
        sumDy += d[dy + at]!;
        sumDyXhat += d[dy + at]! * d[s.xhat + at]!;
      }
    }
    d[dGamma + c] = sumDyXhat;
    d[dBeta + c] = sumDy;
    if (dx < 0) continue;
    const scale = d[gamma + c]! * d[s.invStd + c]!;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * channels + c) * inner + i;
        d[dx + at] = training ? scale * (d[dy + at]! - sumDy / count - (d[s.xhat + at]! * sumDyXhat) / count) : scale * d[dy + at]!;
      }
    }
  }
}

/** Layer norm over the last axis of [rows, features]. */
export function layerNormForward(d: ArenaArray, x: number, y: number, gamma: number, beta: number, s: NormBuffers, rows: number, features: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const row = x + r * features;
    let sum = 0;
    for (let f = 0; f < features; f++) sum += d[row + f]!;
    const mean = sum / features;
    let sq = 0;
    for (let f = 0; f < features; f++) sq += (d[row + f]! - mean) ** 2;
    const inv = 1 / Math.sqrt(sq / features + eps);
    d[s.invStd + r] = inv;
    for (let f = 0; f < features; f++) {
      const xh = (d[row + f]! - mean) * inv;
      d[s.xhat + r * features + f] = xh;
      d[y + r * features + f] = d[gamma + f]! * xh + d[beta + f]!;
    }
  }
}

/** dx = inv·(g − mean(g) − x̂·mean(g·x̂)) with g = γ ⊙ dy; dγ = Σ_rows dy·x̂, dβ = Σ_rows dy (overwritten) */
export function layerNormBackward(d: ArenaArray, dy: number, dx: number, gamma: number, dGamma: number, dBeta: number, s: NormBuffers, rows: number, features: number): void {
  d.fill(0, dGamma, dGamma + features);
  d.fill(0, dBeta, dBeta + features);
  for (let r = 0; r < rows; r++) {
    let meanG = 0;
    let meanGX = 0;
    for (let f = 0; f < features; f++) {
      const at = r * features + f;
      const g = d[gamma + f]! * d[dy + at]!;
      meanG += g;
      meanGX += g * d[s.xhat + at]!;
      d[dGamma + f] = d[dGamma + f]! + d[dy + at]! * d[s.xhat + at]!;
      d[dBeta + f] = d[dBeta + f]! + d[dy + at]!;
    }
    meanG /= features;
    meanGX /= features;
    if (dx < 0) continue;
    const inv = d[s.invStd + r]!;
    for (let f = 0; f < features; f++) {
      const at = r * features + f;
      d[dx + at] = inv * (d[gamma + f]! * d[dy + at]! - meanG - d[s.xhat + at]! * meanGX);
    }
  }
}
