/**
 * AD-NEv's 1-D convolutional autoencoder (Faber et al., AD-NEv, arXiv 2303.11358; ad-nev.md §1.2,
 * `autoencoders/ConvAutoencoder.py`). A window of W time steps × F features is fed as W channels of length F,
 * so the convolutions slide along the feature axis. Encoder: Conv1d + BatchNorm1d + ReLU per layer, padding
 * 1 if the current length ≥ kernel else ⌊kernel/2⌋; optional FC bottleneck of ⌊ratio·input⌋ units, mirrored;
 * decoder: ConvTranspose1d + BN + ReLU mirroring the encoder, the last layer linear back to W channels (the
 * data lie in [−1, 1], so a final ReLU would clip them). Skip connections add each encoder activation to the
 * decoder activation of the same shape. Anomaly score = mean squared reconstruction error (§3.2).
 */
import { createRng } from '../../core/rng.js';
import { convOutputLength } from '../../nn/layers/conv1d.js';

const conv1dOutputLength = (length: number, kernel: number, stride: number, padding: number): number => convOutputLength(length, kernel, stride, padding, 1);
/** torch.nn.ConvTranspose1d's output length (dilation 1) */
const convTranspose1dOutputLength = (length: number, kernel: number, stride: number, padding: number, outputPadding: number): number =>
  (length - 1) * stride - 2 * padding + kernel + outputPadding;

export interface ConvLayerGene {
  readonly channels: number;
  readonly kernel: number;
  readonly stride: number;
}

export interface ConvAutoencoderGenome {
  /** time steps per window = input channels */
  readonly window: number;
  readonly convLayers: readonly ConvLayerGene[];
  /** FC bottleneck ratios (each layer ⌊ratio·input⌋ units); empty = none */
  readonly fcRatios: readonly number[];
  readonly optimizer: 'adam' | 'sgd';
  readonly learningRate: number;
  readonly loss: 'mse' | 'l1';
  readonly skip: boolean;
}

/** modelevo's default search space (ad-nev.md §1.2; covers the paper's evolved models). */
export const SEARCH_SPACE = {
  window: [2, 10],
  convLayers: [1, 6],
  channels: [16, 1024],
  kernel: [2, 7],
  stride: [1, 2],
  fcLayers: [0, 2],
  fcRatio: [0.25, 0.9],
  learningRate: [1e-6, 1e-2],
} as const;

/** A hand-configured member used as the baseline and as level 2's starting point. */
export const BASELINE_GENOME: ConvAutoencoderGenome = {
  window: 5,
  convLayers: [
    { channels: 32, kernel: 3, stride: 1 },
    { channels: 64, kernel: 3, stride: 2 },
  ],
  fcRatios: [],
  optimizer: 'adam',
  learningRate: 1e-3,
  loss: 'mse',
  skip: false,
};

export interface EncoderLayerPlan extends ConvLayerGene {
  readonly inChannels: number;
  readonly inLength: number;
  readonly padding: number;
  readonly outLength: number;
}

export interface DecoderLayerPlan {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly outputPadding: number;
  readonly outLength: number;
  /** index of the encoder activation added after this layer (skip connection), if any */
  readonly skipFrom: number | undefined;
  readonly last: boolean;
}

export interface AutoencoderPlan {
  readonly window: number;
  readonly features: number;
  readonly encoder: readonly EncoderLayerPlan[];
  /** unit counts of the FC bottleneck, starting with the flattened encoder output */
  readonly fcUnits: readonly number[];
  readonly decoder: readonly DecoderLayerPlan[];
}

/** Shape plan of the network for `features` input features, or a reason why the genome is invalid. */
export function planAutoencoder(genome: ConvAutoencoderGenome, features: number): AutoencoderPlan | { invalid: string } {
  if (!Number.isInteger(genome.window) || genome.window < 1) return { invalid: `window ${genome.window} is not a positive integer` };
  if (genome.convLayers.length === 0) return { invalid: 'at least one conv layer is required' };
  const encoder: EncoderLayerPlan[] = [];
  let channels = genome.window;
  let length = features;
  for (const [i, layer] of genome.convLayers.entries()) {
    if (layer.kernel < 1 || layer.stride < 1 || layer.channels < 1) return { invalid: `conv layer ${i} has a non-positive size` };
    const padding = length >= layer.kernel ? 1 : Math.floor(layer.kernel / 2);
    if (padding > layer.kernel - 1) return { invalid: `conv layer ${i}: padding ${padding} > kernel − 1 (kernel ${layer.kernel})` };
    const outLength = conv1dOutputLength(length, layer.kernel, layer.stride, padding);
    if (outLength < 1) return { invalid: `conv layer ${i}: length ${length} too short for kernel ${layer.kernel}` };
    encoder.push({ ...layer, inChannels: channels, inLength: length, padding, outLength });
    channels = layer.channels;
    length = outLength;
  }
  const fcUnits = [channels * length];
  for (const ratio of genome.fcRatios) {
    const units = Math.floor(ratio * fcUnits[fcUnits.length - 1]!);
    if (units < 1) return { invalid: `FC ratio ${ratio} leaves no units` };
    fcUnits.push(units);
  }
  const decoder: DecoderLayerPlan[] = [];
  for (let i = encoder.length - 1; i >= 0; i--) {
    const layer = encoder[i]!;
    const target = layer.inLength;
    const base = convTranspose1dOutputLength(layer.outLength, layer.kernel, layer.stride, layer.padding, 0);
    decoder.push({
      inChannels: layer.channels,
      outChannels: layer.inChannels,
      kernel: layer.kernel,
      stride: layer.stride,
      padding: layer.padding,
      outputPadding: target - base,
      outLength: target,
      skipFrom: genome.skip && i > 0 ? i - 1 : undefined,
      last: i === 0,
    });
  }
  return { window: genome.window, features, encoder, fcUnits, decoder };
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** trainable by gradient descent (BN running statistics are not) */
  readonly trainable: boolean;
  /** fan-in for the uniform initialiser; 0 = constant init */
  readonly fanIn: number;
  readonly constant?: number;
}

/** Parameter names and shapes in PyTorch layout (weights [out, in, k], ConvTranspose [in, out, k]). */
export function parameterSpecs(plan: AutoencoderPlan): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const batchNorm = (prefix: string, channels: number): void => {
    specs.push({ name: `${prefix}.bn.weight`, shape: [channels], trainable: true, fanIn: 0, constant: 1 });
    specs.push({ name: `${prefix}.bn.bias`, shape: [channels], trainable: true, fanIn: 0, constant: 0 });
    specs.push({ name: `${prefix}.bn.running_mean`, shape: [channels], trainable: false, fanIn: 0, constant: 0 });
    specs.push({ name: `${prefix}.bn.running_var`, shape: [channels], trainable: false, fanIn: 0, constant: 1 });
  };
  plan.encoder.forEach((layer, i) => {
    const fanIn = layer.inChannels * layer.kernel;
    specs.push({ name: `encoder.${i}.weight`, shape: [layer.channels, layer.inChannels, layer.kernel], trainable: true, fanIn });
    specs.push({ name: `encoder.${i}.bias`, shape: [layer.channels], trainable: true, fanIn });
    batchNorm(`encoder.${i}`, layer.channels);
  });
  for (let i = 1; i < plan.fcUnits.length; i++) {
    const [from, to] = [plan.fcUnits[i - 1]!, plan.fcUnits[i]!];
    specs.push({ name: `fc_in.${i - 1}.weight`, shape: [to, from], trainable: true, fanIn: from });
    specs.push({ name: `fc_in.${i - 1}.bias`, shape: [to], trainable: true, fanIn: from });
    specs.push({ name: `fc_out.${i - 1}.weight`, shape: [from, to], trainable: true, fanIn: to });
    specs.push({ name: `fc_out.${i - 1}.bias`, shape: [from], trainable: true, fanIn: to });
  }
  plan.decoder.forEach((layer, i) => {
    const fanIn = layer.outChannels * layer.kernel; // torch's ConvTranspose fan-in uses weight.size(1)·k
    specs.push({ name: `decoder.${i}.weight`, shape: [layer.inChannels, layer.outChannels, layer.kernel], trainable: true, fanIn });
    specs.push({ name: `decoder.${i}.bias`, shape: [layer.outChannels], trainable: true, fanIn });
    if (!layer.last) batchNorm(`decoder.${i}`, layer.outChannels);
  });
  return specs;
}

/** Plain float32 weights by parameter name: the unit saved to safetensors and sent between workers. */
export type ModelWeights = Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

/** Seeded initial weights: U(−1/√fanIn, 1/√fanIn) (torch's default bound for conv and linear layers). */
export function initialWeights(plan: AutoencoderPlan, seed: number | string): ModelWeights {
  const weights: ModelWeights = {};
  for (const spec of parameterSpecs(plan)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (spec.fanIn > 0) {
      const rng = createRng('conv-autoencoder-init', seed, spec.name);
      const bound = 1 / Math.sqrt(spec.fanIn);
      for (let i = 0; i < size; i++) data[i] = (2 * rng.next() - 1) * bound;
    } else {
      data.fill(spec.constant ?? 0);
    }
    weights[spec.name] = { shape: spec.shape, data };
  }
  return weights;
}

/** Number of trainable and stored parameters. */
export function parameterCount(plan: AutoencoderPlan): number {
  return parameterSpecs(plan).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
}
