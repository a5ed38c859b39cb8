/**
 * A conv autoencoder plan (conv-autoencoder.ts) as a model of the training engine (src/nn), and the mapping
 * between the engine's parameter names and the PyTorch-layout names AD-NEv stores (`encoder.0.weight`,
 * `decoder.1.bn.running_var`, `fc_in.0.bias`, …), so weights move between `ModelWeights` and the arena
 * unchanged. Layers: encoder Conv1d → BatchNorm → ReLU; the FC bottleneck as linear+ReLU layers on the
 * flattened activation and a reshape back; decoder ConvTranspose1d → BatchNorm → ReLU, the last one linear.
 * A skip connection (encoder activation i − 1 added to the decoder activation mirroring encoder layer i) is a
 * residual block around everything from encoder layer i to its mirrored decoder layer: blocks nest, U-Net style.
 */
import { ModelevoError } from '../../core/errors.js';
import { Model, type ModelSpec } from '../../nn/model.js';
import type { LayerSpec } from '../../nn/layers/registry.js';
import type { OptimizerSpec } from '../../nn/optim/registry.js';
import type { AutoencoderPlan, ConvAutoencoderGenome, ModelWeights } from './conv-autoencoder.js';

export interface EngineNetwork {
  readonly spec: ModelSpec;
  /** engine parameter or state name → AD-NEv (PyTorch) name */
  readonly names: ReadonlyMap<string, string>;
}

const BN_TENSORS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

export function engineNetwork(plan: AutoencoderPlan, loss: ConvAutoencoderGenome['loss']): EngineNetwork {
  const names = new Map<string, string>();
  const depth = plan.encoder.length;
  /** appends a layer under `prefix` (the engine names nested layers `<block>.<index>.<kind>`) and returns its name */
  const add = (list: LayerSpec[], prefix: string, layer: LayerSpec, torch?: string, tensors: readonly string[] = ['weight', 'bias']): void => {
    const name = `${prefix}${list.length}.${layer.kind}`;
    list.push(layer);
    if (torch !== undefined) for (const t of tensors) names.set(`${name}.${t}`, `${torch}.${t}`);
  };
  const bottleneck = (list: LayerSpec[], prefix: string): void => {
    const fcLayers = plan.fcUnits.length - 1;
    if (fcLayers === 0) return;
    for (let k = 0; k < fcLayers; k++) add(list, prefix, { kind: 'linear', units: plan.fcUnits[k + 1]!, activation: 'relu' }, `fc_in.${k}`);
    for (let k = fcLayers - 1; k >= 0; k--) add(list, prefix, { kind: 'linear', units: plan.fcUnits[k]!, activation: 'relu' }, `fc_out.${k}`);
    const last = plan.encoder[depth - 1]!;
    add(list, prefix, { kind: 'reshape', shape: [last.channels, last.outLength] });
  };
  /** encoder layer i, everything inside it, and its mirrored decoder layer */
  const level = (list: LayerSpec[], prefix: string, i: number): void => {
    const e = plan.encoder[i]!;
    add(list, prefix, { kind: 'conv1d', channels: e.channels, kernel: e.kernel, stride: e.stride, padding: e.padding }, `encoder.${i}`);
    add(list, prefix, { kind: 'batch_norm' }, `encoder.${i}.bn`, BN_TENSORS);
    add(list, prefix, { kind: 'activation', fn: 'relu' });
    if (i + 1 < depth) nested(list, prefix, i + 1);
    else bottleneck(list, prefix);
    const j = depth - 1 - i;
    const d = plan.decoder[j]!;
    add(list, prefix, { kind: 'conv_transpose1d', channels: d.outChannels, kernel: d.kernel, stride: d.stride, padding: d.padding, outputPadding: d.outputPadding }, `decoder.${j}`);
    if (!d.last) {
      add(list, prefix, { kind: 'batch_norm' }, `decoder.${j}.bn`, BN_TENSORS);
      add(list, prefix, { kind: 'activation', fn: 'relu' });
    }
  };
  const nested = (list: LayerSpec[], prefix: string, i: number): void => {
    if (plan.decoder[depth - 1 - i]!.skipFrom === undefined) return level(list, prefix, i);
    const body: LayerSpec[] = [];
    level(body, `${prefix}${list.length}.residual.`, i);
    list.push({ kind: 'residual', layers: body });
  };
  const layers: LayerSpec[] = [];
  level(layers, '', 0);
  return { spec: { inputShape: [plan.window, plan.features], layers, loss: { kind: loss === 'l1' ? 'mae' : 'mse' } }, names };
}

export function optimizerOf(genome: ConvAutoencoderGenome): OptimizerSpec {
  return genome.optimizer === 'adam' ? { kind: 'adam' } : { kind: 'sgd' };
}

/**
 * Compiled models reused across jobs on this thread (least recently used first out). Why: a model's WASM
 * memory is only returned by a major garbage collection, and level 3 scores thousands of candidates of one
 * genome — a compile per job grew a thread's RSS by ~8 MB per job, to GBs between collections.
 */
const COMPILED_CACHE_SIZE = 4;
const compiled = new Map<string, Model>();

/** drops this thread's compiled models (tests compare a fresh compile with a reused one) */
export function clearCompiledNetworks(): void {
  compiled.clear();
}

/**
 * The network on the WASM kernels for `batch` windows with `weights` loaded and optimiser state zeroed: a
 * fresh compile or a cached one, indistinguishable (every other buffer is written before it is read).
 */
export function compileNetwork(network: EngineNetwork, batch: number, weights: ModelWeights, optimizer?: OptimizerSpec): Model {
  const key = `${batch}|${JSON.stringify(optimizer ?? null)}|${JSON.stringify(network.spec)}`;
  let model = compiled.get(key);
  if (model) {
    compiled.delete(key);
    const { start, end } = model.layout.regions.optimizer;
    model.kernels.data.fill(0, start, end);
  } else {
    model = Model.compile(network.spec, { batch, kernels: 'wasm', ...(optimizer ? { optimizer } : {}) });
    if (compiled.size >= COMPILED_CACHE_SIZE) compiled.delete(compiled.keys().next().value!);
  }
  compiled.set(key, model);
  loadWeights(model, network, weights);
  return model;
}

function tensorsOf(model: Model): { name: string; offset: number; size: number }[] {
  return [...model.params, ...model.stateViews];
}

export function loadWeights(model: Model, network: EngineNetwork, weights: ModelWeights): void {
  for (const view of tensorsOf(model)) {
    const torch = network.names.get(view.name);
    const value = torch === undefined ? undefined : weights[torch];
    if (!value) {
      throw new ModelevoError('TENSOR_NOT_FOUND', `conv autoencoder weights lack '${torch ?? view.name}'`, { hint: 'the weights belong to another genome or input width' });
    }
    if (value.data.length !== view.size) {
      throw new ModelevoError('SHAPE_MISMATCH', `conv autoencoder tensor '${torch}' has ${value.data.length} values, expected ${view.size}`, {
        hint: 'the weights belong to another genome or input width',
        details: { expected: view.size, actual: value.data.length },
      });
    }
    model.kernels.data.set(value.data, view.offset);
  }
}

/** A copy of the model's parameters and running statistics under their AD-NEv names, in PyTorch layout. */
export function exportWeights(model: Model, network: EngineNetwork): ModelWeights {
  const weights: ModelWeights = {};
  const shapes = new Map([...model.params, ...model.stateViews].map((v) => [v.name, v.shape]));
  for (const view of tensorsOf(model)) {
    const torch = network.names.get(view.name);
    if (torch === undefined) throw new ModelevoError('INTERNAL', `engine tensor '${view.name}' has no AD-NEv name`);
    weights[torch] = { shape: [...shapes.get(view.name)!], data: Float32Array.from(model.kernels.data.subarray(view.offset, view.offset + view.size)) };
  }
  return weights;
}
