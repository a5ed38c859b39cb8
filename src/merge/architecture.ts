/**
 * Architecture descriptions as data (merge-methods.md §1.3 step 2; mergekit `_data/architectures/*.json`):
 * per `model_type`, where the per-layer tensors live (`model.layers.{i}.`), which non-layer tensors come
 * before the layers (embeddings) and which after (final norm, lm_head), the config key holding the layer
 * count, and which tensor stands in for a tied one. The per-layer tensor set itself is read from the donor
 * checkpoint, so biases (Qwen2) or extra norms need no listing here.
 */
import { ConfigError } from '../core/errors.js';

export interface ArchitectureData {
  readonly modelTypes: readonly string[];
  /** `{i}` marks the layer index */
  readonly layerPrefix: string;
  readonly numLayersKey: string;
  /** non-layer tensors merged from the first slice (t = 0) */
  readonly preLayerTensors: readonly string[];
  /** non-layer tensors merged from the last slice (t = 1); other non-layer tensors are treated the same */
  readonly postLayerTensors: readonly string[];
  /** tensor → stand-in when the model's config has `tie_word_embeddings: true` */
  readonly tiedTensors: Readonly<Record<string, string>>;
  /** 2-D tensors whose rows are vocabulary entries (rectified when shapes differ, §3.14) */
  readonly embeddingTensors: readonly string[];
  /** false for TENSOR_BY_TENSOR: no tensor belongs to a layer */
  readonly layered: boolean;
}

const DECODER_ONLY_LLAMA_LIKE: Omit<ArchitectureData, 'modelTypes'> = {
  layered: true,
  layerPrefix: 'model.layers.{i}.',
  numLayersKey: 'num_hidden_layers',
  preLayerTensors: ['model.embed_tokens.weight'],
  postLayerTensors: ['model.norm.weight', 'lm_head.weight'],
  tiedTensors: { 'lm_head.weight': 'model.embed_tokens.weight' },
  embeddingTensors: ['model.embed_tokens.weight', 'lm_head.weight'],
};

/** The literal architecture table; add a family by adding an entry. */
export const ARCHITECTURES: readonly ArchitectureData[] = [
  {
    ...DECODER_ONLY_LLAMA_LIKE,
    modelTypes: ['llama', 'mistral', 'mixtral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'phi3', 'olmo', 'olmo2', 'granite'],
  },
];

/**
 * Models without a layout description (no config.json or no `model_type`, e.g. a single .safetensors file such
 * as modelevo's conv autoencoders): every tensor is merged with the tensor of the same name, in the donor's
 * order. There are no layers, so neither `slices` nor gradients (lists interpolated across layers) apply.
 */
export const TENSOR_BY_TENSOR: ArchitectureData = {
  modelTypes: [],
  layerPrefix: '',
  numLayersKey: 'num_hidden_layers',
  preLayerTensors: [],
  postLayerTensors: [],
  tiedTensors: {},
  embeddingTensors: [],
  layered: false,
};

export function architectureFor(config: Record<string, unknown> | undefined, source: string): ArchitectureData {
  const modelType = config?.['model_type'];
  const known = ARCHITECTURES.flatMap((a) => a.modelTypes);
  if (typeof modelType !== 'string') {
    throw new ConfigError([{ path: ['model_type'], message: `config.json of '${source}' has no model_type` }], {
      hint: `the merge engine needs config.json with model_type (supported: ${known.join(', ')})`,
    });
  }
  const found = ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
  if (!found) {
    throw new ConfigError(
      [{ path: ['model_type'], message: `model_type '${modelType}' of '${source}' has no architecture description` }],
      { hint: `supported model types: ${known.join(', ')}; add an entry to ARCHITECTURES in src/merge/architecture.ts` },
    );
  }
  return found;
}

export interface ParsedTensorName {
  /** layer index for per-layer tensors, undefined otherwise */
  readonly layer: number | undefined;
  /** the part after the layer prefix (e.g. `self_attn.q_proj.weight`), or the whole name */
  readonly suffix: string;
}

function prefixParts(arch: ArchitectureData): [string, string] {
  const [head, tail] = arch.layerPrefix.split('{i}');
  return [head ?? '', tail ?? ''];
}

export function parseTensorName(arch: ArchitectureData, name: string): ParsedTensorName {
  if (!arch.layered) return { layer: undefined, suffix: name };
  const [head, tail] = prefixParts(arch);
  if (name.startsWith(head)) {
    const rest = name.slice(head.length);
    const match = /^(\d+)/.exec(rest);
    if (match && rest.slice(match[1]!.length).startsWith(tail)) {
      return { layer: Number(match[1]), suffix: rest.slice(match[1]!.length + tail.length) };
    }
  }
  return { layer: undefined, suffix: name };
}

export function layerTensorName(arch: ArchitectureData, layer: number, suffix: string): string {
  return arch.layerPrefix.replace('{i}', String(layer)) + suffix;
}

export function numLayersOf(arch: ArchitectureData, config: Record<string, unknown> | undefined): number | undefined {
  const value = config?.[arch.numLayersKey];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

export function isEmbeddingTensor(arch: ArchitectureData, name: string): boolean {
  return arch.embeddingTensors.includes(name);
}

export function hasTiedEmbeddings(config: Record<string, unknown> | undefined): boolean {
  return config?.['tie_word_embeddings'] === true;
}
