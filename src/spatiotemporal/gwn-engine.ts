/**
 * Graph WaveNet on the training engine (src/nn, issue #22): the `ModelSpec` of a `GraphWaveNetConfig` (one
 * `graph_wavenet` layer, masked MAE on raw labels) and the translation between the engine's tensors and the
 * named `GwnWeights` the rest of src/spatiotemporal, its results and its checkpoints use (the layouts of
 * test/support/gwn-tfjs.ts: dense weights [in, out], the TCN's two taps stacked on rows, filter and gate columns side by
 * side). Copying by name both ways lets old weights load into the engine and engine weights feed ComS2T's
 * weight split unchanged.
 *
 * The engine does not build the last block's graph convolution and BatchNorm (they only feed a residual stream
 * nothing reads; see src/nn/layers/graph-wavenet.ts): those tensors are kept aside here as they were given.
 */
import type { Model, ModelSpec } from '../nn/model.js';
import type { GraphWaveNetSpec } from '../nn/layers/graph-wavenet.js';
import { ModelevoError } from '../core/errors.js';
import { parameterSpecs, type GraphWaveNetConfig, type GwnWeights } from './gwn-config.js';

/** the engine's name of the model's only layer: its parameter prefix */
export const GWN_LAYER = '0.graph_wavenet';

export interface GwnSpecOptions {
  /** the dropout rate in a state slot, changeable between steps (graph_wavenet `runtimeDropout`) */
  readonly runtimeDropout?: boolean;
}

export function gwnLayerSpec(config: GraphWaveNetConfig, predefinedSupports: number, scaler: { readonly mean: number; readonly std: number }, options: GwnSpecOptions = {}): GraphWaveNetSpec {
  return {
    kind: 'graph_wavenet',
    residualChannels: config.residualChannels,
    dilationChannels: config.dilationChannels,
    skipChannels: config.skipChannels,
    endChannels: config.endChannels,
    horizons: config.horizons,
    dilations: config.dilations,
    supports: predefinedSupports,
    order: config.order,
    adaptiveRank: config.adaptive ? config.embeddingRank : 0,
    dropout: config.dropout,
    ...(options.runtimeDropout ? { runtimeDropout: true } : {}),
    outputScale: scaler.std,
    outputShift: scaler.mean,
  };
}

/** inputs [C_in, N, steps] per example → forecasts [horizons, N] in data units; masked MAE with 0 = missing */
export function gwnModelSpec(config: GraphWaveNetConfig, predefinedSupports: number, scaler: { readonly mean: number; readonly std: number }, inputSteps: number, options: GwnSpecOptions = {}): ModelSpec {
  return {
    inputShape: [config.inChannels, config.nodes, inputSteps],
    layers: [gwnLayerSpec(config, predefinedSupports, scaler, options)],
    loss: { kind: 'masked_mae', nullValue: 0 },
  };
}

type Reader = (engineName: string) => ArrayLike<number>;

/** One tfjs-layout tensor as a function of engine tensors, and back. */
interface Mapping {
  readonly engine: readonly string[];
  fromEngine(read: Reader, out: Float32Array): void;
  toEngine(data: ArrayLike<number>, write: (engineName: string, index: number, value: number) => void): void;
}

const same = (engineName: string): Mapping => ({
  engine: [engineName],
  fromEngine: (read, out) => out.set(read(engineName)),
  toEngine: (data, write) => {
    for (let i = 0; i < data.length; i++) write(engineName, i, data[i]!);
  },
});

/** tfjs [rows, cols] ↔ engine [cols, rows] (dense layers vs 1×1 convolutions) */
const transposed = (engineName: string, rows: number, cols: number): Mapping => ({
  engine: [engineName],
  fromEngine: (read, out) => {
    const e = read(engineName);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = e[c * rows + r]!;
  },
  toEngine: (data, write) => {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) write(engineName, c * rows + r, data[r * cols + c]!);
  },
});

/** tfjs TCN weight [2R, 2D] (row k·R + c: tap k, input c; column o: filter, D + o: gate) ↔ filter/gate [D, R, 2] */
const tcnWeight = (prefix: string, r: number, d: number): Mapping => {
  const filter = `${prefix}.filter.weight`;
  const gate = `${prefix}.gate.weight`;
  return {
    engine: [filter, gate],
    fromEngine: (read, out) => {
      const f = read(filter);
      const g = read(gate);
      for (let k = 0; k < 2; k++) for (let c = 0; c < r; c++) for (let o = 0; o < d; o++) {
        out[(k * r + c) * 2 * d + o] = f[(o * r + c) * 2 + k]!;
        out[(k * r + c) * 2 * d + d + o] = g[(o * r + c) * 2 + k]!;
      }
    },
    toEngine: (data, write) => {
      for (let k = 0; k < 2; k++) for (let c = 0; c < r; c++) for (let o = 0; o < d; o++) {
        write(filter, (o * r + c) * 2 + k, data[(k * r + c) * 2 * d + o]!);
        write(gate, (o * r + c) * 2 + k, data[(k * r + c) * 2 * d + d + o]!);
      }
    },
  };
};

/** tfjs TCN bias [2D] ↔ filter bias [D], gate bias [D] */
const tcnBias = (prefix: string, d: number): Mapping => {
  const filter = `${prefix}.filter.bias`;
  const gate = `${prefix}.gate.bias`;
  return {
    engine: [filter, gate],
    fromEngine: (read, out) => {
      out.set(read(filter), 0);
      out.set(read(gate), d);
    },
    toEngine: (data, write) => {
      for (let o = 0; o < d; o++) {
        write(filter, o, data[o]!);
        write(gate, o, data[d + o]!);
      }
    },
  };
};

/** tfjs name → mapping, for every tensor the engine builds (trainable and BatchNorm running statistics) */
export function gwnTensorMappings(config: GraphWaveNetConfig, predefinedSupports: number): Map<string, Mapping> {
  const P = GWN_LAYER;
  const { inChannels: cin, residualChannels: r, dilationChannels: d, skipChannels: s, endChannels: e, horizons } = config;
  const mixed = (1 + config.order * (predefinedSupports + (config.adaptive ? 1 : 0))) * d;
  const map = new Map<string, Mapping>();
  map.set('start.weight', transposed(`${P}.start.weight`, cin, r));
  map.set('start.bias', same(`${P}.start.bias`));
  if (config.adaptive) {
    map.set('node_emb1', same(`${P}.node_emb1`));
    map.set('node_emb2', same(`${P}.node_emb2`));
  }
  const last = config.dilations.length - 1;
  config.dilations.forEach((_, i) => {
    const layer = `${P}.layers.${i}`;
    map.set(`layers.${i}.tcn.weight`, tcnWeight(`${layer}.tcn`, r, d));
    map.set(`layers.${i}.tcn.bias`, tcnBias(`${layer}.tcn`, d));
    map.set(`layers.${i}.skip.weight`, transposed(`${layer}.skip.weight`, d, s));
    map.set(`layers.${i}.skip.bias`, same(`${layer}.skip.bias`));
    if (i === last) return;
    map.set(`layers.${i}.gconv.weight`, transposed(`${layer}.gconv.mlp.weight`, mixed, r));
    map.set(`layers.${i}.gconv.bias`, same(`${layer}.gconv.mlp.bias`));
    for (const t of ['weight', 'bias', 'running_mean', 'running_var']) map.set(`layers.${i}.bn.${t}`, same(`${layer}.bn.${t}`));
  });
  map.set('end1.weight', transposed(`${P}.end1.weight`, s, e));
  map.set('end1.bias', same(`${P}.end1.bias`));
  map.set('end2.weight', transposed(`${P}.end2.weight`, e, horizons));
  map.set('end2.bias', same(`${P}.end2.bias`));
  return map;
}

/** an engine tensor by name: a parameter, a parameter's gradient (`grad`) or a state buffer */
export function engineTensor(model: Model, name: string, grad = false): Float32Array | Float64Array {
  const p = model.params.find((q) => q.name === name);
  if (p) return model.view(grad ? p.grad : p);
  const v = model.stateViews.find((q) => q.name === name);
  if (v && !grad) return model.view(v);
  throw new ModelevoError('TENSOR_NOT_FOUND', `the engine's Graph WaveNet has no ${grad ? 'gradient of ' : ''}'${name}'`, {
    hint: `parameters: ${model.params.map((q) => q.name).slice(0, 8).join(', ')}, …`,
  });
}

/** Copies every tensor the engine builds from `weights` (tfjs names and layouts); returns the names it skipped. */
export function setGwnWeights(model: Model, config: GraphWaveNetConfig, predefinedSupports: number, weights: GwnWeights): string[] {
  const mappings = gwnTensorMappings(config, predefinedSupports);
  for (const [name, mapping] of mappings) {
    const w = weights[name];
    if (!w) throw new ModelevoError('TENSOR_NOT_FOUND', `Graph WaveNet weights lack '${name}'`, { hint: 'pass a full set of weights (e.g. initialGwnWeights)' });
    const targets = new Map(mapping.engine.map((n) => [n, engineTensor(model, n)]));
    mapping.toEngine(w.data, (engineName, i, value) => {
      targets.get(engineName)![i] = value;
    });
  }
  return Object.keys(weights).filter((name) => !mappings.has(name));
}

/**
 * The engine's tensors in tfjs names and layouts (`grad`: their gradients instead; running statistics have
 * none and are left out). Tensors the engine does not build come from `rest` when given.
 */
export function getGwnWeights(model: Model, config: GraphWaveNetConfig, predefinedSupports: number, options: { grad?: boolean; rest?: GwnWeights } = {}): GwnWeights {
  const mappings = gwnTensorMappings(config, predefinedSupports);
  const out: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
  for (const spec of parameterSpecs(config, predefinedSupports)) {
    const mapping = mappings.get(spec.name);
    if (!mapping) {
      const kept = options.rest?.[spec.name];
      if (kept) out[spec.name] = { shape: kept.shape, data: Float32Array.from(kept.data) };
      continue;
    }
    if (options.grad && spec.name.includes('running_')) continue;
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    mapping.fromEngine((n) => engineTensor(model, n, options.grad), data);
    out[spec.name] = { shape: spec.shape, data };
  }
  return out;
}

/** Sets the fixed supports (P_f, P_b, each [N, N]) the model diffuses along. */
export function setGwnSupports(model: Model, supports: readonly ArrayLike<number>[]): void {
  const view = engineTensor(model, `${GWN_LAYER}.supports`);
  const nodes = Math.round(Math.sqrt(view.length / Math.max(1, supports.length)));
  if (supports.length * nodes * nodes !== view.length) {
    throw new ModelevoError('SHAPE_MISMATCH', `the model holds ${view.length} support values, got ${supports.length} supports`, { hint: 'pass the same number of supports the spec was built with' });
  }
  supports.forEach((s, i) => view.set(s, i * nodes * nodes));
}
