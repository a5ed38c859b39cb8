/** The literal layer registry: `LayerSpec['kind']` is the union of its keys. */
import type { BuildInput, BuiltLayer, LayerKind } from './layer.js';
import { linear, type LinearSpec } from './linear.js';
import { activation, type ActivationSpec } from './activation.js';
import { dropout, type DropoutSpec } from './dropout.js';
import { conv1d, type Conv1dSpec } from './conv1d.js';
import { convTranspose1d, type ConvTranspose1dSpec } from './conv-transpose1d.js';
import { batchNorm, type BatchNormSpec } from './batch-norm.js';
import { layerNorm, type LayerNormSpec } from './layer-norm.js';
import { gatedTemporalConv, type GatedTemporalConvSpec } from './gated-temporal-conv.js';
import { graphDiffusionConv, type GraphDiffusionConvSpec } from './graph-diffusion-conv.js';
import { residualKind, type ResidualSpec } from './residual.js';
import { reshape, type ReshapeSpec } from './reshape.js';
import { graphWaveNet, type GraphWaveNetSpec } from './graph-wavenet.js';
import { branchProduct, type BranchProductSpec } from './branch-product.js';
import { UnknownNameError } from '../../core/errors.js';

export type LayerSpec = LinearSpec | ActivationSpec | DropoutSpec | Conv1dSpec | ConvTranspose1dSpec | BatchNormSpec | LayerNormSpec | GatedTemporalConvSpec | GraphDiffusionConvSpec | GraphWaveNetSpec | BranchProductSpec | ResidualSpec<LayerSpec> | ReshapeSpec;
export type LayerKindName = LayerSpec['kind'];

export const LAYERS: { readonly [K in LayerKindName]: LayerKind<Extract<LayerSpec, { kind: K }>> } = {
  linear,
  activation,
  dropout,
  conv1d,
  conv_transpose1d: convTranspose1d,
  batch_norm: batchNorm,
  layer_norm: layerNorm,
  gated_temporal_conv: gatedTemporalConv,
  graph_diffusion_conv: graphDiffusionConv,
  residual: residualKind<LayerSpec>(buildLayer),
  reshape,
  graph_wavenet: graphWaveNet,
  branch_product: branchProduct,
};

export function buildLayer(spec: LayerSpec, at: BuildInput): BuiltLayer {
  const kind = (LAYERS as Record<string, LayerKind<LayerSpec> | undefined>)[spec.kind];
  if (!kind) throw new UnknownNameError('layer kind', spec.kind, Object.keys(LAYERS));
  return kind.build(spec, at);
}
