/**
 * Graph WaveNet's self-adaptive adjacency Ã = softmax(ReLU(E₁E₂)) (Wu et al. 2019, Eq. (5); softmax over each
 * row, E₁ [N, r], E₂ [r, N]), its forward and its backward into the node embeddings. Shared by the diffusion
 * layer (a layer-own adjacency) and graph_wavenet (one adjacency for all blocks).
 */
import type { ParamView, View } from '../arena.js';
import type { NnKernels } from '../kernels/kernels.js';

export interface AdaptiveAdjacencyViews {
  readonly emb1: ParamView;
  readonly emb2: ParamView;
  /** ReLU(E₁E₂), kept for the backward mask */
  readonly pre: View;
  readonly adjacency: View;
  /** dL/dÃ on entry to the backward (overwritten with the gradient through softmax and ReLU) */
  readonly grad: View;
}

export function adaptiveAdjacencyForward(k: NnKernels, a: AdaptiveAdjacencyViews, nodes: number, rank: number): void {
  k.gemm({ transA: false, transB: false, m: nodes, n: nodes, k: rank, a: a.emb1.offset, lda: rank, b: a.emb2.offset, ldb: nodes, beta: 0, c: a.pre.offset, ldc: nodes });
  k.activation(a.pre.offset, a.pre.offset, nodes * nodes, 'relu');
  k.rowSoftmax(a.pre.offset, a.adjacency.offset, nodes, nodes);
}

/** Through the row softmax and the ReLU, then dE₁ = dP·E₂ᵀ, dE₂ = E₁ᵀ·dP (both overwritten). */
export function adaptiveAdjacencyBackward(k: NnKernels, a: AdaptiveAdjacencyViews, nodes: number, rank: number): void {
  k.rowSoftmaxBackward(a.adjacency.offset, a.grad.offset, a.grad.offset, nodes, nodes);
  k.activationBackward(a.grad.offset, -1, a.pre.offset, a.grad.offset, nodes * nodes, 'relu');
  k.gemm({ transA: false, transB: true, m: nodes, n: rank, k: nodes, a: a.grad.offset, lda: nodes, b: a.emb2.offset, ldb: nodes, beta: 0, c: a.emb1.grad.offset, ldc: rank });
  k.gemm({ transA: true, transB: false, m: rank, n: nodes, k: nodes, a: a.emb1.offset, lda: rank, b: a.grad.offset, ldb: nodes, beta: 0, c: a.emb2.grad.offset, ldc: nodes });
}
