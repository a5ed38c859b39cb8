/**
 * Reads a Llama checkpoint (formats.md §3 tensor names) through the lazy `Checkpoint` interface into float32
 * arrays, checking every tensor the forward pass needs for presence, float dtype and shape first, so a wrong
 * model fails with one clear error before any math runs.
 */
import { isFloatDType } from '../core/dtype.js';
import { CheckpointError, ShapeMismatchError } from '../core/errors.js';
import type { Checkpoint } from '../io/checkpoint.js';
import {
  EMBED_TOKENS,
  FINAL_NORM,
  LM_HEAD,
  expectedLlamaShapes,
  llamaLayerTensorNames,
  parseLlamaConfig,
  usesTiedLmHead,
  type LlamaConfig,
} from './llama-config.js';

/** Float32 weights of one decoder layer, linear layers stored `[out, in]` row-major as in the checkpoint. */
export interface LlamaLayerWeights {
  readonly inputNorm: Float32Array;
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly o: Float32Array;
  readonly postNorm: Float32Array;
  readonly gate: Float32Array;
  readonly up: Float32Array;
  readonly down: Float32Array;
}

/** Plain data (structured-clone safe), so weights can be posted to worker threads. */
export interface LlamaWeights {
  readonly config: LlamaConfig;
  readonly embed: Float32Array;
  readonly layers: readonly LlamaLayerWeights[];
  readonly finalNorm: Float32Array;
  /** `[vocab, hidden]`; the same array as `embed` when tied */
  readonly lmHead: Float32Array;
}

/**
 * Validates and reads every weight. The config comes from `checkpoint.config` unless given (in-memory merge
 * candidates usually carry their base's config).
 */
export function loadLlamaWeights(checkpoint: Checkpoint, config?: LlamaConfig): LlamaWeights {
  const llama = config ?? parseLlamaConfig(checkpoint.config, checkpoint.source);
  const lmHeadPresent = checkpoint.has(LM_HEAD);
  const expected = expectedLlamaShapes(llama, lmHeadPresent);
  checkTensors(checkpoint, expected);
  const read = (name: string): Float32Array => checkpoint.readFloat32(name);
  const embed = read(EMBED_TOKENS);
  const layers: LlamaLayerWeights[] = [];
  for (let layer = 0; layer < llama.numLayers; layer++) {
    const names = llamaLayerTensorNames(layer);
    layers.push({
      inputNorm: read(names.inputNorm),
      q: read(names.q),
      k: read(names.k),
      v: read(names.v),
      o: read(names.o),
      postNorm: read(names.postNorm),
      gate: read(names.gate),
      up: read(names.up),
      down: read(names.down),
    });
  }
  const finalNorm = read(FINAL_NORM);
  const lmHead = usesTiedLmHead(llama, lmHeadPresent) ? embed : read(LM_HEAD);
  return { config: llama, embed, layers, finalNorm, lmHead };
}

function checkTensors(checkpoint: Checkpoint, expected: ReadonlyMap<string, readonly number[]>): void {
  const missing = [...expected.keys()].filter((name) => !checkpoint.has(name));
  if (missing.length > 0) {
    const listed = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length} in all)` : '');
    throw new CheckpointError(`missing ${missing.length} tensor(s) the Llama forward pass needs: ${listed}`, {
      code: 'TENSOR_NOT_FOUND',
      file: checkpoint.source,
      tensor: missing[0],
      hint: 'the checkpoint must hold every Llama tensor named in docs/formats.md §3; check that it is a complete LlamaForCausalLM (not an adapter or a slice)',
      details: { missing },
    });
  }
  for (const [name, shape] of expected) {
    const info = checkpoint.info(name);
    if (!isFloatDType(info.dtype)) {
      throw new CheckpointError(`expected a float dtype (F32, F16, BF16, F64), got ${info.dtype}`, {
        code: 'DTYPE_UNSUPPORTED',
        file: checkpoint.source,
        tensor: name,
        hint: 'quantised or integer weights cannot be evaluated; dequantise the model first',
      });
    }
    const same = info.shape.length === shape.length && info.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new ShapeMismatchError(name, { 'config.json': shape, [checkpoint.source]: info.shape }, {
        hint: 'the tensor shapes disagree with config.json; check that config.json belongs to these weights',
      });
    }
  }
}
