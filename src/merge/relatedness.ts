/**
 * Unrelated-model check (issue #21 item 5): before merging, each non-base model is compared with the base on
 * a sample of tensors. A fine-tune stays close to its base; a model trained from another initialisation does
 * not, and merging it averages unrelated weights into noise.
 *
 * Two statistics over the sample of the weight matrices, pooled over tensors:
 * - relative distance ‖W − W_base‖ / ‖W_base‖. Fine-tunes move their weights by a fraction of their size
 *   (0.20–0.24 for the fixture's full fine-tunes). Two independent initialisations of one scale are about
 *   √2 ≈ 1.4 apart (the fixture's `stranger`: 1.25).
 * - sign agreement: the share of elements whose sign equals the base's (the fixture's fine-tunes 0.935–0.948;
 *   independent weights 0.5, the stranger 0.50).
 * A model is reported when its distance exceeds UNRELATED_DISTANCE (0.8) or its sign agreement falls below
 * UNRELATED_SIGN_AGREEMENT (0.75): both sit far from either group, so heavy fine-tunes do not trip it and a
 * model from another initialisation cannot pass it.
 */
import { ModelevoError } from '../core/errors.js';
import { f16BitsToF32 } from '../core/float16.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { MergePlan, PlanModels, PlannedInput } from './plan.js';

export const UNRELATED_DISTANCE = 0.8;
export const UNRELATED_SIGN_AGREEMENT = 0.75;
/**
 * tensors sampled (evenly over the plan), elements per tensor, and the runs of contiguous elements they form:
 * ~260k elements per model, so the sign agreement's standard error is ~0.001 against thresholds 0.2 from either
 * group. It runs on the calling thread before the merge starts (65,536 elements in 64 runs per tensor took
 * 0.19–0.27 s of a 4.7 s ties merge of a 1.1B-parameter family; issue #16).
 */
const SAMPLE_TENSORS = 16;
const SAMPLE_ELEMENTS = 1 << 14;
const SAMPLE_RUNS = 16;

export interface Relatedness {
  readonly modelRef: string;
  readonly relativeDistance: number;
  readonly signAgreement: number;
  readonly unrelated: boolean;
}

function sameShape(a: PlannedInput, b: PlannedInput): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** Relatedness of every non-base input to the base, or [] when the plan has no base model. */
export function measureRelatedness(plan: MergePlan, models: PlanModels): Relatedness[] {
  // matrices only: norm weights start as ones in every initialisation, so they tell nothing about kinship
  const candidates = plan.tensors.filter((t) => t.base !== undefined && !t.copyOnly && t.base.shape.length >= 2);
  if (candidates.length === 0) return [];
  const step = Math.max(1, Math.floor(candidates.length / SAMPLE_TENSORS));
  const sums = new Map<string, { ref: string; diff: number; base: number; agree: number; count: number }>();
  for (let i = 0; i < candidates.length; i += step) {
    const tensor = candidates[i]!;
    const base = tensor.base!;
    const numel = base.shape.reduce((a, b) => a * b, 1);
    const baseValues = sampleValues(models.get(base.modelKey), base, numel);
    for (const input of tensor.models) {
      if (input.modelKey === base.modelKey || !sameShape(input, base)) continue;
      const values = sampleValues(models.get(input.modelKey), input, numel);
      const sum = sums.get(input.modelKey) ?? { ref: input.modelRef, diff: 0, base: 0, agree: 0, count: 0 };
      const { diff, baseSquares, agree } = compareSample(baseValues, values);
      sum.diff += diff;
      sum.base += baseSquares;
      sum.agree += agree;
      sum.count += baseValues.length;
      sums.set(input.modelKey, sum);
    }
  }
  return [...sums.values()].map((s) => {
    const relativeDistance = s.base > 0 ? Math.sqrt(s.diff / s.base) : 0;
    const signAgreement = s.count > 0 ? s.agree / s.count : 1;
    return {
      modelRef: s.ref,
      relativeDistance,
      signAgreement,
      unrelated: relativeDistance > UNRELATED_DISTANCE || signAgreement < UNRELATED_SIGN_AGREEMENT,
    };
  });
}

/** Σ(v − b)², Σb² and the count of equal signs over one tensor's sample. */
function compareSample(baseValues: Float32Array, values: Float32Array): { diff: number; baseSquares: number; agree: number } {
  let diff = 0;
  let baseSquares = 0;
  let agree = 0;
  for (let s = 0; s < baseValues.length; s++) {
    const b = baseValues[s]!;
    const v = values[s]!;
    const d = v - b;
    diff += d * d;
    baseSquares += b * b;
    if (Math.sign(v) === Math.sign(b)) agree++;
  }
  return { diff, baseSquares, agree };
}

// raw little-endian elements → float32 values (`out` from element `at`); bfloat16 by moving the bits up a half word
const DECODE: Partial<Record<string, (raw: Uint8Array, count: number, out: Float32Array, at: number) => void>> = {
  BF16: (raw, count, out, at) => {
    const halves = new Uint16Array(raw.buffer, raw.byteOffset, count);
    const bits = new Uint32Array(out.buffer, out.byteOffset + at * 4, count);
    for (let j = 0; j < count; j++) bits[j] = halves[j]! << 16;
  },
  F16: (raw, count, out, at) => {
    const halves = new Uint16Array(raw.buffer, raw.byteOffset, count);
    for (let j = 0; j < count; j++) out[at + j] = f16BitsToF32(halves[j]!);
  },
  F32: (raw, count, out, at) => out.set(new Float32Array(raw.buffer, raw.byteOffset, count), at),
};

/**
 * SAMPLE_RUNS evenly spaced runs of contiguous elements (the whole tensor when it holds at most SAMPLE_ELEMENTS):
 * each run is one small positional read, so the check reads ~SAMPLE_ELEMENTS elements per tensor, not the whole
 * tensor as the evenly strided sample did (on a 2-layer Llama family that re-read every input once, a second
 * full read of the merge's 1.75 GB on the main thread; issue #16).
 */
export function sampleRuns(numel: number): (readonly [number, number])[] {
  if (numel <= SAMPLE_ELEMENTS) return [[0, numel]];
  const run = SAMPLE_ELEMENTS / SAMPLE_RUNS;
  return Array.from({ length: SAMPLE_RUNS }, (_, r) => [Math.floor((r * (numel - run)) / (SAMPLE_RUNS - 1)), run] as const);
}

/** The sampleRuns elements of a tensor as float32, in order. */
function sampleValues(checkpoint: Checkpoint, input: PlannedInput, numel: number): Float32Array {
  const runs = sampleRuns(numel);
  const out = new Float32Array(runs.reduce((total, [, length]) => total + length, 0));
  const readRange = (checkpoint as Partial<{ readRangeInto(name: string, byteOffset: number, target: Uint8Array): void }>).readRangeInto;
  const decode = DECODE[input.dtype];
  if (typeof readRange !== 'function' || decode === undefined) {
    const values = checkpoint.readFloat32(input.tensorName);
    let s = 0;
    for (const [start, length] of runs) out.set(values.subarray(start, start + length), (s += length) - length);
    return out;
  }
  const width = input.dtype === 'F32' ? 4 : 2;
  // a fresh buffer, so the views DECODE takes of it are aligned (the host is little-endian, as safetensors is)
  const buffer = new Uint8Array(Math.max(...runs.map(([, length]) => length)) * width);
  let s = 0;
  for (const [start, length] of runs) {
    readRange.call(checkpoint, input.tensorName, start * width, buffer.subarray(0, length * width));
    decode(buffer, length, out, s);
    s += length;
  }
  return out;
}

export function unrelatedMessage(r: Relatedness, baseRef: string): string {
  return (
    `model '${r.modelRef}' does not look like a fine-tune of the base '${baseRef}': relative distance ` +
    `${r.relativeDistance.toFixed(2)} (fine-tunes stay below ${UNRELATED_DISTANCE}), sign agreement ` +
    `${r.signAgreement.toFixed(2)} (fine-tunes above ${UNRELATED_SIGN_AGREEMENT}); merging it averages unrelated weights`
  );
}

/** Warns (or, with `strict`, throws MODELS_UNRELATED) for every unrelated model. */
export function checkRelatedness(plan: MergePlan, models: PlanModels, strict: boolean, warn: (message: string) => void): Relatedness[] {
  const measured = measureRelatedness(plan, models);
  const baseRef = plan.tensors.find((t) => t.base !== undefined)?.base?.modelRef ?? 'base';
  const unrelated = measured.filter((r) => r.unrelated);
  if (strict && unrelated.length > 0) {
    throw new ModelevoError('MODELS_UNRELATED', unrelatedMessage(unrelated[0]!, baseRef), {
      hint: 'check base_model and the model list; drop --strict to merge anyway',
      details: { models: unrelated },
    });
  }
  for (const r of unrelated) warn(unrelatedMessage(r, baseRef));
  return measured;
}
