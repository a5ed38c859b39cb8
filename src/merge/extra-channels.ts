/**
 * AnyFit's extra-channel rule (Li et al., "AnyFit", NeurIPS 2024, arXiv 2405.18172, §3.3 and Appendix C.1;
 * evolutionary-merging.md §3 "Extra-channel rule"), offered as "task_arithmetic with the channel rule"
 * (global parameter `extra_channels: anyfit`, default `off`).
 *
 * When a parent's tensor has more input channels than the base (the SDXL inpainting U-Net's `conv_in` takes
 * 9 channels, the base 4) and every other dimension agrees, the output takes the wider shape. The base and any
 * narrower parent are zero-padded along that axis before task arithmetic runs, so on the shared channels the
 * merge is the ordinary `B + λ·Σ w_i (X_i − B)`, and on the extra channels the base contributes zero and each
 * wide parent contributes `λ·w_i·X_i` (narrow parents contribute `0 − 0`).
 *
 * The input-channel axis is dimension 1: the last dimension of an `[out, in]` weight, the second of a
 * convolution's `[out, in, kh, kw]`. The output-channel axis (dimension 0) never widens.
 */
import { numelOf } from '../core/dtype.js';
import { ShapeMismatchError, invariant } from '../core/errors.js';
import type { ParamSpec } from './method.js';

export const EXTRA_CHANNELS_PARAM = 'extra_channels';
export const EXTRA_CHANNELS_VALUES = ['off', 'anyfit'] as const;

export const EXTRA_CHANNELS_SPEC: ParamSpec = {
  name: EXTRA_CHANNELS_PARAM,
  scope: 'global',
  type: 'enum',
  values: EXTRA_CHANNELS_VALUES,
  default: 'off',
  description:
    'anyfit: a parent with more input channels (dimension 1) than the base keeps them, scaled by its weight; the base counts as zero there (AnyFit). off: different shapes are an error',
};

/** The shape-bearing facts the rule needs about one input. */
export interface ChannelInput {
  readonly modelRef: string;
  readonly shape: readonly number[];
}

/** The one axis on which `a` and `b` differ, undefined when they are equal, -1 when they differ otherwise. */
function differingAxis(a: readonly number[], b: readonly number[]): number | undefined {
  if (a.length !== b.length) return -1;
  let axis: number | undefined;
  for (let d = 0; d < a.length; d++) {
    if (a[d] === b[d]) continue;
    if (axis !== undefined) return -1;
    axis = d;
  }
  return axis;
}

/**
 * The output shape under the rule: the base's shape widened to the largest input-channel count. Throws a
 * ShapeMismatchError naming every shape when the inputs differ in any other way, or a parent is narrower
 * than the base.
 */
export function extraChannelShape(tensorName: string, base: ChannelInput | undefined, models: readonly ChannelInput[]): number[] {
  const all = base ? [base, ...models] : [...models];
  const shapes = Object.fromEntries(all.map((input) => [input.modelRef, input.shape]));
  const refuse = (why: string): never => {
    throw new ShapeMismatchError(tensorName, shapes, {
      hint: `extra_channels: anyfit only widens the input-channel dimension (dimension 1) of a parent beyond the base's; ${why}`,
    });
  };
  if (base === undefined) return refuse('this merge has no base model');
  const reference = base.shape;
  if (reference.length < 2) return refuse(`the base tensor is ${reference.length}-D, so it has no input-channel dimension`);
  let width = reference[1]!;
  for (const model of models) {
    const axis = differingAxis(reference, model.shape);
    if (axis === undefined) continue;
    if (axis !== 1) return refuse(`'${model.modelRef}' differs from the base in another dimension`);
    if (model.shape[1]! < reference[1]!) return refuse(`'${model.modelRef}' has fewer input channels than the base`);
    width = Math.max(width, model.shape[1]!);
  }
  const out = [...reference];
  out[1] = width;
  return out;
}

/**
 * Copies `values` (row-major, `shape`) into a zero tensor of `target`, which is at least as large in every
 * dimension: the extra positions read as zero.
 */
export function zeroPadTo(values: Float32Array, shape: readonly number[], target: readonly number[]): Float32Array {
  invariant(
    shape.length === target.length && shape.every((d, i) => d <= target[i]!),
    () => `cannot pad [${shape.join(', ')}] to [${target.join(', ')}]`,
  );
  const out = new Float32Array(numelOf(target));
  const rank = shape.length;
  if (rank === 0) {
    out.set(values);
    return out;
  }
  // copy contiguous runs of the innermost source dimension; the outer index walks the remaining dimensions
  const run = shape[rank - 1]!;
  const runs = run === 0 ? 0 : values.length / run;
  const index = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < runs; r++) {
    let offset = 0;
    for (let d = 0; d < rank - 1; d++) offset = offset * target[d]! + index[d]!;
    out.set(values.subarray(r * run, (r + 1) * run), offset * target[rank - 1]!);
    for (let d = rank - 2; d >= 0; d--) {
      const next = index[d]! + 1;
      index[d] = next;
      if (next < shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}
