/**
 * Graph WaveNet's configuration, tensor names and shapes, seeded initialisation and supports (Wu et al., IJCAI
 * 2019, arXiv 1906.00121; spatiotemporal.md §1): the plain data both implementations share (the engine's
 * gwn-engine.ts and the tfjs reference forward in test/support/gwn-tfjs.ts), free of any tensor library.
 */
import { createRng } from '../core/rng.js';

export interface GraphWaveNetConfig {
  readonly nodes: number;
  readonly inChannels: number;
  readonly residualChannels: number;
  readonly dilationChannels: number;
  readonly skipChannels: number;
  readonly endChannels: number;
  readonly horizons: number;
  readonly dilations: readonly number[];
  /** diffusion steps K per support */
  readonly order: number;
  /** use the adaptive adjacency softmax(ReLU(E₁E₂)) */
  readonly adaptive: boolean;
  readonly embeddingRank: number;
  readonly dropout: number;
}

/** The paper's configuration (spatiotemporal.md §1) for `nodes` sensors and 2 input channels. */
export function defaultGwnConfig(nodes: number, overrides: Partial<GraphWaveNetConfig> = {}): GraphWaveNetConfig {
  return {
    nodes,
    inChannels: 2,
    residualChannels: 32,
    dilationChannels: 32,
    skipChannels: 256,
    endChannels: 512,
    horizons: 12,
    dilations: [1, 2, 1, 2, 1, 2, 1, 2],
    order: 2,
    adaptive: true,
    embeddingRank: 10,
    dropout: 0.3,
    ...overrides,
  };
}

export function receptiveField(config: Pick<GraphWaveNetConfig, 'dilations'>): number {
  return 1 + config.dilations.reduce((a, d) => a + d, 0);
}

export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly fanIn: number;
  readonly kind: 'weight' | 'bias' | 'embedding' | 'bn-scale' | 'bn-shift' | 'running-mean' | 'running-var';
}

export function parameterSpecs(config: GraphWaveNetConfig, predefinedSupports: number): ParameterSpec[] {
  const { inChannels: cin, residualChannels: r, dilationChannels: d, skipChannels: s, endChannels: e, horizons } = config;
  const supports = predefinedSupports + (config.adaptive ? 1 : 0);
  const mixed = (1 + config.order * supports) * d;
  const dense = (name: string, fanIn: number, out: number): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [fanIn, out], fanIn, kind: 'weight' },
    { name: `${name}.bias`, shape: [out], fanIn, kind: 'bias' },
  ];
  const specs: ParameterSpec[] = [...dense('start', cin, r)];
  if (config.adaptive) {
    specs.push({ name: 'node_emb1', shape: [config.nodes, config.embeddingRank], fanIn: 1, kind: 'embedding' });
    specs.push({ name: 'node_emb2', shape: [config.embeddingRank, config.nodes], fanIn: 1, kind: 'embedding' });
  }
  config.dilations.forEach((_, i) => {
    // kernel taps x[t] and x[t+d] stacked on the input axis; filter and gate columns side by side
    specs.push(...dense(`layers.${i}.tcn`, 2 * r, 2 * d));
    specs.push(...dense(`layers.${i}.skip`, d, s));
    specs.push(...dense(`layers.${i}.gconv`, mixed, r));
    specs.push({ name: `layers.${i}.bn.weight`, shape: [r], fanIn: 1, kind: 'bn-scale' });
    specs.push({ name: `layers.${i}.bn.bias`, shape: [r], fanIn: 1, kind: 'bn-shift' });
    specs.push({ name: `layers.${i}.bn.running_mean`, shape: [r], fanIn: 1, kind: 'running-mean' });
    specs.push({ name: `layers.${i}.bn.running_var`, shape: [r], fanIn: 1, kind: 'running-var' });
  });
  specs.push(...dense('end1', s, e), ...dense('end2', e, horizons));
  return specs;
}

export type GwnWeights = Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

export function isTrainable(spec: ParameterSpec): boolean {
  return spec.kind !== 'running-mean' && spec.kind !== 'running-var';
}

/** Seeded init with PyTorch's conv defaults (U(±1/√fan_in) for weights and biases) and N(0, 1) embeddings. */
export function initialGwnWeights(config: GraphWaveNetConfig, predefinedSupports: number, seed: number | string): GwnWeights {
  const weights: GwnWeights = {};
  for (const spec of parameterSpecs(config, predefinedSupports)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const rng = createRng('gwn-init', seed, spec.name);
    const bound = 1 / Math.sqrt(spec.fanIn);
    for (let i = 0; i < size; i++) {
      if (spec.kind === 'weight' || spec.kind === 'bias') data[i] = (2 * rng.next() - 1) * bound;
      else if (spec.kind === 'embedding') data[i] = rng.normal();
      else if (spec.kind === 'bn-scale' || spec.kind === 'running-var') data[i] = 1;
    }
    weights[spec.name] = { shape: spec.shape, data };
  }
  return weights;
}

/** P_f = A / rowsum(A) and P_b = Aᵀ / rowsum(Aᵀ) (DCRNN "doubletransition"); a zero row stays zero. */
export function transitionMatrices(adjacency: ArrayLike<number>, nodes: number): [Float32Array, Float32Array] {
  const forward = new Float32Array(nodes * nodes);
  const backward = new Float32Array(nodes * nodes);
  for (let i = 0; i < nodes; i++) {
    let rowSum = 0;
    let columnSum = 0;
    for (let j = 0; j < nodes; j++) {
      rowSum += adjacency[i * nodes + j]!;
      columnSum += adjacency[j * nodes + i]!;
    }
    for (let j = 0; j < nodes; j++) {
      forward[i * nodes + j] = rowSum > 0 ? adjacency[i * nodes + j]! / rowSum : 0;
      backward[i * nodes + j] = columnSum > 0 ? adjacency[j * nodes + i]! / columnSum : 0;
    }
  }
  return [forward, backward];
}
