/**
 * Linear (fully connected) layer with fused bias and activation: y = act(x·Wᵀ + b). W is [out, in] (PyTorch
 * and tfjs-reference layout), so checkpoints map one to one. Initialisation as PyTorch's nn.Linear: W and b uniform
 * in ±1/√in. Optional DropConnect (Wan et al., ICML 2013): in training, W is replaced by W ⊙ M with a Bernoulli
 * keep mask M scaled by 1/keep, drawn per step.
 *
 * Backward: dZ = dY ⊙ act′; dW = dZᵀ·x (⊙ M); db = Σ_rows dZ; dX = dZ·W(⊙ M).
 */
import type { View } from '../arena.js';
import type { Activation, GemmArgs } from '../kernels/kernels.js';
import { nameHash, sizeOf, type BuildInput, type BuiltLayer, type LayerKind, type StepContext } from './layer.js';

export interface LinearSpec {
  readonly kind: 'linear';
  readonly units: number;
  readonly activation?: Activation;
  readonly bias?: boolean;
  /** DropConnect drop probability on the weights (0 = off) */
  readonly dropConnect?: number;
}

export const linear: LayerKind<LinearSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    const inF = sizeOf(sampleShape);
    const outF = spec.units;
    const act = spec.activation ?? 'identity';
    const bound = 1 / Math.sqrt(inF);
    const weight = planner.param(`${name}.weight`, [outF, inF], { kind: 'uniform', bound });
    const bias = spec.bias === false ? undefined : planner.param(`${name}.bias`, [outF], { kind: 'uniform', bound });
    const output = planner.buffer('activation', `${name}.out`, [batch, outF]);
    const pre = act === 'gelu' ? planner.buffer('activation', `${name}.pre`, [batch, outF]) : undefined;
    const drop = spec.dropConnect ?? 0;
    const mask = drop > 0 ? planner.buffer('scratch', `${name}.mask`, [outF, inF]) : undefined;
    const masked = drop > 0 ? planner.buffer('scratch', `${name}.maskedWeight`, [outF, inF]) : undefined;
    const salt = nameHash(name);
    let usedMask = false;
    // GEMM argument records are made on first use (offsets are known only after layout) and reused every step
    let forwardArgs: GemmArgs | undefined;
    let weightGradArgs: GemmArgs | undefined;
    let inputGradArgs: GemmArgs | undefined;

    const effectiveWeight = (ctx: StepContext): View => {
      usedMask = ctx.training && mask !== undefined;
      if (!usedMask) return weight;
      ctx.kernels.dropoutMask(mask!.offset, mask!.size, 1 - drop, ctx.seed ^ salt, ctx.step);
      ctx.kernels.multiply(weight.offset, mask!.offset, masked!.offset, weight.size);
      return masked!;
    };

    return {
      output,
      sampleShape: [outF],
      forward(ctx) {
        const w = effectiveWeight(ctx);
        const k = ctx.kernels;
        forwardArgs ??= { transA: false, transB: true, m: batch, n: outF, k: inF, a: input.offset, lda: inF, b: 0, ldb: inF, beta: 0, c: output.offset, ldc: outF };
        forwardArgs.b = w.offset;
        k.gemm(forwardArgs);
        if (bias || act !== 'identity') k.biasActivation(output.offset, bias ? bias.offset : -1, batch, outF, act, pre ? pre.offset : -1);
      },
      backward(ctx, dOutput, dInput) {
        const k = ctx.kernels;
        if (act !== 'identity') k.activationBackward(dOutput.offset, pre ? pre.offset : -1, output.offset, dOutput.offset, dOutput.size, act);
        weightGradArgs ??= { transA: true, transB: false, m: outF, n: inF, k: batch, a: dOutput.offset, lda: outF, b: input.offset, ldb: inF, beta: 0, c: weight.grad.offset, ldc: inF };
        k.gemm(weightGradArgs);
        if (usedMask) k.multiply(weight.grad.offset, mask!.offset, weight.grad.offset, weight.size);
        if (bias) k.columnSums(dOutput.offset, batch, outF, bias.grad.offset);
        if (dInput) {
          inputGradArgs ??= { transA: false, transB: false, m: batch, n: inF, k: outF, a: dOutput.offset, lda: outF, b: 0, ldb: inF, beta: 0, c: dInput.offset, ldc: inF };
          inputGradArgs.b = (usedMask ? masked! : weight).offset;
          k.gemm(inputGradArgs);
        }
      },
    };
  },
};
