/**
 * Representation matrices for gradient-projection memory (GPM, Saha et al. ICLR 2021; fs-dgpm.md §1.1).
 * A layer's representation is the matrix of its **inputs**, one column per input vector:
 *
 * - dense layer with input width d, n samples → d × n;
 * - convolution with a k×k kernel over C_in channels (input NHWC), n samples → (k·k·C_in) × (n·H_out·W_out):
 *   each column is one input patch. Row order inside a patch is (ky, kx, c), i.e. row (ky·k + kx)·C_in + c,
 *   which is tfjs's filter layout [k, k, C_in, C_out] flattened to [k·k·C_in, C_out], so the convolution is
 *   `output[:, col] = Wᵀ · R[:, col]` with W that flattened filter. Column order is sample-major:
 *   col = (b·H_out + oy)·W_out + ox. Padding pads with zeros.
 *
 * Values are copied to float64 (ml-matrix) because the SVD that follows is done in double precision.
 */
import { Matrix } from 'ml-matrix';
import { ModelevoError } from '../core/errors.js';

/** `rows` is n × d row-major (one input vector per row) → d × n. */
export function denseRepresentation(rows: ArrayLike<number>, n: number, d: number): Matrix {
  if (rows.length !== n * d) {
    throw new ModelevoError('VALUE_INVALID', `denseRepresentation: expected ${n}×${d} = ${n * d} values, got ${rows.length}`, {
      hint: 'pass the layer inputs as n rows of the layer input width',
    });
  }
  const R = new Matrix(d, n);
  for (let s = 0; s < n; s++) for (let f = 0; f < d; f++) R.set(f, s, rows[s * d + f]!);
  return R;
}

export interface ConvGeometry {
  batch: number;
  height: number;
  width: number;
  channels: number;
  kernel: number;
  stride?: number;
  /** zero padding on every side */
  padding?: number;
}

export function convOutputSize(g: ConvGeometry): { height: number; width: number } {
  const stride = g.stride ?? 1;
  const padding = g.padding ?? 0;
  return {
    height: Math.floor((g.height + 2 * padding - g.kernel) / stride) + 1,
    width: Math.floor((g.width + 2 * padding - g.kernel) / stride) + 1,
  };
}

/** `input` is NHWC; returns (k·k·C_in) × (batch·H_out·W_out) as documented above. */
export function convRepresentation(input: ArrayLike<number>, g: ConvGeometry): Matrix {
  const { batch, height, width, channels, kernel } = g;
  const stride = g.stride ?? 1;
  const padding = g.padding ?? 0;
  if (input.length !== batch * height * width * channels) {
    throw new ModelevoError(
      'VALUE_INVALID',
      `convRepresentation: expected NHWC input of ${batch}×${height}×${width}×${channels} = ${batch * height * width * channels} values, got ${input.length}`,
      { hint: 'the geometry must describe the layer input exactly' },
    );
  }
  const out = convOutputSize(g);
  if (out.height < 1 || out.width < 1) {
    throw new ModelevoError('VALUE_INVALID', `convRepresentation: kernel ${kernel} does not fit a ${height}×${width} input with padding ${padding}`);
  }
  const R = new Matrix(kernel * kernel * channels, batch * out.height * out.width);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < out.height; oy++) {
      for (let ox = 0; ox < out.width; ox++) {
        const col = (b * out.height + oy) * out.width + ox;
        for (let ky = 0; ky < kernel; ky++) {
          const y = oy * stride + ky - padding;
          if (y < 0 || y >= height) continue;
          for (let kx = 0; kx < kernel; kx++) {
            const x = ox * stride + kx - padding;
            if (x < 0 || x >= width) continue;
            const src = ((b * height + y) * width + x) * channels;
            const row = (ky * kernel + kx) * channels;
            for (let c = 0; c < channels; c++) R.set(row + c, col, input[src + c]!);
          }
        }
      }
    }
  }
  return R;
}
