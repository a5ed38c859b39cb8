/**
 * Gradient projection as passes over flat gradient views (fs-dgpm.md §2–§3). Weights are stored [out, in] and
 * bases M live in the layer's input space (in × r), so every projection multiplies on the right:
 *
 * - GPM / SGP / FS-DGPM weight update: g ← g − g·M·Λ·Mᵀ (Λ = I for GPM: g·M = 0 afterwards).
 * - FS-DGPM sharpness perturbation: v = clip(η₁·g·M·Λ·Mᵀ, ±clip), an ascent step inside the important subspace.
 * - FS-DGPM importance: λ ← sigmoid(10·λ) after every SGD step on λ (Deng et al., NeurIPS 2021).
 *
 * The two GEMMs per pass run on the engine's kernels (SIMD GEMM for `wasm`) in a workspace arena of their
 * own, planned once for every layer's largest basis (r ≤ in): the gradient is copied in, projected, and
 * copied back, so the model's arena stays as the model planned it. `projectGradientReference` is the float64
 * specification the passes are tested against.
 */
import type { Matrix } from 'ml-matrix';
import { ModelevoError } from '../core/errors.js';
import { createKernels } from '../nn/kernels/registry.js';
import type { ArenaArray, GemmArgs, KernelsName, NnKernels } from '../nn/kernels/kernels.js';

export interface LayerShape {
  out: number;
  in: number;
}

interface Slot {
  shape: LayerShape;
  /** M, in × r row-major */
  basis: number;
  /** the gradient being projected, out × in */
  gradient: number;
  /** coordinates g·M, out × r */
  coordinates: number;
  rank: number;
}

export class ProjectionWorkspace {
  private readonly kernels: NnKernels;
  private readonly slots: Slot[];

  constructor(shapes: readonly LayerShape[], kernels: KernelsName = 'wasm') {
    let floats = 0;
    const plan = (size: number): number => {
      const at = floats;
      floats += Math.ceil(size / 4) * 4; // 16-byte aligned operands
      return at;
    };
    const planned = shapes.map((shape) => ({ shape, basis: plan(shape.in * shape.in), gradient: plan(shape.out * shape.in), coordinates: plan(shape.out * shape.in), rank: 0 }));
    this.kernels = createKernels(kernels, floats);
    const base = this.kernels.base;
    this.slots = planned.map((s) => ({ ...s, basis: s.basis + base, gradient: s.gradient + base, coordinates: s.coordinates + base }));
  }

  private slot(layer: number): Slot {
    const slot = this.slots[layer];
    if (!slot) throw new ModelevoError('VALUE_INVALID', `no projection slot for layer ${layer}, expected 0..${this.slots.length - 1}`);
    return slot;
  }

  rank(layer: number): number {
    return this.slot(layer).rank;
  }

  /** Stores M (in × r, float64) in float32 for layer `layer`; null or no columns clears it. */
  setBasis(layer: number, basis: Matrix | null): void {
    const slot = this.slot(layer);
    if (basis === null || basis.columns === 0) {
      slot.rank = 0;
      return;
    }
    if (basis.rows !== slot.shape.in || basis.columns > slot.shape.in) {
      throw new ModelevoError('SHAPE_MISMATCH', `basis of layer ${layer}: expected ${slot.shape.in} × r with r ≤ ${slot.shape.in}, got ${basis.rows} × ${basis.columns}`, {
        hint: 'a basis lives in the layer input space',
      });
    }
    const data = this.kernels.data;
    const r = basis.columns;
    for (let i = 0; i < basis.rows; i++) for (let k = 0; k < r; k++) data[slot.basis + i * r + k] = basis.get(i, k);
    slot.rank = r;
  }

  /** c = g·M into the slot (g copied in first). */
  private coordinatesOf(slot: Slot, g: ArrayLike<number>): void {
    const { out, in: inF } = slot.shape;
    if (g.length !== out * inF) {
      throw new ModelevoError('SHAPE_MISMATCH', `gradient of a ${out} × ${inF} layer: expected ${out * inF} values, got ${g.length}`);
    }
    this.kernels.data.set(g, slot.gradient);
    this.gemm({ transA: false, transB: false, m: out, n: slot.rank, k: inF, a: slot.gradient, lda: inF, b: slot.basis, ldb: slot.rank, beta: 0, c: slot.coordinates, ldc: slot.rank });
  }

  /** c ← c·diag(sign·Λ) (Λ null: sign·I). */
  private scaleColumns(slot: Slot, importance: ArrayLike<number> | null, sign: number): void {
    const data = this.kernels.data;
    const r = slot.rank;
    for (let o = 0; o < slot.shape.out; o++) {
      const row = slot.coordinates + o * r;
      for (let k = 0; k < r; k++) data[row + k] = sign * data[row + k]! * (importance === null ? 1 : importance[k]!);
    }
  }

  /** slot.gradient ← c·Mᵀ + beta·slot.gradient */
  private expand(slot: Slot, beta: number): void {
    const { out, in: inF } = slot.shape;
    this.gemm({ transA: false, transB: true, m: out, n: inF, k: slot.rank, a: slot.coordinates, lda: slot.rank, b: slot.basis, ldb: slot.rank, beta, c: slot.gradient, ldc: inF });
  }

  private gemm(args: GemmArgs): void {
    this.kernels.gemm(args);
  }

  /** g ← g − g·M·Λ·Mᵀ in place (g: out × in, any array, e.g. a live gradient view); no basis leaves g alone. */
  project(layer: number, g: ArenaArray | Float32Array, importance: ArrayLike<number> | null): void {
    const slot = this.slot(layer);
    if (slot.rank === 0) return;
    this.coordinatesOf(slot, g);
    this.scaleColumns(slot, importance, -1);
    this.expand(slot, 1);
    g.set(this.kernels.data.subarray(slot.gradient, slot.gradient + g.length));
  }

  /**
   * out = g·M·Λ·Mᵀ, the part of g inside the protected subspace weighted by importance (zeros without a basis).
   * Returns the coordinates g·M (before Λ), which FS-DGPM's λ gradient needs too: written into the front of
   * `coordinatesInto` (returned as a view of it) when given, else a fresh copy.
   */
  component(layer: number, g: ArrayLike<number>, importance: ArrayLike<number> | null, out: Float32Array, coordinatesInto?: Float32Array): Float32Array {
    const slot = this.slot(layer);
    if (slot.rank === 0) {
      out.fill(0);
      return new Float32Array(0);
    }
    this.coordinatesOf(slot, g);
    const held = this.kernels.data.subarray(slot.coordinates, slot.coordinates + slot.shape.out * slot.rank);
    let coordinates: Float32Array;
    if (coordinatesInto) {
      coordinates = coordinatesInto.subarray(0, held.length);
      coordinates.set(held);
    } else coordinates = Float32Array.from(held);
    this.scaleColumns(slot, importance, 1);
    this.expand(slot, 0);
    out.set(this.kernels.data.subarray(slot.gradient, slot.gradient + out.length));
    return coordinates;
  }

  /** g·M (out × r row-major), a copy. */
  coordinates(layer: number, g: ArrayLike<number>): Float32Array {
    return Float32Array.from(this.coordinatesView(layer, g));
  }

  /** g·M (out × r row-major) as a live view of the workspace: valid until the next call on this workspace. */
  coordinatesView(layer: number, g: ArrayLike<number>): ArenaArray {
    const slot = this.slot(layer);
    if (slot.rank === 0) return this.kernels.data.subarray(0, 0);
    this.coordinatesOf(slot, g);
    return this.kernels.data.subarray(slot.coordinates, slot.coordinates + slot.shape.out * slot.rank);
  }

  /**
   * `project` for a g whose coordinates g·M the caller already holds (from `coordinates`/`coordinatesView` of
   * this very g): g ← g − coordinates·Λ·Mᵀ, one GEMM instead of two, and the same floats as `project`.
   */
  projectWithCoordinates(layer: number, g: ArenaArray | Float32Array, coordinates: ArrayLike<number>, importance: ArrayLike<number> | null): void {
    const slot = this.slot(layer);
    if (slot.rank === 0) return;
    const { out, in: inF } = slot.shape;
    if (g.length !== out * inF || coordinates.length !== out * slot.rank) {
      throw new ModelevoError('SHAPE_MISMATCH', `projection of a ${out} × ${inF} layer with rank ${slot.rank}: expected ${out * inF} gradient values and ${out * slot.rank} coordinates, got ${g.length} and ${coordinates.length}`);
    }
    const data = this.kernels.data;
    data.set(g, slot.gradient);
    data.set(coordinates, slot.coordinates);
    this.scaleColumns(slot, importance, -1);
    this.expand(slot, 1);
    g.set(data.subarray(slot.gradient, slot.gradient + g.length));
  }
}

/** FS-DGPM's perturbation v = clip(η₁·g·M·Λ·Mᵀ, ±clip) into `out`; zeros without a basis. */
export function sharpnessPerturbation(workspace: ProjectionWorkspace, layer: number, g: ArrayLike<number>, importance: ArrayLike<number> | null, eta1: number, clip: number, out: Float32Array): void {
  workspace.component(layer, g, importance, out);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-clip, Math.min(clip, eta1 * out[i]!));
}

/** Float64 reference of a projection: g (out × in) and M (in × r) as row-major arrays of rows. */
export function projectGradientReference(g: readonly (readonly number[])[], M: readonly (readonly number[])[], importance?: readonly number[]): number[][] {
  const rank = M[0]?.length ?? 0;
  return g.map((row) => {
    const coordinates = new Array<number>(rank).fill(0);
    for (let k = 0; k < rank; k++) {
      for (let i = 0; i < row.length; i++) coordinates[k] = coordinates[k]! + row[i]! * M[i]![k]!;
      coordinates[k] = coordinates[k]! * (importance?.[k] ?? 1);
    }
    return row.map((value, i) => {
      let inside = 0;
      for (let k = 0; k < rank; k++) inside += coordinates[k]! * M[i]![k]!;
      return value - inside;
    });
  });
}

/**
 * sigmoid(10·λ), computed in float64 with the logit clamped to ±15 so the float32 result stays strictly
 * inside (0, 1) (sigmoid(±15) is 3.1e-7 from the ends; float32 would round sigmoid(17+) to exactly 1).
 */
export const IMPORTANCE_TEMPERATURE = 10;
const MAX_LOGIT = 15;
export function squashImportance(lambda: ArrayLike<number>): Float32Array {
  const out = new Float32Array(lambda.length);
  for (let i = 0; i < lambda.length; i++) {
    const logit = Math.min(MAX_LOGIT, Math.max(-MAX_LOGIT, IMPORTANCE_TEMPERATURE * lambda[i]!));
    out[i] = 1 / (1 + Math.exp(-logit));
  }
  return out;
}
