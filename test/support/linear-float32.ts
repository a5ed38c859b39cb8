/**
 * The float32 linear contract (src/merge/fast-path.ts) as one assertion for tests: the fast path's bytes equal
 * `weightedSumFloat32` of the decoded inputs encoded to the output dtype, bit for bit, and lie within
 * `float32SumErrorBound` plus one unit in the last place of the output dtype of the reference path's bytes
 * (float64 sums). Every failure names the tensor and element.
 */
import assert from 'node:assert/strict';
import { bytesToFloat32, float32ToBytes } from '../../src/io/convert.js';
import { float32SumErrorBound, weightedSumFloat32 } from '../../src/kernels/reference/vector.js';

export type LinearOutDType = 'BF16' | 'F32';

/** Spacing of `dtype` values at |x| (normal range; the subnormal spacing below it). */
function unitInLastPlace(x: number, dtype: LinearOutDType): number {
  const mantissaBits = dtype === 'BF16' ? 7 : 23;
  const exponent = Math.max(-126, Math.floor(Math.log2(Math.abs(x) || 2 ** -126)));
  return 2 ** (exponent - mantissaBits);
}

export function assertLinearFloat32(options: {
  readonly tensor: string;
  /** decoded inputs (bf16 or f32 values) in config order */
  readonly inputs: readonly Float32Array[];
  /** the weights the merge multiplies by (w_i, or w_i / Σw with normalize) */
  readonly weights: readonly number[];
  readonly dtype: LinearOutDType;
  readonly fast: Uint8Array;
  readonly reference: Uint8Array;
}): { readonly differing: number } {
  const { tensor, inputs, weights, dtype } = options;
  const n = inputs[0]!.length;
  const expected = float32ToBytes(weightedSumFloat32(inputs, weights, n), dtype);
  assert.ok(Buffer.from(options.fast).equals(Buffer.from(expected)), `${tensor}: not the float32 weighted sum bit for bit`);
  const fast = bytesToFloat32(options.fast, dtype);
  const reference = bytesToFloat32(options.reference, dtype);
  let differing = 0;
  for (let i = 0; i < n; i++) {
    let absTerms = 0;
    weights.forEach((w, j) => (absTerms += Math.abs(w * inputs[j]![i]!)));
    const gap = Math.abs(fast[i]! - reference[i]!);
    const allowed = float32SumErrorBound(absTerms, weights.length) + unitInLastPlace(Math.max(Math.abs(fast[i]!), Math.abs(reference[i]!)), dtype);
    assert.ok(gap <= allowed, `${tensor} element ${i}: float32 ${fast[i]} vs float64 reference ${reference[i]}, gap ${gap} > ${allowed}`);
    if (gap !== 0) differing++;
  }
  return { differing };
}
