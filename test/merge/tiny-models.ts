/** Small synthetic llama-shaped checkpoints for merge-engine tests (values traceable to model and position). */
import type { Checkpoint, TensorInfo } from '../../src/io/checkpoint.js';
import { MemoryCheckpoint } from '../../src/io/memory-checkpoint.js';

export interface TinyModelOptions {
  readonly layers?: number;
  readonly vocab?: number;
  readonly skip?: string;
  readonly qShape?: number[];
  /** tensor name → flat index that is set to this value (NaN/Inf injection) */
  readonly poison?: { tensor: string; index: number; value: number };
}

export const TINY_SUFFIXES = ['self_attn.q_proj.weight', 'mlp.down_proj.weight', 'input_layernorm.weight'];

export function tinyModel(id: number, options: TinyModelOptions = {}): MemoryCheckpoint {
  const layers = options.layers ?? 4;
  const vocab = options.vocab ?? 6;
  const tensors: Record<string, { shape: number[]; values: number[] }> = {};
  let counter = 0;
  const add = (name: string, shape: number[]): void => {
    counter++;
    if (name === options.skip) return;
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => Math.sin(id * 7.1 + counter * 1.3 + i * 0.37) * (1 + id / 10));
    if (options.poison?.tensor === name) values[options.poison.index] = options.poison.value;
    tensors[name] = { shape, values };
  };
  add('model.embed_tokens.weight', [vocab, 4]);
  for (let l = 0; l < layers; l++) {
    add(`model.layers.${l}.self_attn.q_proj.weight`, options.qShape ?? [4, 4]);
    add(`model.layers.${l}.mlp.down_proj.weight`, [4, 6]);
    add(`model.layers.${l}.input_layernorm.weight`, [4]);
  }
  add('model.norm.weight', [4]);
  add('lm_head.weight', [vocab, 4]);
  return MemoryCheckpoint.fromFloat32(tensors, {
    source: `tiny-${id}`,
    config: { model_type: 'llama', num_hidden_layers: layers, tie_word_embeddings: false, dtype: 'float32' },
  });
}

/** Wraps a checkpoint so that reading `tensor` throws (an I/O failure in the middle of a merge). */
export function failingOn(inner: Checkpoint, tensor: string): Checkpoint {
  return {
    source: inner.source,
    config: inner.config,
    names: () => inner.names(),
    has: (name) => inner.has(name),
    info: (name): TensorInfo => inner.info(name),
    readBytes: (name) => {
      if (name === tensor) throw new Error(`injected read failure on ${name}`);
      return inner.readBytes(name);
    },
    readFloat32: (name) => {
      if (name === tensor) throw new Error(`injected read failure on ${name}`);
      return inner.readFloat32(name);
    },
    close: () => inner.close(),
  };
}
