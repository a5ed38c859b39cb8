/**
 * A sequential model compiled for one batch size: layers, loss and optimiser plan their buffers into one
 * arena, the arena is laid out once (parameters contiguous, then gradients, optimiser state, activations),
 * and forward / loss / backward run over fixed offsets.
 */
import { createRng } from '../core/rng.js';
import { ModelevoError } from '../core/errors.js';
import { ArenaPlanner, type ArenaLayout, type ParamView, type View } from './arena.js';
import type { KernelsName, NnKernels } from './kernels/kernels.js';
import { createKernels } from './kernels/registry.js';
import { buildLayer, type LayerSpec } from './layers/registry.js';
import type { BuiltLayer, StepContext } from './layers/layer.js';
import { buildLoss, type LossSpec } from './losses/registry.js';
import type { BuiltLoss } from './losses/loss.js';
import { planOptimizer, type OptimizerSpec } from './optim/registry.js';
import type { FlatRuns, PlannedOptimizer } from './optim/optimizer.js';

export interface ModelSpec {
  /** shape of one example */
  readonly inputShape: readonly number[];
  readonly layers: readonly LayerSpec[];
  readonly loss: LossSpec;
}

export interface CompileOptions {
  readonly batch: number;
  /** a registered implementation, or a factory (tests pass float64 reference kernels) */
  readonly kernels?: KernelsName | ((arenaFloats: number) => NnKernels);
  readonly optimizer?: OptimizerSpec;
  readonly seed?: number;
  /** also compute dLoss/dInput (gradient checks, input attribution) */
  readonly inputGrad?: boolean;
  /**
   * Read and update the parameters of another model compiled from the same spec, whose parameter run starts
   * at this float offset of the same memory, instead of holding (and initialising) its own: a data-parallel
   * replica shares replica 0's parameters (data-parallel.ts).
   */
  readonly sharedParamsAt?: number;
}

interface MutableContext {
  kernels: NnKernels;
  training: boolean;
  seed: number;
  step: number;
}

export class Model {
  readonly kernels: NnKernels;
  readonly layout: ArenaLayout;
  readonly input: View;
  readonly output: View;
  /** every layer's output, in layer order (the next layer's input; after a fused activation) */
  readonly layerOutputs: readonly View[];
  readonly target: View;
  readonly inputGrad: View | null;
  readonly params: readonly ParamView[];
  readonly stateViews: readonly View[];
  readonly runs: FlatRuns;
  readonly optimizer: PlannedOptimizer | undefined;
  private readonly ctx: MutableContext;

  private constructor(
    kernels: NnKernels,
    layout: ArenaLayout,
    private readonly layers: readonly BuiltLayer[],
    private readonly outputGrads: readonly View[],
    private readonly lossFn: BuiltLoss,
    input: View,
    inputGrad: View | null,
    optimizer: PlannedOptimizer | undefined,
    seed: number,
  ) {
    this.kernels = kernels;
    this.layout = layout;
    this.input = input;
    this.output = layers[layers.length - 1]!.output;
    this.layerOutputs = layers.map((layer) => layer.output);
    this.target = lossFn.target;
    this.inputGrad = inputGrad;
    this.params = layout.params;
    this.stateViews = layout.state;
    this.optimizer = optimizer;
    const { param, grad } = layout.regions;
    this.runs = { params: param.start, grads: grad.start, count: param.end - param.start };
    this.ctx = { kernels, training: false, seed, step: 0 };
  }

  static compile(spec: ModelSpec, options: CompileOptions): Model {
    const { batch } = options;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new ModelevoError('CONFIG_INVALID', `batch must be a positive integer, got ${batch}`, { hint: 'pass batch ≥ 1' });
    }
    if (spec.layers.length === 0) throw new ModelevoError('CONFIG_INVALID', 'a model needs at least one layer, got none');
    const planner = new ArenaPlanner();
    const input = planner.buffer('io', 'input', [batch, ...spec.inputShape]);
    const inputGrad = options.inputGrad ? planner.buffer('activationGrad', 'input.grad', input.shape) : null;
    const layers: BuiltLayer[] = [];
    let current = input;
    let sampleShape = spec.inputShape;
    spec.layers.forEach((layerSpec, i) => {
      const layer = buildLayer(layerSpec, { name: `${i}.${layerSpec.kind}`, sampleShape, batch, input: current, planner });
      layers.push(layer);
      current = layer.output;
      sampleShape = layer.sampleShape;
    });
    const outputGrads = layers.map((layer) => planner.buffer('activationGrad', `${layer.output.name}.grad`, layer.output.shape));
    const loss = buildLoss(spec.loss, current, batch, planner);
    const paramCount = planner.paramCount();
    const optimizer = options.optimizer ? planOptimizer(options.optimizer, paramCount, planner) : undefined;
    const factory = typeof options.kernels === 'function' ? options.kernels : (floats: number) => createKernels(options.kernels as string ?? 'wasm', floats);
    const kernels = factory(planner.floatsNeeded());
    const layout = planner.layout(kernels.base, { paramsAt: options.sharedParamsAt });
    const model = new Model(kernels, layout, layers, outputGrads, loss, input, inputGrad, optimizer, options.seed ?? 0);
    if (options.sharedParamsAt === undefined) model.initParams(options.seed ?? 0);
    else model.resetState();
    return model;
  }

  /** Draws every parameter from its init, from a stream keyed by (seed, parameter name). */
  initParams(seed: number): void {
    const data = this.kernels.data;
    for (const p of this.params) {
      const rng = createRng('nn-init', seed, p.name);
      const init = p.init;
      for (let i = 0; i < p.size; i++) {
        data[p.offset + i] =
          init.kind === 'zeros' ? 0 : init.kind === 'ones' ? 1 : init.kind === 'uniform' ? (2 * rng.next() - 1) * init.bound : rng.normal() * init.std;
      }
    }
    this.resetState();
  }

  /** Persistent state to its initial values (batch norm's running statistics, identity graph supports). */
  resetState(): void {
    for (const layer of this.layers) layer.reset?.(this.kernels.data);
  }

  /** The live values of a parameter (a view into the arena, not a copy). */
  param(name: string): Float32Array | Float64Array {
    const p = this.params.find((q) => q.name === name);
    if (!p) {
      throw new ModelevoError('TENSOR_NOT_FOUND', `no parameter '${name}'`, { hint: `parameters: ${this.params.map((q) => q.name).join(', ')}` });
    }
    return this.kernels.data.subarray(p.offset, p.offset + p.size);
  }

  view(v: View): Float32Array | Float64Array {
    return this.kernels.data.subarray(v.offset, v.offset + v.size);
  }

  /** `step` picks the dropout masks; the trainer passes its optimiser step */
  forward(training: boolean, step = 0): void {
    this.ctx.training = training;
    this.ctx.step = step;
    const ctx = this.ctx as StepContext;
    for (const layer of this.layers) layer.forward(ctx);
  }

  /** mean loss of the last forward; also writes dLoss/dOutput */
  loss(): number {
    return this.lossFn.forward(this.kernels, this.outputGrads[this.outputGrads.length - 1]!);
  }

  /**
   * Back-propagates a given dLoss/dOutput instead of the loss's (the model's loss is then unused): chains this
   * model in front of another, whose input gradient is this one's output gradient (ComS2T's prompt → GWN).
   */
  backwardFrom(dOutput: ArrayLike<number>): void {
    const last = this.outputGrads[this.outputGrads.length - 1]!;
    if (dOutput.length !== last.size) {
      throw new ModelevoError('SHAPE_MISMATCH', `output gradient has ${dOutput.length} values, expected ${last.size}`, {
        details: { expected: last.shape, actual: [dOutput.length] },
        hint: 'pass one value per output element of the whole batch',
      });
    }
    this.kernels.data.set(dOutput, last.offset);
    this.backward();
  }

  backward(): void {
    const ctx = this.ctx as StepContext;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      this.layers[i]!.backward(ctx, this.outputGrads[i]!, i > 0 ? this.outputGrads[i - 1]! : this.inputGrad);
    }
  }
}
