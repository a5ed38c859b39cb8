/**
 * The layer contract: a layer is built once per model and batch size, asking the planner for its parameters
 * and buffers, and returns forward and backward closures over the resulting offsets. Forward and backward are
 * written by hand side by side; backward overwrites (never accumulates into) its parameter gradients.
 */
import type { ArenaPlanner, View } from '../arena.js';
import type { ArenaArray, NnKernels } from '../kernels/kernels.js';

export interface StepContext {
  readonly kernels: NnKernels;
  /** training mode: dropout masks on, batch statistics in batch norm */
  readonly training: boolean;
  /** model seed and optimiser step: masks are a pure function of (seed, layer, step) */
  readonly seed: number;
  readonly step: number;
}

export interface BuildInput {
  /** unique layer name, the prefix of its parameter names */
  readonly name: string;
  /** shape of one example (without the batch dimension) */
  readonly sampleShape: readonly number[];
  readonly batch: number;
  /** the [batch, ...sampleShape] buffer this layer reads */
  readonly input: View;
  readonly planner: ArenaPlanner;
}

export interface BuiltLayer {
  readonly output: View;
  readonly sampleShape: readonly number[];
  forward(ctx: StepContext): void;
  /** `dOutput` may be overwritten; `dInput` is null for the first layer unless the input gradient was asked for */
  backward(ctx: StepContext, dOutput: View, dInput: View | null): void;
  /** sets persistent state (running statistics) to its initial value; called with the parameter init */
  reset?(data: ArenaArray): void;
}

export interface LayerKind<Spec> {
  build(spec: Spec, at: BuildInput): BuiltLayer;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** FNV-1a of a layer name: distinct layers draw distinct dropout masks from one model seed */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
