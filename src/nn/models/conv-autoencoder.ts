/**
 * The AD-NEv conv autoencoder's layer stack on the engine (the architecture of src/neuro/conv-autoencoder.ts,
 * restated here from its plan so src/nn does not import src/neuro): a window of W time steps × F features
 * is W channels of length F; encoder Conv1d + BatchNorm + ReLU per layer (padding ⌊k/2⌋), decoder
 * ConvTranspose1d + BatchNorm + ReLU mirroring it, the last decoder layer linear; MSE against the input.
 */
import type { LayerSpec } from '../layers/registry.js';
import type { ModelSpec } from '../model.js';

export interface ConvAutoencoderPlan {
  readonly window: number;
  readonly features: number;
  readonly encoder: readonly { readonly channels: number; readonly kernel: number; readonly stride: number; readonly padding: number }[];
  readonly decoder: readonly { readonly outChannels: number; readonly kernel: number; readonly stride: number; readonly padding: number; readonly outputPadding: number }[];
}

/** the hand-configured baseline member on a 10 × 25 window (channels 32/64, kernel 3, strides 1/2) */
export const BASELINE_AUTOENCODER: ConvAutoencoderPlan = {
  window: 10,
  features: 25,
  encoder: [
    { channels: 32, kernel: 3, stride: 1, padding: 1 },
    { channels: 64, kernel: 3, stride: 2, padding: 1 },
  ],
  decoder: [
    { outChannels: 32, kernel: 3, stride: 2, padding: 1, outputPadding: 0 },
    { outChannels: 10, kernel: 3, stride: 1, padding: 1, outputPadding: 0 },
  ],
};

export function convAutoencoderSpec(plan: ConvAutoencoderPlan): ModelSpec {
  const layers: LayerSpec[] = [];
  for (const e of plan.encoder) {
    layers.push({ kind: 'conv1d', channels: e.channels, kernel: e.kernel, stride: e.stride, padding: e.padding });
    layers.push({ kind: 'batch_norm' });
    layers.push({ kind: 'activation', fn: 'relu' });
  }
  plan.decoder.forEach((d, i) => {
    layers.push({ kind: 'conv_transpose1d', channels: d.outChannels, kernel: d.kernel, stride: d.stride, padding: d.padding, outputPadding: d.outputPadding });
    if (i + 1 < plan.decoder.length) {
      layers.push({ kind: 'batch_norm' });
      layers.push({ kind: 'activation', fn: 'relu' });
    }
  });
  return { inputShape: [plan.window, plan.features], layers, loss: { kind: 'mse' } };
}
