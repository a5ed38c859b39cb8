/**
 * The two per-range edits the Graph WaveNet session (gwn-engine-session.ts) makes around an engine step, over
 * [start, end) ranges of the flat parameter run (the same in every compiled copy of the model):
 * - DropConnect (SynEVO Def. 4.2): every entry of the masked weight matrices is zeroed with probability p and
 *   the rest scaled by 1/(1 − p) for the forward and backward, then the weights are put back and the gradient
 *   taken through the mask, dL/dw = m·dL/dw̃;
 * - frozen tensors: no gradient (so no weight decay and no share of the clipping norm), and their values put
 *   back bit-identical after the optimiser (Adam with a zero gradient still moves a tensor through its moments
 *   and ε).
 */
import type { Rng } from '../core/rng.js';
import type { Model } from '../nn/model.js';

export type FlatRange = readonly [number, number];

const total = (ranges: readonly FlatRange[]): number => ranges.reduce((s, [a, b]) => s + b - a, 0);

export class DropConnectMasks {
  private readonly mask: Float32Array;
  private readonly saved: Float32Array;

  constructor(private readonly ranges: readonly FlatRange[]) {
    this.mask = new Float32Array(total(ranges));
    this.saved = new Float32Array(this.mask.length);
  }

  /** masks the weights in place (drawing the mask from `rng`), keeping the unmasked values */
  apply(model: Model, p: number, rng: Rng): void {
    const data = model.kernels.data;
    const start = model.runs.params;
    let at = 0;
    for (const [a, b] of this.ranges) {
      for (let i = a; i < b; i++, at++) {
        const m = rng.next() < p ? 0 : 1 / (1 - p);
        this.mask[at] = m;
        this.saved[at] = data[start + i]!;
        data[start + i] = data[start + i]! * m;
      }
    }
  }

  /** puts the unmasked weights back and takes the gradient through the mask: dL/dw = m·dL/dw̃ */
  undo(model: Model): void {
    const data = model.kernels.data;
    const { params, grads } = model.runs;
    let at = 0;
    for (const [a, b] of this.ranges) {
      for (let i = a; i < b; i++, at++) {
        data[params + i] = this.saved[at]!;
        data[grads + i] = data[grads + i]! * this.mask[at]!;
      }
    }
  }
}

export class FrozenRanges {
  private readonly values: Float32Array;

  constructor(private readonly ranges: readonly FlatRange[]) {
    this.values = new Float32Array(total(ranges));
  }

  zeroGradients(model: Model): void {
    const { grads } = model.runs;
    for (const [a, b] of this.ranges) model.kernels.data.fill(0, grads + a, grads + b);
  }

  save(model: Model): void {
    let at = 0;
    for (const [a, b] of this.ranges) {
      this.values.set(model.kernels.data.subarray(model.runs.params + a, model.runs.params + b), at);
      at += b - a;
    }
  }

  restore(model: Model): void {
    let at = 0;
    for (const [a, b] of this.ranges) {
      model.kernels.data.set(this.values.subarray(at, at + b - a), model.runs.params + a);
      at += b - a;
    }
  }
}
