/** The literal layer registry: `LayerSpec['kind']` is the union of its keys. */
import type { BuildInput, BuiltLayer, LayerKind } from './layer.js';
import { linear, type LinearSpec } from './linear.js';
import { activation, type ActivationSpec } from './activation.js';
import { dropout, type DropoutSpec } from './dropout.js';
import { UnknownNameError } from '../../core/errors.js';

export type LayerSpec = LinearSpec | ActivationSpec | DropoutSpec;
export type LayerKindName = LayerSpec['kind'];

export const LAYERS: { readonly [K in LayerKindName]: LayerKind<Extract<LayerSpec, { kind: K }>> } = {
  linear,
  activation,
  dropout,
};

export function buildLayer(spec: LayerSpec, at: BuildInput): BuiltLayer {
  const kind = (LAYERS as Record<string, LayerKind<LayerSpec> | undefined>)[spec.kind];
  if (!kind) throw new UnknownNameError('layer kind', spec.kind, Object.keys(LAYERS));
  return kind.build(spec, at);
}
