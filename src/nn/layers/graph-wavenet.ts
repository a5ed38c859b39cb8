/**
 * Graph WaveNet (Wu, Pan, Long, Jiang, Zhang, IJCAI 2019, arXiv 1906.00121; spatiotemporal.md §1) as one
 * composite layer, so that the whole network is an ordinary sequential `ModelSpec` (one layer + a loss) and
 * compiles, plans its arena, steps and flattens like any other model. The engine's Model stays sequential:
 * the residual and skip paths live inside this layer, which builds the existing layers as parts and joins
 * them with a few memory-bound copies.
 *
 * x [B, C_in, N, T] (left-padded in time to the receptive field 1 + Σ dilations) →
 *   start: 1×1 conv C_in → R;
 *   block i (kernel-2 dilated gated TCN R → D, `gated_temporal_conv`):
 *     skip  += W_skip,i · h_i[..., last step] + b_skip,i           (D → S, only the last step reaches the output)
 *     x_{i+1} = BN_i(dropout(gconv_i(h_i)) + x_i[..., d_i:])       (`graph_diffusion_conv` D → R, residual, BN)
 *   end: ReLU(skip) → 1×1 conv S → E, ReLU → 1×1 conv E → horizons, then ·outputScale + outputShift
 * → [B, horizons, N]. With outputScale/outputShift = the z-score's std/mean the output is in data units, so the
 * `masked_mae` loss on raw labels is Graph WaveNet's loss on inverse-scaled predictions.
 *
 * The last block's graph convolution and BN only feed a residual stream that nothing reads (the output is built
 * from the skips), so they are not built: the paper's network computes them and they never get a gradient.
 * One adaptive adjacency softmax(ReLU(E₁E₂)) and one copy of the fixed supports (state `<name>.supports`,
 * [S, N, N], set by the caller) are shared by all blocks, as in the paper; with `runtimeDropout` so is one
 * dropout-rate slot (state `<name>.dropout_rate`).
 */
import { ModelevoError } from '../../core/errors.js';
import type { ArenaPlanner, View } from '../arena.js';
import type { ArenaArray, GemmArgs } from '../kernels/kernels.js';
import { batchNorm } from './batch-norm.js';
import { conv1d } from './conv1d.js';
import { buildDropout } from './dropout.js';
import { gatedTemporalConv } from './gated-temporal-conv.js';
import { buildGraphDiffusionConv, type SharedSupports } from './graph-diffusion-conv.js';
import { adaptiveAdjacencyBackward, adaptiveAdjacencyForward, type AdaptiveAdjacencyViews } from './adaptive-adjacency.js';
import type { BuiltLayer, LayerKind } from './layer.js';

export interface GraphWaveNetSpec {
  readonly kind: 'graph_wavenet';
  readonly residualChannels: number;
  readonly dilationChannels: number;
  readonly skipChannels: number;
  readonly endChannels: number;
  /** output steps (12) */
  readonly horizons: number;
  /** one block per entry, gated TCN kernel 2 (paper: [1, 2, 1, 2, 1, 2, 1, 2]) */
  readonly dilations: readonly number[];
  /** number of fixed dense supports (P_f, P_b: 2) */
  readonly supports: number;
  /** diffusion steps per support (2) */
  readonly order?: number;
  /** rank of the adaptive adjacency's node embeddings (10; 0 = none) */
  readonly adaptiveRank?: number;
  /** dropout on the graph convolutions' outputs (0.3) */
  readonly dropout?: number;
  /**
   * keep the dropout rate in one state float `<name>.dropout_rate` (initialised to `dropout`) that all blocks
   * read each forward, so it can change between steps (SynEVO's per-group activation dropout)
   */
  readonly runtimeDropout?: boolean;
  /** y ← y·outputScale + outputShift at the end (the inverse z-score) */
  readonly outputScale?: number;
  readonly outputShift?: number;
}

export function gwnReceptiveField(dilations: readonly number[]): number {
  return 1 + dilations.reduce((a, d) => a + d, 0);
}

interface Block {
  readonly x: View;
  readonly dx: View;
  readonly dilation: number;
  readonly tcn: BuiltLayer;
  readonly dh: View;
  /** h's last step, [D, B·N] */
  readonly last: View;
  readonly dLast: View;
  readonly skipWeight: View & { grad: View };
  readonly skipBias: View & { grad: View };
  /** absent in the last block */
  readonly tail?: { gconv: BuiltLayer; dg: View; drop: BuiltLayer; dDrop: View; summed: View; dSummed: View; bn: BuiltLayer };
}

export const graphWaveNet: LayerKind<GraphWaveNetSpec> = {
  build(spec, { name, sampleShape, batch, input, planner }): BuiltLayer {
    if (sampleShape.length !== 3) {
      throw new ModelevoError('SHAPE_MISMATCH', `graph_wavenet '${name}' expects [channels, nodes, time] examples, got [${sampleShape.join(', ')}]`);
    }
    if (spec.dilations.length === 0) throw new ModelevoError('CONFIG_INVALID', `graph_wavenet '${name}' needs at least one block, got no dilations`);
    const [cin, nodes, time] = sampleShape as [number, number, number];
    const { residualChannels: R, dilationChannels: D, skipChannels: S, horizons } = spec;
    const order = spec.order ?? 2;
    const rank = spec.adaptiveRank ?? 0;
    const scale = spec.outputScale ?? 1;
    const shift = spec.outputShift ?? 0;
    const padded = Math.max(time, gwnReceptiveField(spec.dilations));
    const bn = batch * nodes;

    const paddedInput = padded === time ? input : planner.buffer('activation', `${name}.padded`, [batch, cin, nodes, padded]);
    const dPaddedInput = padded === time ? undefined : planner.buffer('scratch', `${name}.dPadded`, [batch, cin, nodes, padded]);
    const start = conv1d.build({ kind: 'conv1d', channels: R, kernel: 1 }, { name: `${name}.start`, sampleShape: [cin, nodes * padded], batch, input: paddedInput, planner });
    const adaptive = rank > 0 ? planAdaptive(planner, name, nodes, rank) : undefined;
    const dropoutRate = spec.runtimeDropout ? planner.buffer('state', `${name}.dropout_rate`, [1]) : undefined;
    const shared: SharedSupports = {
      supports: planner.buffer('state', `${name}.supports`, [spec.supports, nodes, nodes]),
      ...(adaptive ? { adaptive: { adjacency: adaptive.adjacency, adjacencyGrad: adaptive.grad } } : {}),
    };

    const blocks = buildBlocks(spec, name, planner, batch, nodes, start.output, padded, shared, dropoutRate);

    const { skipSum, skipRelu, dSkipRelu, dSkipSum, end1, dEnd1, end2, scaled, output, dEnd2 } = buildHead(spec, name, planner, batch, nodes);

    // offsets are filled in per call: the arena is laid out only after every layer is built
    const skipForward: GemmArgs = { transA: false, transB: false, m: S, n: bn, k: D, a: 0, lda: D, b: 0, ldb: bn, beta: 0, c: 0, ldc: bn };
    const skipWeightGrad: GemmArgs = { transA: false, transB: true, m: S, n: D, k: bn, a: 0, lda: bn, b: 0, ldb: bn, beta: 0, c: 0, ldc: D };
    const skipInputGrad: GemmArgs = { transA: true, transB: false, m: D, n: bn, k: S, a: 0, lda: D, b: 0, ldb: bn, beta: 0, c: 0, ldc: bn };

    return {
      output,
      sampleShape: [horizons, nodes],
      forward(ctx) {
        const k = ctx.kernels;
        const data = k.data;
        if (padded !== time) padTimeLeft(data, input.offset, paddedInput.offset, batch * cin * nodes, time, padded);
        start.forward(ctx);
        if (adaptive) adaptiveAdjacencyForward(k, adaptive, nodes, rank);
        blocks.forEach((block, i) => {
          block.tcn.forward(ctx);
          const [, , , hSteps] = block.tcn.output.shape as [number, number, number, number];
          gatherLastStep(data, block.tcn.output.offset, block.last.offset, batch, D, nodes, hSteps);
          skipForward.a = block.skipWeight.offset;
          skipForward.c = skipSum.offset;
          skipForward.b = block.last.offset;
          skipForward.beta = i === 0 ? 0 : 1;
          k.gemm(skipForward);
          k.channelBiasActivation(skipSum.offset, block.skipBias.offset, 1, S, bn, 'identity', -1);
          const tail = block.tail;
          if (!tail) return;
          tail.gconv.forward(ctx);
          tail.drop.forward(ctx);
          addTimeTail(data, tail.drop.output.offset, block.x.offset, tail.summed.offset, batch * R * nodes, hSteps + block.dilation, block.dilation, 1);
          tail.bn.forward(ctx);
        });
        k.swapAxes01(skipSum.offset, skipRelu.offset, S, batch, nodes);
        k.activation(skipRelu.offset, skipRelu.offset, skipRelu.size, 'relu');
        end1.forward(ctx);
        end2.forward(ctx);
        if (scaled) affine(data, end2.output.offset, output.offset, output.size, scale, shift);
      },
      backward(ctx, dOutput, dInput) {
        const k = ctx.kernels;
        const data = k.data;
        let dTop = dOutput;
        if (scaled) {
          affine(data, dOutput.offset, dEnd2!.offset, dEnd2!.size, scale, 0);
          dTop = dEnd2!;
        }
        end2.backward(ctx, dTop, dEnd1);
        end1.backward(ctx, dEnd1, dSkipRelu);
        k.activationBackward(dSkipRelu.offset, -1, skipRelu.offset, dSkipRelu.offset, dSkipRelu.size, 'relu');
        k.swapAxes01(dSkipRelu.offset, dSkipSum.offset, batch, S, nodes);
        if (adaptive) data.fill(0, adaptive.grad.offset, adaptive.grad.offset + adaptive.grad.size);
        for (let i = blocks.length - 1; i >= 0; i--) {
          const block = blocks[i]!;
          const [, , , hSteps] = block.tcn.output.shape as [number, number, number, number];
          k.channelSums(dSkipSum.offset, 1, S, bn, block.skipBias.grad.offset);
          skipWeightGrad.a = dSkipSum.offset;
          skipWeightGrad.b = block.last.offset;
          skipWeightGrad.c = block.skipWeight.grad.offset;
          k.gemm(skipWeightGrad);
          skipInputGrad.a = block.skipWeight.offset;
          skipInputGrad.b = dSkipSum.offset;
          skipInputGrad.c = block.dLast.offset;
          k.gemm(skipInputGrad);
          const tail = block.tail;
          if (tail) {
            // blocks[i + 1].dx holds dL/dx_{i+1}, the BN's output gradient
            tail.bn.backward(ctx, blocks[i + 1]!.dx, tail.dSummed);
            tail.drop.backward(ctx, tail.dSummed, tail.dDrop);
            tail.gconv.backward(ctx, tail.dDrop, block.dh);
          } else {
            data.fill(0, block.dh.offset, block.dh.offset + block.dh.size);
          }
          scatterAddLastStep(data, block.dLast.offset, block.dh.offset, batch, D, nodes, hSteps);
          block.tcn.backward(ctx, block.dh, block.dx);
          // the residual: x_i[..., d:] was added to the dropout output
          if (tail) addTimeTail(data, tail.dSummed.offset, block.dx.offset, block.dx.offset, batch * R * nodes, hSteps + block.dilation, block.dilation, -1);
        }
        if (adaptive) adaptiveAdjacencyBackward(k, adaptive, nodes, rank);
        const dStartInput = dInput === null ? null : padded === time ? dInput : dPaddedInput!;
        start.backward(ctx, blocks[0]!.dx, dStartInput);
        if (dInput && padded !== time) unpadTimeLeft(data, dPaddedInput!.offset, dInput.offset, batch * cin * nodes, time, padded);
      },
      reset(data) {
        for (const part of [start, ...blocks.flatMap((b) => [b.tcn, ...(b.tail ? [b.tail.gconv, b.tail.drop, b.tail.bn] : [])]), end1, end2]) part.reset?.(data);
        // identity supports until the caller sets real ones
        const { supports } = shared;
        data.fill(0, supports.offset, supports.offset + supports.size);
        for (let s = 0; s < spec.supports; s++) for (let v = 0; v < nodes; v++) data[supports.offset + (s * nodes + v) * nodes + v] = 1;
        if (dropoutRate) data[dropoutRate.offset] = spec.dropout ?? 0;
      },
    };
  },
};

/** Graph WaveNet's adaptive adjacency: node embeddings E₁ [N, r], E₂ [r, N] and Ã's buffers. */
function planAdaptive(planner: ArenaPlanner, name: string, nodes: number, rank: number): AdaptiveAdjacencyViews {
  const emb1 = planner.param(`${name}.node_emb1`, [nodes, rank], { kind: 'normal', std: 1 });
  const emb2 = planner.param(`${name}.node_emb2`, [rank, nodes], { kind: 'normal', std: 1 });
  const pre = planner.buffer('activation', `${name}.adaptivePre`, [nodes, nodes]);
  const adjacency = planner.buffer('activation', `${name}.adaptive`, [nodes, nodes]);
  const grad = planner.buffer('scratch', `${name}.dAdaptive`, [nodes, nodes]);
  return { emb1, emb2, pre, adjacency, grad };
}

/** The output head: the skips' sum, its ReLU, the two end convolutions and the optional output affine. */
function buildHead(spec: GraphWaveNetSpec, name: string, planner: ArenaPlanner, batch: number, nodes: number) {
  const { skipChannels: S, endChannels: E, horizons } = spec;
  const bn = batch * nodes;
  const scale = spec.outputScale ?? 1;
  const shift = spec.outputShift ?? 0;
  // skips summed in [S, B·N]; ReLU'd and swapped to [B, S, N] for the end convolutions
  const skipSum = planner.buffer('activation', `${name}.skipSum`, [S, bn]);
  const skipRelu = planner.buffer('activation', `${name}.skipRelu`, [batch, S, nodes]);
  const dSkipRelu = planner.buffer('activationGrad', `${name}.dSkipRelu`, skipRelu.shape);
  const dSkipSum = planner.buffer('scratch', `${name}.dSkipSum`, skipSum.shape);
  const end1 = conv1d.build({ kind: 'conv1d', channels: E, kernel: 1, activation: 'relu' }, { name: `${name}.end1`, sampleShape: [S, nodes], batch, input: skipRelu, planner });
  const dEnd1 = planner.buffer('activationGrad', `${name}.dEnd1`, end1.output.shape);
  const end2 = conv1d.build({ kind: 'conv1d', channels: horizons, kernel: 1 }, { name: `${name}.end2`, sampleShape: [E, nodes], batch, input: end1.output, planner });
  const scaled = scale !== 1 || shift !== 0;
  const output = scaled ? planner.buffer('activation', `${name}.out`, end2.output.shape) : end2.output;
  const dEnd2 = scaled ? planner.buffer('scratch', `${name}.dEnd2`, end2.output.shape) : undefined;
  return { skipSum, skipRelu, dSkipRelu, dSkipSum, end1, dEnd1, end2, scaled, output, dEnd2 };
}

/** The blocks (gated TCN, skip projection, and except in the last one graph convolution, dropout, residual, BN). */
function buildBlocks(spec: GraphWaveNetSpec, name: string, planner: ArenaPlanner, batch: number, nodes: number, input: View, padded: number, shared: SharedSupports, dropoutRate: View | undefined): Block[] {
  const { residualChannels: R, dilationChannels: D, skipChannels: S } = spec;
  const order = spec.order ?? 2;
  const bn = batch * nodes;
  const blocks: Block[] = [];
  let x = input;
  let steps = padded;
  spec.dilations.forEach((dilation, i) => {
    const prefix = `${name}.layers.${i}`;
    const blockInput = x;
    const dx = planner.buffer('activationGrad', `${prefix}.dIn`, x.shape);
    const tcn = gatedTemporalConv.build({ kind: 'gated_temporal_conv', channels: D, kernel: 2, dilation }, { name: `${prefix}.tcn`, sampleShape: [R, nodes, steps], batch, input: x, planner });
    const outSteps = steps - dilation;
    const dh = planner.buffer('activationGrad', `${prefix}.dh`, tcn.output.shape);
    const last = planner.buffer('activation', `${prefix}.last`, [D, bn]);
    const dLast = planner.buffer('scratch', `${prefix}.dLast`, [D, bn]);
    const bound = 1 / Math.sqrt(D);
    const skipWeight = planner.param(`${prefix}.skip.weight`, [S, D], { kind: 'uniform', bound });
    const skipBias = planner.param(`${prefix}.skip.bias`, [S], { kind: 'uniform', bound });
    let tail: Block['tail'];
    if (i < spec.dilations.length - 1) {
      const inner = { sampleShape: [D, nodes, outSteps], batch, input: tcn.output, planner };
      const gconv = buildGraphDiffusionConv({ kind: 'graph_diffusion_conv', channels: R, supports: spec.supports, order }, { ...inner, name: `${prefix}.gconv` }, shared);
      const dg = planner.buffer('activationGrad', `${prefix}.dg`, gconv.output.shape);
      const drop = buildDropout({ kind: 'dropout', rate: spec.dropout ?? 0 }, { name: `${prefix}.dropout`, sampleShape: [R, nodes, outSteps], batch, input: gconv.output, planner }, dropoutRate);
      const dDrop = planner.buffer('activationGrad', `${prefix}.dDrop`, drop.output.shape);
      const summed = planner.buffer('activation', `${prefix}.summed`, drop.output.shape);
      const dSummed = planner.buffer('activationGrad', `${prefix}.dSummed`, summed.shape);
      const norm = batchNorm.build({ kind: 'batch_norm', momentum: 0.1, eps: 1e-5 }, { name: `${prefix}.bn`, sampleShape: [R, nodes * outSteps], batch, input: summed, planner });
      tail = { gconv, dg, drop, dDrop, summed, dSummed, bn: norm };
      x = norm.output;
    }
    blocks.push({ x: blockInput, dx, dilation, tcn, dh, last, dLast, skipWeight, skipBias, ...(tail ? { tail } : {}) });
    steps = outSteps;
  });
  return blocks;
}

/** rows of `time` values → rows of `padded` values, zeros first (causal left padding) */
function padTimeLeft(data: ArenaArray, from: number, to: number, rows: number, time: number, padded: number): void {
  const gap = padded - time;
  for (let r = 0; r < rows; r++) {
    const src = from + r * time;
    const dst = to + r * padded;
    data.fill(0, dst, dst + gap);
    data.copyWithin(dst + gap, src, src + time);
  }
}

/** the adjoint of padTimeLeft: drops the padded steps' gradient */
function unpadTimeLeft(data: ArenaArray, from: number, to: number, rows: number, time: number, padded: number): void {
  const gap = padded - time;
  for (let r = 0; r < rows; r++) data.copyWithin(to + r * time, from + r * padded + gap, from + (r + 1) * padded);
}

/**
 * Residual join over rows. Forward (direction 1): out[r, t] = a[r, t] + x[r, t + d] (a has `long − d` steps, x
 * has `long`). Backward (direction −1): x[r, t + d] += a[r, t], the gradient flowing into the residual.
 */
function addTimeTail(data: ArenaArray, a: number, x: number, out: number, rows: number, long: number, d: number, direction: 1 | -1): void {
  const short = long - d;
  for (let r = 0; r < rows; r++) {
    const ar = a + r * short;
    const xr = x + r * long + d;
    if (direction === 1) {
      const or = out + r * short;
      for (let t = 0; t < short; t++) data[or + t] = data[ar + t]! + data[xr + t]!;
    } else {
      for (let t = 0; t < short; t++) data[xr + t] = data[xr + t]! + data[ar + t]!;
    }
  }
}

/** h [B, D, N, T] → last [D, B·N] = h[:, :, :, T − 1] */
function gatherLastStep(data: ArenaArray, h: number, last: number, batch: number, channels: number, nodes: number, steps: number): void {
  for (let b = 0; b < batch; b++) for (let c = 0; c < channels; c++) {
    const src = h + ((b * channels + c) * nodes) * steps + steps - 1;
    const dst = last + (c * batch + b) * nodes;
    for (let n = 0; n < nodes; n++) data[dst + n] = data[src + n * steps]!;
  }
}

/** the adjoint of gatherLastStep, accumulated: dh[:, :, :, T − 1] += dLast */
function scatterAddLastStep(data: ArenaArray, dLast: number, dh: number, batch: number, channels: number, nodes: number, steps: number): void {
  for (let b = 0; b < batch; b++) for (let c = 0; c < channels; c++) {
    const dst = dh + ((b * channels + c) * nodes) * steps + steps - 1;
    const src = dLast + (c * batch + b) * nodes;
    for (let n = 0; n < nodes; n++) data[dst + n * steps] = data[dst + n * steps]! + data[src + n]!;
  }
}

function affine(data: ArenaArray, from: number, to: number, n: number, scale: number, shift: number): void {
  for (let i = 0; i < n; i++) data[to + i] = data[from + i]! * scale + shift;
}
