/**
 * NuSLERP — mergekit `nuslerp.py`: slerp of two models (or of their task vectors when a base is given), with
 * the interpolation position taken from the two weights and an optional per-row / per-column split.
 * merge-methods.md §3.3 and §6 P12 (`nuslerp_row_wise` follows mergekit's code, not its docs).
 */
import type { MergeMethod } from '../method.js';
import { booleanParam, checkElementCounts, modelWeights, requireModelCount } from '../method-params.js';

const NAME = 'nuslerp';
const NORM_FLOOR = 1e-7;
const SIN_EPSILON = 1e-8;

export const nuslerp: MergeMethod = {
  name: NAME,
  title: 'NuSLERP (weighted slerp, optionally of task vectors, optionally per row)',
  reference: 'mergekit nuslerp.py',
  baseModel: 'optional',
  models: { min: 2, max: 2 },
  params: [
    {
      name: 'nuslerp_row_wise',
      scope: 'global',
      type: 'boolean',
      default: false,
      description: 'when not flattening: interpolate vectors along dimension 0 (columns of a matrix) instead of rows',
    },
    { name: 'nuslerp_flatten', scope: 'global', type: 'boolean', default: true, description: 'treat the whole tensor as one vector' },
    { name: 'weight', scope: 'model', type: 'number', description: "the model's weight; t = w2/(w1+w2)" },
  ],
  mergeTensor(input) {
    requireModelCount(input, NAME, 2, 2);
    const numel = checkElementCounts(input);
    const [w1, w2] = modelWeights(input, NAME) as [number, number];
    const t = Math.abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
    const flatten = booleanParam(input.params, 'nuslerp_flatten', NAME, input.tensorName);
    const rowWise = booleanParam(input.params, 'nuslerp_row_wise', NAME, input.tensorName);
    const base = input.base;
    const x1 = input.models[0]!;
    const x2 = input.models[1]!;
    const layout = vectorLayout(input.shape, numel, flatten, rowWise);
    const out = new Float32Array(numel);
    for (let v = 0; v < layout.count; v++) {
      const offset = layout.offsetOf(v);
      interpolateVector(x1, x2, base, t, offset, layout.length, layout.stride, out);
    }
    return out;
  },
};

interface VectorLayout {
  readonly count: number;
  readonly length: number;
  readonly stride: number;
  offsetOf(vector: number): number;
}

/** Which elements form each interpolated vector: the whole tensor, rows (last dim) or dimension-0 fibres. */
export function vectorLayout(shape: readonly number[], numel: number, flatten: boolean, rowWise: boolean): VectorLayout {
  if (flatten || shape.length <= 1 || numel === 0) return { count: 1, length: numel, stride: 1, offsetOf: () => 0 };
  if (rowWise) {
    const length = shape[0]!;
    const stride = numel / length;
    return { count: stride, length, stride, offsetOf: (v) => v };
  }
  const length = shape[shape.length - 1]!;
  return { count: numel / length, length, stride: 1, offsetOf: (v) => v * length };
}

/**
 * S(t, v0, v1) of §3.3 over one vector, written into `out` (+ base). The task vectors are formed on the fly
 * in double, where the difference of two float32 values is exact, so no tensor-sized temporaries are needed.
 */
function interpolateVector(
  x1: Float32Array,
  x2: Float32Array,
  base: Float32Array | undefined,
  t: number,
  offset: number,
  length: number,
  stride: number,
  out: Float32Array,
): void {
  let dot01 = 0;
  let sq0 = 0;
  let sq1 = 0;
  for (let k = 0, j = offset; k < length; k++, j += stride) {
    const a = base ? x1[j]! - base[j]! : x1[j]!;
    const b = base ? x2[j]! - base[j]! : x2[j]!;
    dot01 += a * b;
    sq0 += a * a;
    sq1 += b * b;
  }
  const cosine = dot01 / (Math.max(Math.sqrt(sq0), NORM_FLOOR) * Math.max(Math.sqrt(sq1), NORM_FLOOR));
  const theta = Math.acos(Math.min(1, Math.max(-1, cosine)));
  const sinTheta = Math.sin(theta);
  let s0: number;
  let s1: number;
  if (Math.abs(sinTheta) < SIN_EPSILON) {
    s0 = 1 - t;
    s1 = t;
  } else {
    s0 = Math.sin((1 - t) * theta) / sinTheta;
    s1 = Math.sin(t * theta) / sinTheta;
  }
  for (let k = 0, j = offset; k < length; k++, j += stride) {
    if (base) out[j] = base[j]! + s0 * (x1[j]! - base[j]!) + s1 * (x2[j]! - base[j]!);
    else out[j] = s0 * x1[j]! + s1 * x2[j]!;
  }
}
