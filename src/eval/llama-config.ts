/**
 * Llama architecture description for the built-in evaluator: reads the `config.json` keys of formats.md §3
 * (LlamaForCausalLM, transformers ≥ 5 and earlier spellings) and the tensor names and shapes they imply.
 * Anything the evaluator cannot run faithfully (other architectures, biases, scaled RoPE variants, other
 * activations) is refused here with a ConfigError naming the key, rather than evaluated wrongly.
 */
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import { parseWithSchema } from '../core/schema.js';

export interface LlamaConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
}

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM'] as const;

const positiveInt = z.number().int().positive();

const RawLlamaConfigSchema = z.object({
  architectures: z.array(z.string()).optional(),
  model_type: z.string().optional(),
  vocab_size: positiveInt,
  hidden_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional(),
  head_dim: positiveInt.nullish(),
  intermediate_size: positiveInt,
  rms_norm_eps: z.number().positive().default(1e-6),
  max_position_embeddings: positiveInt,
  tie_word_embeddings: z.boolean().default(false),
  rope_theta: z.number().positive().optional(),
  rope_parameters: z
    .object({ rope_theta: z.number().positive().optional(), rope_type: z.string().optional() })
    .passthrough()
    .nullish(),
  rope_scaling: z.object({ rope_type: z.string().optional(), type: z.string().optional() }).passthrough().nullish(),
  hidden_act: z.string().default('silu'),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
});

/**
 * Validates a parsed config.json and returns the numbers the forward pass needs. `source` names the model in
 * error messages.
 */
export function parseLlamaConfig(config: Record<string, unknown> | undefined, source: string): LlamaConfig {
  if (config === undefined) {
    throw new ConfigError([{ path: [], message: 'no config.json: the evaluator needs the architecture keys' }], {
      source,
      hint: 'evaluate a Hugging Face model folder (with config.json), or pass the config to an in-memory checkpoint',
    });
  }
  const architectureIssue = checkArchitecture(config);
  if (architectureIssue) {
    throw new ConfigError([architectureIssue], {
      source,
      hint: `the built-in evaluator runs ${SUPPORTED_ARCHITECTURES.join(', ')} only; evaluate other models with their own framework`,
    });
  }
  const raw = parseWithSchema(
    RawLlamaConfigSchema,
    config,
    source,
    'config.json must carry the Llama keys listed in docs/formats.md §3 with positive integer sizes',
  );
  const issues: ConfigIssue[] = [];
  const numKvHeads = raw.num_key_value_heads ?? raw.num_attention_heads;
  const headDim = raw.head_dim ?? raw.hidden_size / raw.num_attention_heads;
  if (!Number.isInteger(headDim)) {
    issues.push({
      path: ['hidden_size'],
      message: `expected hidden_size (${raw.hidden_size}) divisible by num_attention_heads (${raw.num_attention_heads}) when head_dim is absent`,
    });
  }
  if (raw.num_attention_heads % numKvHeads !== 0) {
    issues.push({
      path: ['num_key_value_heads'],
      message: `expected a divisor of num_attention_heads (${raw.num_attention_heads}), got ${numKvHeads}`,
    });
  }
  if (headDim % 2 !== 0) issues.push({ path: ['head_dim'], message: `expected an even head_dim for RoPE, got ${headDim}` });
  const ropeType = raw.rope_parameters?.rope_type ?? raw.rope_scaling?.rope_type ?? raw.rope_scaling?.type ?? 'default';
  if (ropeType !== 'default') {
    issues.push({
      path: [raw.rope_parameters?.rope_type !== undefined ? 'rope_parameters' : 'rope_scaling', 'rope_type'],
      message: `expected 'default' RoPE, got '${ropeType}' (scaled RoPE variants are not implemented)`,
    });
  }
  if (raw.hidden_act !== 'silu') issues.push({ path: ['hidden_act'], message: `expected 'silu', got '${raw.hidden_act}'` });
  if (raw.attention_bias) issues.push({ path: ['attention_bias'], message: 'expected false (biases are not implemented), got true' });
  if (raw.mlp_bias) issues.push({ path: ['mlp_bias'], message: 'expected false (biases are not implemented), got true' });
  if (issues.length > 0) {
    throw new ConfigError(issues, { source, hint: 'the built-in evaluator implements the plain Llama architecture only' });
  }
  return {
    vocabSize: raw.vocab_size,
    hiddenSize: raw.hidden_size,
    numLayers: raw.num_hidden_layers,
    numHeads: raw.num_attention_heads,
    numKvHeads,
    headDim,
    intermediateSize: raw.intermediate_size,
    rmsNormEps: raw.rms_norm_eps,
    ropeTheta: raw.rope_parameters?.rope_theta ?? raw.rope_theta ?? 10000,
    maxPositions: raw.max_position_embeddings,
    tieWordEmbeddings: raw.tie_word_embeddings,
  };
}

function checkArchitecture(config: Record<string, unknown>): ConfigIssue | undefined {
  const architectures = config['architectures'];
  if (Array.isArray(architectures) && architectures.length > 0) {
    const supported = architectures.some((a) => (SUPPORTED_ARCHITECTURES as readonly unknown[]).includes(a));
    return supported
      ? undefined
      : {
          path: ['architectures'],
          message: `expected ${SUPPORTED_ARCHITECTURES.join(' or ')}, got ${architectures.map((a) => JSON.stringify(a)).join(', ')}`,
        };
  }
  const modelType = config['model_type'];
  if (modelType === 'llama') return undefined;
  return {
    path: ['model_type'],
    message: `expected 'llama' (no 'architectures' list), got ${modelType === undefined ? 'nothing' : JSON.stringify(modelType)}`,
  };
}

/** Tensor names of one decoder layer, in HF Llama naming. */
export function llamaLayerTensorNames(layer: number) {
  const prefix = `model.layers.${layer}`;
  return {
    inputNorm: `${prefix}.input_layernorm.weight`,
    q: `${prefix}.self_attn.q_proj.weight`,
    k: `${prefix}.self_attn.k_proj.weight`,
    v: `${prefix}.self_attn.v_proj.weight`,
    o: `${prefix}.self_attn.o_proj.weight`,
    postNorm: `${prefix}.post_attention_layernorm.weight`,
    gate: `${prefix}.mlp.gate_proj.weight`,
    up: `${prefix}.mlp.up_proj.weight`,
    down: `${prefix}.mlp.down_proj.weight`,
  } as const;
}

export const EMBED_TOKENS = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

/**
 * Whether the output projection is `lm_head.weight` or the token embedding: tied when the config says so (as
 * transformers ties them regardless of the file) or when the checkpoint has no lm_head (merge outputs of tied
 * models drop it).
 */
export function usesTiedLmHead(config: LlamaConfig, lmHeadPresent: boolean): boolean {
  return config.tieWordEmbeddings || !lmHeadPresent;
}

/** Every tensor the forward pass reads, with its expected `[out, in]` shape. */
export function expectedLlamaShapes(config: LlamaConfig, lmHeadPresent: boolean): Map<string, readonly number[]> {
  const { vocabSize: v, hiddenSize: d, headDim: hd, numHeads: h, numKvHeads: kv, intermediateSize: m } = config;
  const shapes = new Map<string, readonly number[]>([[EMBED_TOKENS, [v, d]]]);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const names = llamaLayerTensorNames(layer);
    shapes.set(names.inputNorm, [d]);
    shapes.set(names.q, [h * hd, d]);
    shapes.set(names.k, [kv * hd, d]);
    shapes.set(names.v, [kv * hd, d]);
    shapes.set(names.o, [d, h * hd]);
    shapes.set(names.postNorm, [d]);
    shapes.set(names.gate, [m, d]);
    shapes.set(names.up, [m, d]);
    shapes.set(names.down, [d, m]);
  }
  shapes.set(FINAL_NORM, [d]);
  if (!usesTiedLmHead(config, lmHeadPresent)) shapes.set(LM_HEAD, [v, d]);
  return shapes;
}
