import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, ModelevoError } from '../core/errors.js';
import { MemoryCheckpoint, type MemoryTensor } from '../io/memory-checkpoint.js';
import { expectedLlamaShapes, parseLlamaConfig } from './llama-config.js';
import { loadLlamaWeights } from './llama-weights.js';
import { TINY_LLAMA } from './test-fixtures.js';
import { configIssuesOf } from '../../test/support/errors.js';

const fixtureConfig = JSON.parse(readFileSync(join(TINY_LLAMA, 'base', 'config.json'), 'utf8')) as Record<string, unknown>;

describe('parseLlamaConfig', () => {
  it('reads the fixture config (transformers 5 rope_parameters)', () => {
    assert.deepEqual(parseLlamaConfig(fixtureConfig, 'base'), {
      vocabSize: 1024,
      hiddenSize: 128,
      numLayers: 4,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 32,
      intermediateSize: 352,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      maxPositions: 256,
      tieWordEmbeddings: false,
    });
  });

  it('falls back to top-level rope_theta, hidden/heads head_dim and kv heads = heads', () => {
    const { rope_parameters: _r, head_dim: _h, num_key_value_heads: _k, ...older } = fixtureConfig;
    const config = parseLlamaConfig({ ...older, rope_theta: 500000 }, 'old');
    assert.equal(config.ropeTheta, 500000);
    assert.equal(config.headDim, 32);
    assert.equal(config.numKvHeads, 4);
  });

  it('refuses another architecture, naming the key and the values', () => {
    const issues = configIssuesOf(() => parseLlamaConfig({ ...fixtureConfig, architectures: ['GPT2LMHeadModel'] }, 'gpt2'));
    assert.deepEqual(issues, [{ path: 'architectures', message: 'expected LlamaForCausalLM, got "GPT2LMHeadModel"' }]);
  });

  it('refuses a missing config, missing keys, scaled RoPE, biases and other activations', () => {
    assert.throws(() => parseLlamaConfig(undefined, 'x'), ConfigError);
    const { hidden_size: _h, ...noHidden } = fixtureConfig;
    assert.deepEqual(configIssuesOf(() => parseLlamaConfig(noHidden, 'x')).map((i) => i.path), ['hidden_size']);
    const scaled = { ...fixtureConfig, rope_parameters: { rope_theta: 10000, rope_type: 'llama3' } };
    assert.match(configIssuesOf(() => parseLlamaConfig(scaled, 'x'))[0]!.message, /expected 'default' RoPE, got 'llama3'/);
    const biased = { ...fixtureConfig, attention_bias: true, hidden_act: 'gelu' };
    assert.deepEqual(configIssuesOf(() => parseLlamaConfig(biased, 'x')).map((i) => i.path).sort(), ['attention_bias', 'hidden_act']);
    const badGroups = { ...fixtureConfig, num_key_value_heads: 3 };
    assert.match(configIssuesOf(() => parseLlamaConfig(badGroups, 'x'))[0]!.message, /divisor of num_attention_heads \(4\), got 3/);
  });
});

describe('loadLlamaWeights checks', () => {
  const small = { ...fixtureConfig, vocab_size: 8, hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 2, intermediate_size: 6 };
  const config = parseLlamaConfig(small, 'small');
  const full = Object.fromEntries(
    [...expectedLlamaShapes(config, true)].map(([name, shape]) => [name, { shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]),
  );

  it('loads a complete checkpoint', () => {
    const weights = loadLlamaWeights(MemoryCheckpoint.fromFloat32(full, { config: small }));
    assert.equal(weights.layers.length, 1);
    assert.equal(weights.lmHead.length, 32);
  });

  it('names missing tensors (TENSOR_NOT_FOUND)', () => {
    const { ['model.layers.0.mlp.up_proj.weight']: _dropped, ...partial } = full;
    assert.throws(
      () => loadLlamaWeights(MemoryCheckpoint.fromFloat32(partial, { source: 'partial', config: small })),
      (error: unknown) =>
        error instanceof ModelevoError &&
        error.code === 'TENSOR_NOT_FOUND' &&
        error.message.includes('model.layers.0.mlp.up_proj.weight') &&
        error.message.includes('partial'),
    );
  });

  it('reports a shape that disagrees with config.json (SHAPE_MISMATCH)', () => {
    const wrong = { ...full, 'model.layers.0.self_attn.k_proj.weight': { shape: [4, 4], values: new Float32Array(16) } };
    assert.throws(
      () => loadLlamaWeights(MemoryCheckpoint.fromFloat32(wrong, { source: 'wrong', config: small })),
      (error: unknown) =>
        error instanceof ModelevoError && error.code === 'SHAPE_MISMATCH' && /k_proj.*config\.json: \[2, 4\]; wrong: \[4, 4\]/.test(error.message),
    );
  });

  it('refuses integer weights (DTYPE_UNSUPPORTED)', () => {
    const tensors = new Map<string, MemoryTensor>(
      Object.entries(full).map(([name, t]) => [name, { dtype: 'F32', shape: t.shape, data: new Uint8Array(t.values.buffer) }]),
    );
    tensors.set('model.norm.weight', { dtype: 'I32', shape: [4], data: new Uint8Array(16) });
    assert.throws(
      () => loadLlamaWeights(new MemoryCheckpoint(tensors, { config: small })),
      (error: unknown) => error instanceof ModelevoError && error.code === 'DTYPE_UNSUPPORTED' && error.message.includes('model.norm.weight'),
    );
  });
});
