// Data movement and normalisation kernels of the engine's conv and norm layers (src/nn/layers), the WASM
// versions of src/nn/kernels/reference/conv.ts (the specification; same loop order, float64 statistics).

// @ts-ignore: decorator
@inline
function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

/** cols[(c·K + k), b·outLength + t] = x[b, c, t·stride − padding + k·dilation] (0 outside) */
export function nnIm2col1d(x: usize, cols: usize, batch: i32, channels: i32, length: i32, kernel: i32, stride: i32, padding: i32, dilation: i32, outLength: i32): void {
  const width = batch * outLength;
  for (let c = 0; c < channels; c++) {
    for (let k = 0; k < kernel; k++) {
      const row = at(cols, (c * kernel + k) * width);
      const shift = k * dilation - padding;
      // t range whose source index lies inside [0, length)
      let t0 = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
      let t1 = (length - 1 - shift) >= 0 ? (length - 1 - shift) / stride + 1 : 0;
      if (t0 > outLength) t0 = outLength;
      if (t1 > outLength) t1 = outLength;
      if (t1 < t0) t1 = t0;
      for (let b = 0; b < batch; b++) {
        const src = at(x, (b * channels + c) * length);
        const dst = at(row, b * outLength);
        for (let t = 0; t < t0; t++) store<f32>(at(dst, t), 0);
        if (stride == 1) memory.copy(at(dst, t0), at(src, t0 + shift), <usize>(t1 - t0) << 2);
        else for (let t = t0; t < t1; t++) store<f32>(at(dst, t), load<f32>(at(src, t * stride + shift)));
        for (let t = t1; t < outLength; t++) store<f32>(at(dst, t), 0);
      }
    }
  }
}

/** the adjoint of nnIm2col1d; overwrites x */
export function nnCol2im1d(cols: usize, x: usize, batch: i32, channels: i32, length: i32, kernel: i32, stride: i32, padding: i32, dilation: i32, outLength: i32): void {
  memory.fill(x, 0, <usize>(batch * channels * length) << 2);
  const width = batch * outLength;
  for (let c = 0; c < channels; c++) {
    for (let k = 0; k < kernel; k++) {
      const row = at(cols, (c * kernel + k) * width);
      const shift = k * dilation - padding;
      let t0 = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
      let t1 = (length - 1 - shift) >= 0 ? (length - 1 - shift) / stride + 1 : 0;
      if (t0 > outLength) t0 = outLength;
      if (t1 > outLength) t1 = outLength;
      for (let b = 0; b < batch; b++) {
        const dst = at(x, (b * channels + c) * length);
        const src = at(row, b * outLength);
        for (let t = t0; t < t1; t++) {
          const target = at(dst, t * stride + shift);
          store<f32>(target, load<f32>(target) + load<f32>(at(src, t)));
        }
      }
    }
  }
}

/** dst[q, p, r] = src[p, q, r] */
export function nnSwapAxes01(src: usize, dst: usize, p: i32, q: i32, r: i32): void {
  const bytes = <usize>r << 2;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < q; j++) memory.copy(at(dst, (j * p + i) * r), at(src, (i * q + j) * r), bytes);
  }
}

/**
 * Sparse diffusion over a support in triples (row v, column w, value a) stored as floats, accumulated:
 * transposed: y[w, :] += a·x[v, :] (y = Aᵀ·x); otherwise y[v, :] += a·x[w, :] (y = A·x). Rows are `width` long.
 */
export function nnSparseDiffuse(coo: usize, nnz: i32, x: usize, y: usize, width: i32, transposed: i32): void {
  for (let e = 0; e < nnz; e++) {
    const v = <i32>load<f32>(at(coo, 3 * e));
    const w = <i32>load<f32>(at(coo, 3 * e + 1));
    const a: f32 = load<f32>(at(coo, 3 * e + 2));
    const from = at(x, (transposed != 0 ? v : w) * width);
    const to = at(y, (transposed != 0 ? w : v) * width);
    const va = f32x4.splat(a);
    let i = 0;
    for (; i + 4 <= width; i += 4) v128.store(at(to, i), f32x4.add(v128.load(at(to, i)), f32x4.mul(va, v128.load(at(from, i)))));
    for (; i < width; i++) store<f32>(at(to, i), load<f32>(at(to, i)) + a * load<f32>(at(from, i)));
  }
}

/** y[o, c, i] = act(y[o, c, i] + bias[c]) for identity (0) and relu (1); other activations go through the reference */
export function nnChannelBiasRelu(y: usize, bias: isize, outer: i32, channels: i32, inner: i32, relu: i32): void {
  const zero = f32x4.splat(0);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const b: f32 = bias >= 0 ? load<f32>(at(<usize>bias, c)) : 0;
      const vb = f32x4.splat(b);
      const row = at(y, (o * channels + c) * inner);
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        let z = f32x4.add(v128.load(at(row, i)), vb);
        if (relu != 0) z = f32x4.max(z, zero);
        v128.store(at(row, i), z);
      }
      for (; i < inner; i++) {
        const z = load<f32>(at(row, i)) + b;
        store<f32>(at(row, i), relu != 0 && z < 0 ? 0 : z);
      }
    }
  }
}

/** out[c] = Σ_{o, i} x[o, c, i], accumulated in float64 */
export function nnChannelSums(x: usize, outer: i32, channels: i32, inner: i32, out: usize): void {
  for (let c = 0; c < channels; c++) {
    let sum: f64 = 0;
    for (let o = 0; o < outer; o++) {
      const row = at(x, (o * channels + c) * inner);
      for (let i = 0; i < inner; i++) sum += <f64>load<f32>(at(row, i));
    }
    store<f32>(at(out, c), <f32>sum);
  }
}

/** batch norm forward over [outer, channels, inner]; statistics in float64 (see reference/conv.ts) */
export function nnBatchNormForward(x: usize, y: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize, xhat: usize, invStd: usize, outer: i32, channels: i32, inner: i32, eps: f64, momentum: f64, training: i32): void {
  const count = outer * inner;
  for (let c = 0; c < channels; c++) {
    let mean: f64;
    let variance: f64;
    if (training != 0) {
      let sum: f64 = 0;
      for (let o = 0; o < outer; o++) {
        const row = at(x, (o * channels + c) * inner);
        for (let i = 0; i < inner; i++) sum += <f64>load<f32>(at(row, i));
      }
      mean = sum / <f64>count;
      let sq: f64 = 0;
      for (let o = 0; o < outer; o++) {
        const row = at(x, (o * channels + c) * inner);
        for (let i = 0; i < inner; i++) {
          const e = <f64>load<f32>(at(row, i)) - mean;
          sq += e * e;
        }
      }
      variance = sq / <f64>count;
      const unbiased = count > 1 ? sq / <f64>(count - 1) : variance;
      store<f32>(at(runMean, c), <f32>((1 - momentum) * <f64>load<f32>(at(runMean, c)) + momentum * mean));
      store<f32>(at(runVar, c), <f32>((1 - momentum) * <f64>load<f32>(at(runVar, c)) + momentum * unbiased));
    } else {
      mean = <f64>load<f32>(at(runMean, c));
      variance = <f64>load<f32>(at(runVar, c));
    }
    // per-element arithmetic in float64 too: x − mean cancels badly in float32 on nearly constant channels
    const inv = 1 / Math.sqrt(variance + eps);
    store<f32>(at(invStd, c), <f32>inv);
    const g = <f64>load<f32>(at(gamma, c));
    const b = <f64>load<f32>(at(beta, c));
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const xh = (<f64>load<f32>(at(x, base + i)) - mean) * inv;
        store<f32>(at(xhat, base + i), <f32>xh);
        store<f32>(at(y, base + i), <f32>(g * xh + b));
      }
    }
  }
}

/** batch norm backward; dx = -1 computes the parameter gradients only */
export function nnBatchNormBackward(dy: usize, dx: isize, gamma: usize, dGamma: usize, dBeta: usize, xhat: usize, invStd: usize, outer: i32, channels: i32, inner: i32, training: i32): void {
  const count = <f64>(outer * inner);
  for (let c = 0; c < channels; c++) {
    let sumDy: f64 = 0;
    let sumDyXhat: f64 = 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const g = <f64>load<f32>(at(dy, base + i));
        sumDy += g;
        sumDyXhat += g * <f64>load<f32>(at(xhat, base + i));
      }
    }
    store<f32>(at(dGamma, c), <f32>sumDyXhat);
    store<f32>(at(dBeta, c), <f32>sumDy);
    if (dx < 0) continue;
    const scale = <f64>load<f32>(at(gamma, c)) * <f64>load<f32>(at(invStd, c));
    const meanDy = sumDy / count;
    const meanDyXhat = sumDyXhat / count;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const g = <f64>load<f32>(at(dy, base + i));
        store<f32>(at(<usize>dx, base + i), <f32>(training != 0 ? scale * (g - meanDy - <f64>load<f32>(at(xhat, base + i)) * meanDyXhat) : scale * g));
      }
    }
  }
}
