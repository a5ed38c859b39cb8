/**
 * Two small MLP branches on disjoint slices of the input, combined element-wise:
 *   a = x[:, :split], b = x[:, split:]
 *   hₐ = relu(a·W₁ₐᵀ + b₁ₐ), oₐ = act(hₐ·W₂ₐᵀ + b₂ₐ) (likewise for b), y = oₐ ⊙ o_b (product) or oₐ + o_b (sum).
 * ComS2T (coms2t.md §2) uses both: its prompt encoder multiplies a temporal and a spatial 2-vector into the
 * predicted [mean, variance] (product, identity); its prompt is tanh(Linear_t(hₜ)) + tanh(Linear_s(hₛ)) on the
 * same hidden layers (sum, tanh). A sequential model cannot express two branches, hence one layer. Parameters `<name>.first.hidden`, `.first.out`, `.second.hidden`, `.second.out` (W is
 * [out, in] as in `linear`), initialised as PyTorch's nn.Linear (uniform ±1/√in).
 *
 * Backward: d oₐ = dY ⊙ o_b, d o_b = dY ⊙ oₐ; each branch then back-propagates as two linear layers.
 */
import type { ParamView, View } from '../arena.js';
import type { GemmArgs } from '../kernels/kernels.js';
import { sizeOf, type BuiltLayer, type LayerKind, type StepContext } from './layer.js';
import { ModelevoError } from '../../core/errors.js';

export interface BranchProductSpec {
  readonly kind: 'branch_product';
  /** input features of the first branch (the rest go to the second) */
  readonly split: number;
  readonly hidden: number;
  readonly units: number;
  /** how the branch outputs combine (default product) */
  readonly combine?: 'product' | 'sum';
  /** activation of each branch's output layer (default identity) */
  readonly outActivation?: 'identity' | 'tanh';
}

interface Branch {
  readonly column: number;
  readonly features: number;
  readonly w1: ParamView;
  readonly b1: ParamView;
  readonly w2: ParamView;
  readonly b2: ParamView;
  readonly hidden: View;
  readonly out: View;
  readonly dOut: View;
  readonly dHidden: View;
  /** GEMM records, made on first use (offsets are known only after layout) and reused every step */
  gemms?: BranchGemms;
}

interface BranchGemms {
  readonly hidden: GemmArgs;
  readonly out: GemmArgs;
  readonly dW2: GemmArgs;
  readonly dHidden: GemmArgs;
  readonly dW1: GemmArgs;
  readonly dInput: GemmArgs;
}

export const branchProduct: LayerKind<BranchProductSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    const inF = sizeOf(sampleShape);
    if (!(spec.split >= 1 && spec.split < inF)) {
      throw new ModelevoError('CONFIG_INVALID', `branch_product '${name}': split ${spec.split} must leave both branches at least one of the ${inF} input features`, {
        details: { expected: `1 ≤ split < ${inF}`, actual: spec.split },
        hint: 'split is the number of input features of the first branch',
      });
    }
    const { hidden: H, units: U } = spec;
    const combine = spec.combine ?? 'product';
    const outAct = spec.outActivation ?? 'identity';
    const branch = (label: string, column: number, features: number): Branch => {
      const inBound = 1 / Math.sqrt(features);
      const hiddenBound = 1 / Math.sqrt(H);
      return {
        column,
        features,
        w1: planner.param(`${name}.${label}.hidden.weight`, [H, features], { kind: 'uniform', bound: inBound }),
        b1: planner.param(`${name}.${label}.hidden.bias`, [H], { kind: 'uniform', bound: inBound }),
        w2: planner.param(`${name}.${label}.out.weight`, [U, H], { kind: 'uniform', bound: hiddenBound }),
        b2: planner.param(`${name}.${label}.out.bias`, [U], { kind: 'uniform', bound: hiddenBound }),
        hidden: planner.buffer('activation', `${name}.${label}.hidden`, [batch, H]),
        out: planner.buffer('activation', `${name}.${label}.out`, [batch, U]),
        dOut: planner.buffer('activationGrad', `${name}.${label}.dOut`, [batch, U]),
        dHidden: planner.buffer('activationGrad', `${name}.${label}.dHidden`, [batch, H]),
      };
    };
    const first = branch('first', 0, spec.split);
    const second = branch('second', spec.split, inF - spec.split);
    const output = planner.buffer('activation', `${name}.out`, [batch, U]);

    const gemmsOf = (br: Branch): BranchGemms =>
      (br.gemms ??= {
        // the branch's slice is read in place: rows of `inF` floats, starting at its column
        hidden: { transA: false, transB: true, m: batch, n: H, k: br.features, a: input.offset + br.column, lda: inF, b: br.w1.offset, ldb: br.features, beta: 0, c: br.hidden.offset, ldc: H },
        out: { transA: false, transB: true, m: batch, n: U, k: H, a: br.hidden.offset, lda: H, b: br.w2.offset, ldb: H, beta: 0, c: br.out.offset, ldc: U },
        dW2: { transA: true, transB: false, m: U, n: H, k: batch, a: br.dOut.offset, lda: U, b: br.hidden.offset, ldb: H, beta: 0, c: br.w2.grad.offset, ldc: H },
        dHidden: { transA: false, transB: false, m: batch, n: H, k: U, a: br.dOut.offset, lda: U, b: br.w2.offset, ldb: H, beta: 0, c: br.dHidden.offset, ldc: H },
        dW1: { transA: true, transB: false, m: H, n: br.features, k: batch, a: br.dHidden.offset, lda: H, b: input.offset + br.column, ldb: inF, beta: 0, c: br.w1.grad.offset, ldc: br.features },
        dInput: { transA: false, transB: false, m: batch, n: br.features, k: H, a: br.dHidden.offset, lda: H, b: br.w1.offset, ldb: br.features, beta: 0, c: -1, ldc: inF },
      });

    const forwardBranch = (ctx: StepContext, br: Branch): void => {
      const k = ctx.kernels;
      const g = gemmsOf(br);
      k.gemm(g.hidden);
      k.biasActivation(br.hidden.offset, br.b1.offset, batch, H, 'relu', -1);
      k.gemm(g.out);
      k.biasActivation(br.out.offset, br.b2.offset, batch, U, outAct, -1);
    };

    const backwardBranch = (ctx: StepContext, br: Branch, dInput: View | null): void => {
      const k = ctx.kernels;
      const g = gemmsOf(br);
      if (outAct !== 'identity') k.activationBackward(br.dOut.offset, -1, br.out.offset, br.dOut.offset, br.dOut.size, outAct);
      k.gemm(g.dW2);
      k.columnSums(br.dOut.offset, batch, U, br.b2.grad.offset);
      k.gemm(g.dHidden);
      k.activationBackward(br.dHidden.offset, -1, br.hidden.offset, br.dHidden.offset, br.dHidden.size, 'relu');
      k.gemm(g.dW1);
      k.columnSums(br.dHidden.offset, batch, H, br.b1.grad.offset);
      if (dInput) {
        g.dInput.c = dInput.offset + br.column;
        k.gemm(g.dInput);
      }
    };

    return {
      output,
      sampleShape: [U],
      forward(ctx) {
        forwardBranch(ctx, first);
        forwardBranch(ctx, second);
        const k = ctx.kernels;
        if (combine === 'product') k.multiply(first.out.offset, second.out.offset, output.offset, output.size);
        else {
          const d = k.data;
          for (let i = 0; i < output.size; i++) d[output.offset + i] = d[first.out.offset + i]! + d[second.out.offset + i]!;
        }
      },
      backward(ctx, dOutput, dInput) {
        const k = ctx.kernels;
        if (combine === 'product') {
          k.multiply(dOutput.offset, second.out.offset, first.dOut.offset, dOutput.size);
          k.multiply(dOutput.offset, first.out.offset, second.dOut.offset, dOutput.size);
        } else {
          k.data.copyWithin(first.dOut.offset, dOutput.offset, dOutput.offset + dOutput.size);
          k.data.copyWithin(second.dOut.offset, dOutput.offset, dOutput.offset + dOutput.size);
        }
        backwardBranch(ctx, first, dInput);
        backwardBranch(ctx, second, dInput);
      },
    };
  },
};
