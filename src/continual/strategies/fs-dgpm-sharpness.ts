/**
 * FS-DGPM's sharpness step as derivatives written out (the objective and its derivation are at the top of
 * fs-dgpm.ts). Speed (issue #13): the step runs thousands of times per task, so every flat run it needs
 * lives in a `SharpnessScratch` made once per strategy, gradients are read from the engine's live views where
 * they are consumed before the next engine call, and the coordinates of the final weight gradient, A₀·M, which
 * the λ gradient computes anyway, are handed to the weight projection so it runs one GEMM instead of two.
 * The arithmetic is the one of the first version, operation for operation: the floats are the same
 * (fs-dgpm-golden.test.ts pins them).
 */
import type { ContinualConfig } from '../config.js';
import type { ContinualMlp } from '../mlp.js';
import type { ProjectionWorkspace } from '../projection.js';
import type { TrainBatch } from '../strategy.js';

/** layer l's part of a flat run */
export const layerOf = (net: ContinualMlp, flat: Float32Array, l: number): Float32Array => flat.subarray(net.layerOffsets[l]!, net.layerOffsets[l]! + net.layerSize(l));

export function sliceBatch(batch: TrainBatch, start: number, end: number): TrainBatch {
  const dim = batch.x.length / batch.n;
  const classes = batch.mask.length / batch.n;
  return {
    x: batch.x.subarray(start * dim, end * dim),
    y: batch.y.subarray(start, end),
    mask: batch.mask.subarray(start * classes, end * classes),
    n: end - start,
    taskId: batch.taskId,
  };
}

/** The flat runs and per-chunk buffers of the sharpness step for one net, reused from step to step. */
export class SharpnessScratch {
  /** the weights w, w + v, the perturbation v, its last component g·M·Λ·Mᵀ, the suffix sums and a masked copy */
  readonly weights: Float32Array;
  readonly perturbed: Float32Array;
  readonly perturbation: Float32Array;
  readonly component: Float32Array;
  readonly suffix: Float32Array;
  readonly masked: Float32Array;
  private readonly net: ContinualMlp;
  /** per chunk: the all-tasks gradient G_c; per chunk and layer: g_c·M and the clip's pass mask */
  private readonly allGradients: Float32Array[] = [];
  private readonly innerCoordinates: Float32Array[][] = [];
  private readonly passMasks: Uint8Array[][] = [];
  /** per layer: A₀·M kept for the weight projection */
  private readonly finalCoordinates: Float32Array[];

  constructor(net: ContinualMlp) {
    this.net = net;
    const run = (): Float32Array => new Float32Array(net.paramCount);
    [this.weights, this.perturbed, this.perturbation, this.component, this.suffix, this.masked] = [run(), run(), run(), run(), run(), run()];
    this.finalCoordinates = Array.from({ length: net.layers }, (_, l) => new Float32Array(net.layerSize(l)));
  }

  /** G_c's buffer */
  gradient(chunk: number): Float32Array {
    while (this.allGradients.length <= chunk) this.allGradients.push(new Float32Array(this.net.paramCount));
    return this.allGradients[chunk]!;
  }

  private perLayer<T>(store: T[][], chunk: number, make: (l: number) => T): T[] {
    while (store.length <= chunk) store.push(Array.from({ length: this.net.layers }, (_, l) => make(l)));
    return store[chunk]!;
  }

  /** room for g_c·M of layer l (out × r ≤ out × in) */
  coordinates(chunk: number, l: number): Float32Array {
    return this.perLayer(this.innerCoordinates, chunk, (layer) => new Float32Array(this.net.layerSize(layer)))[l]!;
  }

  /** the clip's pass mask of chunk c, layer l (1 where the entry was inside the bounds) */
  pass(chunk: number, l: number): Uint8Array {
    return this.perLayer(this.passMasks, chunk, (layer) => new Uint8Array(this.net.layerSize(layer)))[l]!;
  }

  /** room for A₀·M of layer l */
  finalCoordinatesOf(l: number): Float32Array {
    return this.finalCoordinates[l]!;
  }
}

/**
 * v ← v + clip(η₁·component, ±clip) and w + v into `perturbed`, over one layer; records the pass mask (bounds
 * inclusive) and returns how many entries the clip changed.
 */
function perturbLayer(component: Float32Array, v: Float32Array, w: Float32Array, perturbed: Float32Array, pass: Uint8Array, eta1: number, clip: number): number {
  let clipped = 0;
  for (let i = 0; i < component.length; i++) {
    const raw = eta1 * component[i]!;
    // clip(raw), the value Math.max(−clip, Math.min(clip, raw)) gives (NaN stays NaN), without the calls when unclipped
    let step = raw;
    if (raw >= -clip && raw <= clip) pass[i] = 1;
    else {
      pass[i] = 0;
      clipped++;
      step = raw < -clip ? -clip : raw > clip ? clip : raw;
    }
    const next = Math.fround(v[i]! + step);
    v[i] = next;
    perturbed[i] = w[i]! + next;
  }
  return clipped;
}

/** suffix ← suffix + G / chunks (float64 arithmetic, one rounding to float32 per entry) */
function addScaled(suffix: Float32Array, G: Float32Array, chunks: number): void {
  for (let i = 0; i < G.length; i++) suffix[i] = suffix[i]! + G[i]! / chunks;
}

/** gradient[k] += η₁·Σ_row coords[row, k]·back[row, k], rows of `rank` values, accumulated in float64 */
function accumulateLambda(gradient: Float64Array, coords: Float32Array, back: ArrayLike<number>, rank: number, eta1: number): void {
  for (let row = 0; row < back.length; row += rank) for (let k = 0; k < rank; k++) gradient[k] = gradient[k]! + eta1 * coords[row + k]! * back[row + k]!;
}

export interface SharpnessGradients {
  /** the mean all-tasks loss over the chunks */
  loss: number;
  /** ∂/∂w as a flat run, before projection (a view of the scratch: valid until the next step) */
  weights: Float32Array;
  /** ∂/∂λ per layer (null where the layer has no basis) */
  lambdas: (Float64Array | null)[];
  /** per layer, `weights`' coordinates g·M when the step computed them (null: project from scratch) */
  weightCoordinates: (Float32Array | null)[];
}

/**
 * The derivatives of FS-DGPM's sharpness objective mean_c L_all(w + v_c) at the current weights (see the top
 * of fs-dgpm.ts). `ws` holds each layer's basis; `lambdas` its current λ. `scratch` (made for this net) saves
 * the allocations when given.
 */
export function sharpnessGradients(
  net: ContinualMlp,
  ws: ProjectionWorkspace,
  lambdas: readonly (Float32Array | null)[],
  current: TrainBatch,
  all: TrainBatch,
  config: Pick<ContinualConfig, 'innerBatches' | 'eta1' | 'gradClip'>,
  scratch: SharpnessScratch = new SharpnessScratch(net),
): SharpnessGradients {
  const spaced = lambdas.map((lambda, l) => (lambda ? l : -1)).filter((l) => l >= 0);
  const chunks = Math.min(config.innerBatches, current.n);
  const bounds = Array.from({ length: chunks + 1 }, (_, c) => Math.round((c * current.n) / chunks));
  const { weights: w, perturbed, perturbation: v, component, suffix, masked } = scratch;
  const { eta1, gradClip } = config;
  net.copyWeightsInto(w);
  perturbed.set(w);
  v.fill(0);
  // clipped[c][s]: entries of spaced layer s the clip changed in chunk c (0: the pass mask is all ones)
  const clipped: number[][] = [];
  let lossSum = 0;
  for (let c = 0; c < chunks; c++) {
    // the inner gradient at w + v_{c−1} (a value: first-order); a live view, used up before the next engine call
    const inner = net.lossAndGradients(sliceBatch(current, bounds[c]!, bounds[c + 1]!), perturbed).grads;
    clipped.push(
      spaced.map((l) => {
        const out = layerOf(net, component, l);
        ws.component(l, inner.subarray(net.layerOffsets[l]!, net.layerOffsets[l]! + net.layerSize(l)), lambdas[l]!, out, scratch.coordinates(c, l));
        return perturbLayer(out, layerOf(net, v, l), layerOf(net, w, l), layerOf(net, perturbed, l), scratch.pass(c, l), eta1, gradClip);
      }),
    );
    const atPerturbed = net.lossAndGradients(all, perturbed);
    lossSum += atPerturbed.loss;
    scratch.gradient(c).set(atPerturbed.grads);
  }
  // suffix sums give A_{c′}; after the first chunk's turn the suffix is ∂/∂w = mean_c G_c
  suffix.fill(0);
  const lambdaGradients = spaced.map((l) => new Float64Array(lambdas[l]!.length));
  const weightCoordinates: (Float32Array | null)[] = lambdas.map(() => null);
  for (let c = chunks - 1; c >= 0; c--) {
    addScaled(suffix, scratch.gradient(c), chunks);
    spaced.forEach((l, s) => {
      const a = layerOf(net, suffix, l);
      const pass = scratch.pass(c, l);
      // all entries passed: A ⊙ U is A itself, no masked copy
      let m = a;
      if (clipped[c]![s]! > 0) {
        m = layerOf(net, masked, l);
        for (let i = 0; i < a.length; i++) m[i] = pass[i] ? a[i]! : 0;
      }
      const back = ws.coordinatesView(l, m);
      const rank = lambdas[l]!.length;
      accumulateLambda(lambdaGradients[s]!, scratch.coordinates(c, l), back, rank, eta1);
      // the last turn's A₀·M (nothing clipped) are the coordinates of ∂/∂w the weight projection needs
      if (c === 0 && m === a) {
        const kept = scratch.finalCoordinatesOf(l).subarray(0, back.length);
        kept.set(back);
        weightCoordinates[l] = kept;
      }
    });
  }
  const byLayer: (Float64Array | null)[] = lambdas.map(() => null);
  spaced.forEach((l, s) => (byLayer[l] = lambdaGradients[s]!));
  return { loss: lossSum / chunks, weights: suffix, lambdas: byLayer, weightCoordinates };
}
