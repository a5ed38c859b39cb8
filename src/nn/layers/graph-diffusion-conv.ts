/**
 * Graph WaveNet's graph convolution layer (Wu et al., IJCAI 2019, Eq. (6)–(7); its `gcn` module): diffusion
 * over K steps along each dense support A_s (e.g. forward and backward transition matrices),
 * H_{s,k} = A_sᵀ·H_{s,k−1} applied to the node axis (H_{s,0} = x; `nconv`: y[b,c,w,t] = Σ_v x[b,c,v,t]·A[v,w]),
 * then a 1 × 1 convolution over the concatenation [x, H_{1,1..K}, H_{2,1..K}, ...] with bias:
 * x [B, C, N, T] → [B, Cout, N, T]. The supports are data (state region `<name>.supports`, [S, N, N], set
 * by the caller and saved with the model). With `adaptiveRank` r the layer also learns Graph WaveNet's
 * self-adaptive adjacency Ã = softmax(ReLU(E₁E₂)) (Eq. (5); softmax over each row, E₁ [N, r], E₂ [r, N]) and
 * diffuses along it as one more support; its gradient dÃ = Σ H_{k−1}·dH_kᵀ flows back through the softmax and
 * ReLU into E₁ and E₂.
 *
 * Diffusion runs per example as one GEMM over all channels: the example [C, N, T] is swapped to node-major
 * [N, C·T] (scratch `chain`), each step is A_sᵀ·[N, C·T] (n = C·T rather than T: one GEMM per step, not C thin
 * ones), and each result is swapped back into the concatenation buffer [B, J·C, N, T] (J = 1 + S·K); the 1 × 1
 * convolution is one GEMM per example. Backward swaps the example's concatenation gradient the same way.
 *
 * Fixed supports with at most a quarter non-zeros (transition matrices of a thresholded road graph have ~5 %)
 * diffuse through a sparse kernel instead of the dense GEMM: the step is FLOP-bound in dense diffusion
 * (bench/gwn-profile.ts). Each forward lists the supports' non-zeros (they may change between steps) as (row,
 * column, value) triples in an activation buffer; backward reuses that list. The learned support stays dense.
 */
import { ModelevoError } from '../../core/errors.js';
import type { View } from '../arena.js';
import type { GemmArgs, NnKernels } from '../kernels/kernels.js';
import type { BuildInput, BuiltLayer, LayerKind } from './layer.js';
import { adaptiveAdjacencyBackward, adaptiveAdjacencyForward, type AdaptiveAdjacencyViews } from './adaptive-adjacency.js';

export interface GraphDiffusionConvSpec {
  readonly kind: 'graph_diffusion_conv';
  readonly channels: number;
  /** number of dense supports */
  readonly supports: number;
  /** diffusion steps K per support (Graph WaveNet: 2) */
  readonly order?: number;
  /** learn an adaptive adjacency of this rank (Graph WaveNet: 10) */
  readonly adaptiveRank?: number;
}

/**
 * Buffers a composite model (Graph WaveNet) shares between its diffusion layers: one copy of the fixed
 * supports, and one adaptive adjacency learned once for all layers. The layer diffuses along `adjacency` as
 * its last support and accumulates (beta = 1) its gradient into `adjacencyGrad`; the owner zeroes that before
 * the backward pass and takes it back through the softmax itself.
 */
export interface SharedSupports {
  readonly supports: View;
  readonly adaptive?: { readonly adjacency: View; readonly adjacencyGrad: View };
}

export const graphDiffusionConv: LayerKind<GraphDiffusionConvSpec> = {
  build: (spec, at) => buildGraphDiffusionConv(spec, at),
};

export function buildGraphDiffusionConv(spec: GraphDiffusionConvSpec, { name, sampleShape, batch, input, planner }: BuildInput, shared?: SharedSupports): BuiltLayer {
  const { cin, nodes, time, order, cout, rank, fixed, learned, allSupports, terms, mixed, plane } = diffusionShape(spec, name, sampleShape, shared);
  const sharedAdaptive = shared?.adaptive;
  const bound = 1 / Math.sqrt(mixed);
  const weight = planner.param(`${name}.mlp.weight`, [cout, mixed], { kind: 'uniform', bound });
  const bias = planner.param(`${name}.mlp.bias`, [cout], { kind: 'uniform', bound });
  const nodevec1 = rank > 0 ? planner.param(`${name}.nodevec1`, [nodes, rank], { kind: 'normal', std: 1 }) : undefined;
  const nodevec2 = rank > 0 ? planner.param(`${name}.nodevec2`, [rank, nodes], { kind: 'normal', std: 1 }) : undefined;
  const supports = shared?.supports ?? planner.buffer('state', `${name}.supports`, [fixed, nodes, nodes]);
  const adaptive = rank > 0 ? planner.buffer('activation', `${name}.adaptive`, [nodes, nodes]) : undefined;
  const adaptivePre = rank > 0 ? planner.buffer('activation', `${name}.adaptivePre`, [nodes, nodes]) : undefined;
  const dAdaptive = rank > 0 ? planner.buffer('scratch', `${name}.dAdaptive`, [nodes, nodes]) : undefined;
  const own: AdaptiveAdjacencyViews | undefined = rank > 0 ? { emb1: nodevec1!, emb2: nodevec2!, pre: adaptivePre!, adjacency: adaptive!, grad: dAdaptive! } : undefined;
  const concat = planner.buffer('activation', `${name}.concat`, [batch, mixed, nodes, time]);
  const output = planner.buffer('activation', `${name}.out`, [batch, cout, nodes, time]);
  const dConcat = planner.buffer('scratch', `${name}.dConcat`, [batch, mixed, nodes, time]);
  // one example's terms, node-major [J, N, C·T]: the diffusion chain and its gradient
  const chain = planner.buffer('scratch', `${name}.chain`, [terms, nodes, cin * time]);
  const dChain = planner.buffer('scratch', `${name}.dChain`, [terms, nodes, cin * time]);
  const example = cin * plane;
  // sparse fixed supports: up to a quarter of N² (row, column, value) triples each; nonZeros[s] < 0 = dense
  const sparseCapacity = Math.max(1, Math.floor((nodes * nodes) / 4));
  const triples = fixed > 0 ? planner.buffer('activation', `${name}.supportTriples`, [fixed, sparseCapacity, 3]) : undefined;
  const slice = (base: number, b: number, term: number, c: number): number => base + ((b * terms + term) * cin + c) * plane;
  const mix: GemmArgs = { transA: false, transB: false, m: cout, n: plane, k: mixed, a: 0, lda: mixed, b: 0, ldb: plane, beta: 0, c: 0, ldc: plane };
  const mixWeightGrad: GemmArgs = { transA: false, transB: true, m: cout, n: mixed, k: plane, a: 0, lda: plane, b: 0, ldb: plane, beta: 0, c: 0, ldc: mixed };
  const adjacencyGrad: GemmArgs = { transA: false, transB: true, m: nodes, n: nodes, k: cin * time, a: 0, lda: cin * time, b: 0, ldb: cin * time, beta: 1, c: 0, ldc: nodes };
  const mixInputGrad: GemmArgs = { transA: true, transB: false, m: mixed, n: plane, k: cout, a: 0, lda: mixed, b: 0, ldb: plane, beta: 0, c: 0, ldc: plane };

  const link = (base: number, term: number): number => base + term * example;
  const supportAt = (s: number): number => (s < fixed ? supports.offset + s * nodes * nodes : sharedAdaptive ? sharedAdaptive.adjacency.offset : adaptive!.offset);
  const { listNonZeros, diffuse } = supportDiffusion(fixed, nodes, cin * time, sparseCapacity, triples, supportAt);

  return {
    output,
    sampleShape: [cout, nodes, time],
    forward(ctx) {
      const k = ctx.kernels;
      listNonZeros(k.data);
      if (own) adaptiveAdjacencyForward(k, own, nodes, rank);
      for (let b = 0; b < batch; b++) {
        // term 0 is x itself
        k.activation(input.offset + b * example, slice(concat.offset, b, 0, 0), example, 'identity');
        k.swapAxes01(input.offset + b * example, link(chain.offset, 0), cin, nodes, time);
        for (let s = 0; s < allSupports; s++) {
          for (let p = 1; p <= order; p++) {
            const term = 1 + s * order + (p - 1);
            const previous = p === 1 ? 0 : term - 1;
            diffuse(k, s, true, link(chain.offset, previous), link(chain.offset, term), false);
            k.swapAxes01(link(chain.offset, term), slice(concat.offset, b, term, 0), nodes, cin, time);
          }
        }
        mix.a = weight.offset;
        mix.b = slice(concat.offset, b, 0, 0);
        mix.c = output.offset + b * cout * plane;
        k.gemm(mix);
      }
      k.channelBiasActivation(output.offset, bias.offset, batch, cout, plane, 'identity', -1);
    },
    backward(ctx, dOutput, dInput) {
      const k = ctx.kernels;
      k.channelSums(dOutput.offset, batch, cout, plane, bias.grad.offset);
      // the adaptive adjacency needs dConcat even for the first layer
      const needConcatGrad = dInput !== null || learned;
      if (sharedAdaptive) adjacencyGrad.c = sharedAdaptive.adjacencyGrad.offset;
      if (rank > 0) {
        adjacencyGrad.c = dAdaptive!.offset;
        ctx.kernels.data.fill(0, dAdaptive!.offset, dAdaptive!.offset + nodes * nodes);
      }
      for (let b = 0; b < batch; b++) {
        mixWeightGrad.a = dOutput.offset + b * cout * plane;
        mixWeightGrad.b = slice(concat.offset, b, 0, 0);
        mixWeightGrad.c = weight.grad.offset;
        mixWeightGrad.beta = b === 0 ? 0 : 1;
        k.gemm(mixWeightGrad);
        if (!needConcatGrad) continue;
        mixInputGrad.a = weight.offset;
        mixInputGrad.b = dOutput.offset + b * cout * plane;
        mixInputGrad.c = slice(dConcat.offset, b, 0, 0);
        k.gemm(mixInputGrad);
        for (let j = 0; j < terms; j++) k.swapAxes01(slice(dConcat.offset, b, j, 0), link(dChain.offset, j), cin, nodes, time);
        if (learned) {
          // the learned support's chain inputs H_{p−1}, node-major, for dÃ (the forward's chain held the last example)
          k.swapAxes01(slice(concat.offset, b, 0, 0), link(chain.offset, 0), cin, nodes, time);
          for (let p = 1; p < order; p++) {
            const term = 1 + fixed * order + (p - 1);
            k.swapAxes01(slice(concat.offset, b, term, 0), link(chain.offset, term), cin, nodes, time);
          }
        }
        // back along each diffusion chain: dH_{p−1} += A·dH_p, ending in the x slot (term 0)
        for (let s = 0; s < allSupports; s++) {
          for (let p = order; p >= 1; p--) {
            const term = 1 + s * order + (p - 1);
            const previous = p === 1 ? 0 : term - 1;
            if (s === fixed) {
              // dÃ[v, w] += Σ_{c,t} H_{p−1}[v, (c, t)]·dH_p[w, (c, t)]
              adjacencyGrad.a = link(chain.offset, previous);
              adjacencyGrad.b = link(dChain.offset, term);
              k.gemm(adjacencyGrad);
            }
            diffuse(k, s, false, link(dChain.offset, term), link(dChain.offset, previous), true);
          }
        }
        if (dInput) k.swapAxes01(link(dChain.offset, 0), dInput.offset + b * example, nodes, cin, time);
      }
      if (own) adaptiveAdjacencyBackward(k, own, nodes, rank);
    },
    reset(data) {
      if (shared) return;
      // identity supports until the caller sets real ones
      data.fill(0, supports.offset, supports.offset + supports.size);
      for (let s = 0; s < fixed; s++) for (let i = 0; i < nodes; i++) data[supports.offset + s * nodes * nodes + i * nodes + i] = 1;
    },
  };
}

/** The layer's sizes from its spec and example shape (checked): J = 1 + S·K terms of C channels each. */
function diffusionShape(spec: GraphDiffusionConvSpec, name: string, sampleShape: readonly number[], shared: SharedSupports | undefined) {
  if (sampleShape.length !== 3) {
    throw new ModelevoError('SHAPE_MISMATCH', `graph_diffusion_conv '${name}' expects [channels, nodes, time] examples, got [${sampleShape.join(', ')}]`);
  }
  const [cin, nodes, time] = sampleShape as [number, number, number];
  const order = spec.order ?? 2;
  const rank = spec.adaptiveRank ?? 0;
  if (shared?.adaptive && rank > 0) {
    throw new ModelevoError('CONFIG_INVALID', `graph_diffusion_conv '${name}' got both a shared adaptive adjacency and adaptiveRank ${rank}`, { hint: 'learn the adjacency in one place' });
  }
  const fixed = spec.supports;
  const learned = rank > 0 || shared?.adaptive !== undefined;
  const allSupports = fixed + (learned ? 1 : 0);
  const terms = 1 + allSupports * order;
  return { cin, nodes, time, order, cout: spec.channels, rank, fixed, learned, allSupports, terms, mixed: terms * cin, plane: nodes * time };
}

/**
 * Diffusion steps C = op(A_s)·B over one example's node-major [N, width]: transposed in forward (Aᵀ), plain in
 * backward (A). A fixed support with at most `capacity` non-zeros goes through the sparse kernel on the triples
 * `listNonZeros` wrote at the forward; the others (and the learned one, s ≥ fixed) through the dense GEMM.
 */
function supportDiffusion(fixed: number, nodes: number, width: number, capacity: number, triples: View | undefined, supportAt: (s: number) => number) {
  // non-zeros per fixed support; < 0 = too many, dense
  const nonZeros = new Int32Array(fixed);
  // one reusable argument record for the many small diffusion GEMMs
  const diffusion: GemmArgs = { transA: true, transB: false, m: nodes, n: width, k: nodes, a: 0, lda: nodes, b: 0, ldb: width, beta: 0, c: 0, ldc: width };
  const listNonZeros = (data: NnKernels['data']): void => {
    for (let s = 0; s < fixed; s++) {
      const a = supportAt(s);
      const out = triples!.offset + s * capacity * 3;
      let count = 0;
      for (let v = 0; v < nodes && count >= 0; v++) {
        for (let w = 0; w < nodes; w++) {
          const value = data[a + v * nodes + w]!;
          if (value === 0) continue;
          if (count === capacity) {
            count = -1;
            break;
          }
          data[out + 3 * count] = v;
          data[out + 3 * count + 1] = w;
          data[out + 3 * count + 2] = value;
          count++;
        }
      }
      nonZeros[s] = count;
    }
  };
  const diffuse = (k: NnKernels, s: number, transposed: boolean, from: number, to: number, accumulate: boolean): void => {
    if (s < fixed && nonZeros[s]! >= 0) {
      if (!accumulate) k.data.fill(0, to, to + nodes * width);
      k.sparseDiffuse(triples!.offset + s * capacity * 3, nonZeros[s]!, from, to, width, transposed);
      return;
    }
    diffusion.transA = transposed;
    diffusion.a = supportAt(s);
    diffusion.b = from;
    diffusion.c = to;
    diffusion.beta = accumulate ? 1 : 0;
    k.gemm(diffusion);
  };
  return { listNonZeros, diffuse };
}
